// 2.6 reader: thin C edge over loon::Reader.
#include <arrow/c/bridge.h>
#include <arrow/record_batch.h>

#include <cstdlib>
#include <cstring>

#include "common/column_groups.h"
#include "common/properties.h"
#include "common/status.h"
#include "fiu/fault.h"
#include "milvus-storage/ffi_c.h"
#include "milvus-storage/ffi_fiu.h"
#include "reader/reader.h"

namespace {

using ReaderPtr = std::shared_ptr<loon::Reader>;

loon::Reader* AsReader(LoonReaderHandle h) { return reinterpret_cast<ReaderPtr*>(h)->get(); }

std::vector<std::string> Names(const char* const* names, size_t n) {
  std::vector<std::string> out;
  if (names == nullptr) return out;
  for (size_t i = 0; i < n; ++i) {
    if (names[i] != nullptr) out.emplace_back(names[i]);
  }
  return out;
}

}  // namespace

namespace loon {

// Exports batches into a malloc'ed ArrowArray array (freed by loon_free_chunk_arrays).
arrow::Status ExportBatches(const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
                            const std::shared_ptr<arrow::Schema>& schema, struct ArrowArray** out_arrays,
                            size_t* num_arrays, struct ArrowSchema* out_schema) {
  auto* arrays = static_cast<struct ArrowArray*>(std::calloc(std::max<size_t>(1, batches.size()), sizeof(ArrowArray)));
  if (arrays == nullptr) return arrow::Status::OutOfMemory("cannot allocate result arrays");
  for (size_t i = 0; i < batches.size(); ++i) {
    auto st = arrow::ExportRecordBatch(*batches[i], &arrays[i]);
    if (!st.ok()) {
      for (size_t j = 0; j < i; ++j) arrays[j].release(&arrays[j]);
      std::free(arrays);
      return st;
    }
  }
  if (out_schema != nullptr) {
    auto st = arrow::ExportSchema(*schema, out_schema);
    if (!st.ok()) {
      for (size_t j = 0; j < batches.size(); ++j) arrays[j].release(&arrays[j]);
      std::free(arrays);
      return st;
    }
  }
  *out_arrays = arrays;
  *num_arrays = batches.size();
  return arrow::Status::OK();
}

}  // namespace loon

extern "C" {

LoonFFIResult loon_reader_new(const LoonColumnGroups* column_groups, struct ArrowSchema* schema,
                              const char* const* needed_columns, size_t num_columns, const LoonProperties* properties,
                              LoonReaderHandle* out_handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(column_groups != nullptr, "column_groups is NULL");
    LOON_REQUIRE_ARG(schema != nullptr, "schema is NULL");
    LOON_REQUIRE_ARG(properties != nullptr, "properties is NULL");
    LOON_REQUIRE_ARG(out_handle != nullptr, "out_handle is NULL");
    auto props = loon::Properties::FromC(properties);
    if (!props.ok()) return loon::ToFFIResult(props.status(), loon::kInvalidProperties);
    auto fault = loon::fault::CheckCoded(loon_fiukey_reader_open_fail, loon::kFaultInject);
    if (!fault.ok()) return loon::ToFFIResult(fault, loon::kFaultInject);
    auto groups = loon::ColumnGroupsFromC(*column_groups);
    if (!groups.ok()) return loon::ToFFIResult(groups.status(), loon::kLogical);
    auto imported = arrow::ImportSchema(schema);
    if (!imported.ok()) return loon::ToFFIResult(imported.status(), loon::kArrow);
    auto reader = loon::Reader::Make(std::move(*groups), *imported, Names(needed_columns, num_columns),
                                     std::move(*props));
    if (!reader.ok()) return loon::ToFFIResult(reader.status(), loon::kArrow);
    *out_handle = reinterpret_cast<LoonReaderHandle>(new ReaderPtr(std::move(*reader)));
    return loon::FFISuccess();
  })
}

void loon_reader_set_keyretriever(LoonReaderHandle reader, const char* (*key_retriever)(const char* metadata)) {
  if (reader == 0 || key_retriever == nullptr) return;
  AsReader(reader)->SetKeyRetriever(key_retriever);
}

LoonFFIResult loon_get_record_batch_reader(LoonReaderHandle reader, const char* predicate,
                                           struct ArrowArrayStream* out_array_stream) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(reader != 0, "reader handle is 0");
    LOON_REQUIRE_ARG(out_array_stream != nullptr, "out_array_stream is NULL");
    auto stream = AsReader(reader)->Scan(predicate != nullptr ? predicate : "");
    if (!stream.ok()) return loon::ToFFIResult(stream.status(), loon::kArrow);
    return loon::ToFFIResult(arrow::ExportRecordBatchReader(*stream, out_array_stream), loon::kArrow);
  })
}

LoonFFIResult loon_get_chunk_reader(LoonReaderHandle reader, int64_t column_group_id, const char* const* needed_columns,
                                    size_t num_columns, LoonChunkReaderHandle* out_handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(reader != 0, "reader handle is 0");
    LOON_REQUIRE_ARG(out_handle != nullptr, "out_handle is NULL");
    auto chunk_reader = AsReader(reader)->GetChunkReader(column_group_id, Names(needed_columns, num_columns));
    if (!chunk_reader.ok()) return loon::ToFFIResult(chunk_reader.status(), loon::kArrow);
    *out_handle = reinterpret_cast<LoonChunkReaderHandle>(chunk_reader->release());
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_take(LoonReaderHandle reader, const int64_t* row_indices, size_t num_indices, size_t parallelism,
                        const char* const* needed_columns, size_t num_columns, struct ArrowArray** out_arrays,
                        size_t* num_arrays, struct ArrowSchema* out_schema) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(reader != 0, "reader handle is 0");
    LOON_REQUIRE_ARG(row_indices != nullptr && num_indices > 0, "row_indices is empty");
    LOON_REQUIRE_ARG(parallelism > 0, "parallelism is 0");
    LOON_REQUIRE_ARG(out_arrays != nullptr && num_arrays != nullptr, "outputs are NULL");
    loon::Reader* r = AsReader(reader);
    std::vector<std::string> names = Names(needed_columns, num_columns);
    std::vector<int64_t> rows(row_indices, row_indices + num_indices);
    auto batches = r->Take(rows, parallelism, names);
    if (!batches.ok()) return loon::ToFFIResult(batches.status(), loon::kArrow);
    auto schema = r->ProjectedSchema(names.empty() ? r->projection() : names);
    if (!schema.ok()) return loon::ToFFIResult(schema.status(), loon::kArrow);
    return loon::ToFFIResult(loon::ExportBatches(*batches, *schema, out_arrays, num_arrays, out_schema), loon::kArrow);
  })
}

void loon_reader_destroy(LoonReaderHandle reader) {
  try {
    delete reinterpret_cast<ReaderPtr*>(reader);
  } catch (...) {
  }
}

}  // extern "C"
