// 2.7 chunk reader: thin C edge over loon::ChunkReader.
#include <arrow/c/bridge.h>
#include <arrow/record_batch.h>

#include <cstdlib>
#include <cstring>

#include "common/status.h"
#include "fiu/fault.h"
#include "milvus-storage/ffi_c.h"
#include "milvus-storage/ffi_fiu.h"
#include "reader/reader.h"

namespace loon {
arrow::Status ExportBatches(const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
                            const std::shared_ptr<arrow::Schema>& schema, struct ArrowArray** out_arrays,
                            size_t* num_arrays, struct ArrowSchema* out_schema);
}  // namespace loon

namespace {
loon::ChunkReader* AsChunkReader(LoonChunkReaderHandle h) { return reinterpret_cast<loon::ChunkReader*>(h); }
}  // namespace

extern "C" {

LoonFFIResult loon_get_number_of_chunks(LoonChunkReaderHandle chunk_reader, uint64_t* out_number_of_chunks) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(chunk_reader != 0, "chunk reader handle is 0");
    LOON_REQUIRE_ARG(out_number_of_chunks != nullptr, "out_number_of_chunks is NULL");
    *out_number_of_chunks = AsChunkReader(chunk_reader)->NumChunks();
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_get_chunk_metadatas(LoonChunkReaderHandle reader, uint32_t metadata_type,
                                       LoonChunkMetadatas* out_chunk_metadata) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(reader != 0, "chunk reader handle is 0");
    LOON_REQUIRE_ARG(out_chunk_metadata != nullptr, "out_chunk_metadata is NULL");
    std::vector<uint32_t> kinds;
    if (metadata_type & LOON_CHUNK_METADATA_ESTIMATED_MEMORY) kinds.push_back(LOON_CHUNK_METADATA_ESTIMATED_MEMORY);
    if (metadata_type & LOON_CHUNK_METADATA_NUMOFROWS) kinds.push_back(LOON_CHUNK_METADATA_NUMOFROWS);
    LOON_REQUIRE_ARG(!kinds.empty(), "metadata_type has no valid bit");
    const auto& layout = AsChunkReader(reader)->layout();
    const auto& chunks = layout.chunks;
    // Estimates of Vortex/Lance chunks (read through a format provider) can be made to fail.
    if (layout.provider && (metadata_type & LOON_CHUNK_METADATA_ESTIMATED_MEMORY)) {
      auto st = loon::fault::Check(loon_fiukey_memory_size_estimation_fail);
      if (!st.ok()) return loon::ToFFIResult(st, loon::kArrow);
    }
    auto* entries = static_cast<LoonChunkMetadata*>(std::calloc(kinds.size(), sizeof(LoonChunkMetadata)));
    if (entries == nullptr) throw std::bad_alloc();
    for (size_t k = 0; k < kinds.size(); ++k) {
      entries[k].metadata_type = kinds[k];
      entries[k].number_of_chunks = chunks.size();
      entries[k].data = static_cast<decltype(entries[k].data)>(std::calloc(std::max<size_t>(1, chunks.size()), 8));
      if (entries[k].data == nullptr) {
        for (size_t j = 0; j < k; ++j) std::free(entries[j].data);
        std::free(entries);
        throw std::bad_alloc();
      }
      for (size_t c = 0; c < chunks.size(); ++c) {
        if (kinds[k] == LOON_CHUNK_METADATA_ESTIMATED_MEMORY) {
          entries[k].data[c].estimated_memsz = static_cast<uint64_t>(chunks[c].memory);
        } else {
          entries[k].data[c].number_of_rows = static_cast<uint64_t>(chunks[c].rows);
        }
      }
    }
    out_chunk_metadata->metadatas = entries;
    out_chunk_metadata->metadatas_size = static_cast<uint8_t>(kinds.size());
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_get_chunk_indices(LoonChunkReaderHandle reader, const int64_t* row_indices, size_t num_indices,
                                     int64_t** chunk_indices, size_t* num_chunk_indices) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(reader != 0, "chunk reader handle is 0");
    LOON_REQUIRE_ARG(row_indices != nullptr && num_indices > 0, "row_indices is empty");
    LOON_REQUIRE_ARG(chunk_indices != nullptr && num_chunk_indices != nullptr, "outputs are NULL");
    auto indices = AsChunkReader(reader)->ChunkIndices(row_indices, num_indices);
    if (!indices.ok()) return loon::ToFFIResult(indices.status(), loon::kArrow);
    auto* out = static_cast<int64_t*>(std::malloc(std::max<size_t>(1, indices->size()) * sizeof(int64_t)));
    if (out == nullptr) throw std::bad_alloc();
    std::memcpy(out, indices->data(), indices->size() * sizeof(int64_t));
    *chunk_indices = out;
    *num_chunk_indices = indices->size();
    return loon::FFISuccess();
  })
}

void loon_free_chunk_indices(int64_t* chunk_indices) { std::free(chunk_indices); }

LoonFFIResult loon_get_chunk(LoonChunkReaderHandle reader, int64_t chunk_index, struct ArrowArray* out_array,
                             struct ArrowSchema* out_schema) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(reader != 0, "chunk reader handle is 0");
    LOON_REQUIRE_ARG(out_array != nullptr, "out_array is NULL");
    auto fault = loon::fault::CheckCoded(loon_fiukey_chunk_reader_read_fail, loon::kFaultInject);
    if (!fault.ok()) return loon::ToFFIResult(fault, loon::kFaultInject);
    loon::ChunkReader* r = AsChunkReader(reader);
    auto batch = r->GetChunk(chunk_index);
    if (!batch.ok()) return loon::ToFFIResult(batch.status(), loon::kArrow);
    if (out_schema != nullptr) {
      auto st = arrow::ExportSchema(*(*batch)->schema(), out_schema);
      if (!st.ok()) return loon::ToFFIResult(st, loon::kArrow);
    }
    auto st = arrow::ExportRecordBatch(**batch, out_array);
    if (!st.ok() && out_schema != nullptr && out_schema->release != nullptr) out_schema->release(out_schema);
    return loon::ToFFIResult(st, loon::kArrow);
  })
}

LoonFFIResult loon_get_chunks(LoonChunkReaderHandle reader, const int64_t* chunk_indices, size_t num_indices,
                              size_t parallelism, struct ArrowArray** arrays, size_t* num_arrays,
                              struct ArrowSchema* out_schema) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(reader != 0, "chunk reader handle is 0");
    LOON_REQUIRE_ARG(chunk_indices != nullptr && num_indices > 0, "chunk_indices is empty");
    LOON_REQUIRE_ARG(parallelism > 0, "parallelism is 0");
    LOON_REQUIRE_ARG(arrays != nullptr && num_arrays != nullptr, "outputs are NULL");
    loon::ChunkReader* r = AsChunkReader(reader);
    auto batches = r->GetChunks(chunk_indices, num_indices, parallelism);
    if (!batches.ok()) return loon::ToFFIResult(batches.status(), loon::kArrow);
    auto schema = batches->empty() ? r->schema() : (*batches)[0]->schema();
    return loon::ToFFIResult(loon::ExportBatches(*batches, schema, arrays, num_arrays, out_schema), loon::kArrow);
  })
}

void loon_free_chunk_arrays(struct ArrowArray* arrays, size_t num_arrays) {
  if (arrays == nullptr) return;
  for (size_t i = 0; i < num_arrays; ++i) {
    if (arrays[i].release != nullptr) arrays[i].release(&arrays[i]);
  }
  std::free(arrays);
}

void loon_free_chunk_metadatas(LoonChunkMetadatas* chunk_metadata) {
  if (chunk_metadata == nullptr) return;
  for (uint8_t i = 0; chunk_metadata->metadatas != nullptr && i < chunk_metadata->metadatas_size; ++i) {
    std::free(chunk_metadata->metadatas[i].data);
  }
  std::free(chunk_metadata->metadatas);
  chunk_metadata->metadatas = nullptr;
  chunk_metadata->metadatas_size = 0;
}

void loon_chunk_reader_destroy(LoonChunkReaderHandle reader) {
  try {
    delete AsChunkReader(reader);
  } catch (...) {
  }
}

}  // extern "C"
