// Chunk reader through the C ABI: chunk numbering, metadata, indices, reads, errors.
#include <cstring>

#include "data_test_util.h"
#include "milvus-storage/ffi_fiu.h"

static std::string g_root;
static std::map<std::string, std::string> Base() { return {{"fs.storage_type", "local"}, {"fs.root_path", g_root}}; }

int main() {
  g_root = TestRoot("chunk");
  Props props(Base());
  // Two files (flush + tiny rolling size), each with several ~1 MiB row groups.
  Props wprops(With(Base(), {{"writer.file_rolling.size", "1"}}));
  LoonWriterHandle w = NewWriter("ds/chunks", TestSchema(), wprops);
  CHECK_EQ(WriteBatch(w, TestBatch(0, 60000)), 0);
  CHECK_OK(loon_writer_flush(w));
  CHECK_EQ(WriteBatch(w, TestBatch(60000, 30000)), 0);
  LoonColumnGroups* groups = CloseWriter(w);
  CHECK_EQ(groups->column_group_array[0].num_of_files, 2u);
  // Cut the first file's range to [100, 59000): partial first and last chunks.
  groups->column_group_array[0].files[0].start_index = 100;
  groups->column_group_array[0].files[0].end_index = 59000;
  const int64_t total = 58900 + 30000;

  LoonReaderHandle r = NewReader(groups, TestSchema(), props, {"name", "id"});
  LoonChunkReaderHandle cr = 0;
  CHECK_CODE(loon_get_chunk_reader(r, 1, nullptr, 0, &cr), 3);
  const char* vec_only[] = {"vec"};
  CHECK_CODE(loon_get_chunk_reader(r, 0, nullptr, 0, nullptr), 1);
  CHECK_OK(loon_get_chunk_reader(r, 0, vec_only, 1, &cr));
  loon_chunk_reader_destroy(cr);
  const char* absent[] = {"extra"};
  CHECK_CODE(loon_get_chunk_reader(r, 0, absent, 1, &cr), 3);
  CHECK_OK(loon_get_chunk_reader(r, 0, nullptr, 0, &cr));
  loon_reader_destroy(r);  // chunk reader stays valid

  uint64_t n = 0;
  CHECK_OK(loon_get_number_of_chunks(cr, &n));
  CHECK(n >= 3);
  CHECK_CODE(loon_get_number_of_chunks(cr, nullptr), 1);
  CHECK_CODE(loon_get_number_of_chunks(0, &n), 1);

  LoonChunkMetadatas md{nullptr, 0};
  CHECK_CODE(loon_get_chunk_metadatas(cr, 0x04, &md), 1);
  CHECK_OK(loon_get_chunk_metadatas(cr, LOON_CHUNK_METADATA_ALL, &md));
  CHECK_EQ(md.metadatas_size, 2);
  CHECK_EQ(md.metadatas[0].metadata_type, 1u);
  CHECK_EQ(md.metadatas[1].metadata_type, 2u);
  uint64_t rows = 0;
  for (uint64_t i = 0; i < n; ++i) {
    rows += md.metadatas[1].data[i].number_of_rows;
    CHECK(md.metadatas[0].data[i].estimated_memsz > 0);
    // ~1 MiB row groups, scaled for partial chunks.
    CHECK(md.metadatas[0].data[i].estimated_memsz <= (1u << 20) + (1u << 16));
  }
  CHECK_EQ(rows, static_cast<uint64_t>(total));
  loon_free_chunk_metadatas(&md);
  CHECK(md.metadatas == nullptr && md.metadatas_size == 0);
  CHECK_OK(loon_get_chunk_metadatas(cr, LOON_CHUNK_METADATA_NUMOFROWS, &md));
  CHECK_EQ(md.metadatas_size, 1);
  uint64_t first_rows = md.metadatas[0].data[0].number_of_rows;
  loon_free_chunk_metadatas(&md);

  int64_t probe[] = {total - 1, 0, 1, static_cast<int64_t>(first_rows), 0};
  int64_t* idx = nullptr;
  size_t num_idx = 0;
  CHECK_OK(loon_get_chunk_indices(cr, probe, 5, &idx, &num_idx));
  CHECK_EQ(num_idx, size_t{3});
  CHECK_EQ(idx[0], static_cast<int64_t>(n - 1));
  CHECK_EQ(idx[1], 0);
  CHECK_EQ(idx[2], 1);
  loon_free_chunk_indices(idx);
  loon_free_chunk_indices(nullptr);
  int64_t out_of_range[] = {total};
  CHECK_CODE(loon_get_chunk_indices(cr, out_of_range, 1, &idx, &num_idx), 3);
  CHECK_CODE(loon_get_chunk_indices(cr, probe, 0, &idx, &num_idx), 1);

  struct ArrowArray array;
  struct ArrowSchema schema;
  CHECK_OK(loon_get_chunk(cr, 0, &array, &schema));
  auto imported_schema = arrow::ImportSchema(&schema).ValueOrDie();
  auto batch = arrow::ImportRecordBatch(&array, imported_schema).ValueOrDie();
  CHECK_EQ(batch->num_columns(), 2);
  CHECK_EQ(batch->schema()->field(0)->name(), std::string("name"));
  CHECK_EQ(static_cast<uint64_t>(batch->num_rows()), first_rows);
  auto ids = std::static_pointer_cast<arrow::Int64Array>(batch->column(1));
  CHECK_EQ(ids->Value(0), 100);
  CHECK_CODE(loon_get_chunk(cr, static_cast<int64_t>(n), &array, nullptr), 3);
  CHECK_CODE(loon_get_chunk(cr, -1, &array, nullptr), 3);

  int64_t want[] = {static_cast<int64_t>(n - 1), 0, static_cast<int64_t>(n - 1)};
  struct ArrowArray* arrays = nullptr;
  size_t num = 0;
  CHECK_OK(loon_get_chunks(cr, want, 3, 2, &arrays, &num, &schema));
  CHECK_EQ(num, size_t{3});
  imported_schema = arrow::ImportSchema(&schema).ValueOrDie();
  auto last = arrow::ImportRecordBatch(&arrays[0], imported_schema).ValueOrDie();
  auto last_ids = std::static_pointer_cast<arrow::Int64Array>(last->column(1));
  CHECK_EQ(last_ids->Value(last->num_rows() - 1), 89999);
  loon_free_chunk_arrays(arrays, num);  // releases the two not moved out
  CHECK_CODE(loon_get_chunks(cr, want, 3, 0, &arrays, &num, nullptr), 1);
  CHECK_CODE(loon_get_chunks(cr, want, 0, 1, &arrays, &num, nullptr), 1);
  int64_t bad[] = {0, static_cast<int64_t>(n)};
  CHECK_CODE(loon_get_chunks(cr, bad, 2, 1, &arrays, &num, nullptr), 3);
  loon_free_chunk_arrays(nullptr, 0);

  const char* p = loon_fiukey_chunk_reader_read_fail;
  LoonFFIResult armed = loon_fiu_enable(p, static_cast<uint32_t>(std::strlen(p)), 1);
  bool fiu = armed.err_code == 0;
  loon_ffi_free_result(&armed);
  if (fiu) {
    CHECK_CODE(loon_get_chunk(cr, 0, &array, nullptr), 8);
    p = loon_fiukey_column_group_read_fail;
    armed = loon_fiu_enable(p, static_cast<uint32_t>(std::strlen(p)), 1);
    loon_ffi_free_result(&armed);
    CHECK_CODE(loon_get_chunk(cr, 0, &array, nullptr), 3);
    armed = loon_fiu_enable(p, static_cast<uint32_t>(std::strlen(p)), 1);
    loon_ffi_free_result(&armed);
    CHECK_CODE(loon_get_chunks(cr, want, 3, 1, &arrays, &num, nullptr), 3);
    loon_fiu_disable_all();
  }
  loon_chunk_reader_destroy(cr);
  loon_chunk_reader_destroy(0);
  loon_column_groups_destroy(groups);
  std::filesystem::remove_all(g_root);
  return TestMain("chunk_reader_test");
}
