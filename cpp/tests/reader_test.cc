// Reader through the C ABI: projection, missing columns, predicates, take, encryption, errors.
#include <arrow/compute/api.h>

#include <cstring>

#include "data_test_util.h"
#include "milvus-storage/ffi_fiu.h"

static std::string g_root;
static std::map<std::string, std::string> Base() { return {{"fs.storage_type", "local"}, {"fs.root_path", g_root}}; }

static const int64_t kRows = 120000;

static std::vector<std::shared_ptr<arrow::RecordBatch>> Data() {
  return {TestBatch(0, 40000), TestBatch(40000, 80000)};
}

static void TestProjection(const LoonColumnGroups* groups) {
  Props props(With(Base(), {{"reader.record_batch_max_rows", "1000"}}));
  // Widened schema: "extra" is held by no group -> nulls.
  auto wide = TestSchema()->AddField(4, arrow::field("extra", arrow::int32())).ValueOrDie();
  LoonReaderHandle r = NewReader(groups, wide, props, {"value", "extra", "id"});
  int code = 0;
  std::shared_ptr<arrow::Schema> schema;
  auto batches = Scan(r, nullptr, &code, &schema);
  CHECK_EQ(code, 0);
  CHECK_EQ(schema->num_fields(), 3);
  CHECK_EQ(schema->field(0)->name(), std::string("value"));
  CHECK_EQ(schema->field(1)->name(), std::string("extra"));
  CHECK_EQ(TotalRows(batches), kRows);
  for (const auto& b : batches) {
    CHECK(b->num_rows() <= 1000);
    CHECK_EQ(b->column(1)->null_count(), b->num_rows());
  }
  auto table = ToTable(batches, schema);
  auto expected = ToTable(Data(), TestSchema());
  CHECK(table->column(2)->Equals(*expected->column(0)));
  CHECK(table->column(0)->Equals(*expected->column(2)));
  loon_reader_destroy(r);

  // Unknown projected column (not in the schema) -> 3 at get_record_batch_reader.
  r = NewReader(groups, TestSchema(), props, {"id", "nope"});
  Scan(r, nullptr, &code);
  CHECK_EQ(code, 3);
  loon_reader_destroy(r);
}

static int64_t CountWhere(LoonReaderHandle r, const char* predicate, int* code) {
  auto batches = Scan(r, predicate, code);
  return TotalRows(batches);
}

static void TestPredicates(const LoonColumnGroups* groups) {
  Props props(Base());
  LoonReaderHandle r = NewReader(groups, TestSchema(), props, {"id", "name"});
  int code = 0;
  CHECK_EQ(CountWhere(r, "id < 100", &code), 100);
  CHECK_EQ(code, 0);
  CHECK_EQ(CountWhere(r, "id >= 119990 OR id = 5", &code), 11);
  CHECK_EQ(CountWhere(r, "NOT (id > 10) AND id <> 3", &code), 10);
  CHECK_EQ(CountWhere(r, "id IN (1, 2, 3, 500000)", &code), 3);
  CHECK_EQ(CountWhere(r, "name = 'name_77'", &code), 1);
  CHECK_EQ(CountWhere(r, "value > 10.5 and value <= 20", &code), 19 - 2);  // 22..40 minus 28, 35 (nulls)
  CHECK_EQ(CountWhere(r, "-id > -3", &code), 3);
  CHECK_EQ(CountWhere(r, "true", &code), kRows);
  CHECK_EQ(CountWhere(r, "id != id", &code), 0);
  CountWhere(r, "nope = 1", &code);
  CHECK_EQ(code, 3);
  CountWhere(r, "id = 1 garbage", &code);
  CHECK_EQ(code, 3);
  CountWhere(r, "id = ", &code);
  CHECK_EQ(code, 3);
  // Filtered rows are exact and in order.
  auto batches = Scan(r, "id >= 50000 and id < 50010", &code);
  auto t = ToTable(batches, arrow::schema({TestSchema()->field(0), TestSchema()->field(1)}));
  CHECK_EQ(t->num_rows(), 10);
  auto first = std::static_pointer_cast<arrow::Int64Array>(t->column(0)->chunk(0));
  CHECK_EQ(first->Value(0), 50000);
  CHECK_EQ(first->Value(9), 50009);
  loon_reader_destroy(r);
}

static void TestTake(const LoonColumnGroups* groups) {
  Props props(Base());
  LoonReaderHandle r = NewReader(groups, TestSchema(), props);
  std::vector<int64_t> rows = {119999, 5, 5, 40000, 39999, 0, 77777, 5};
  struct ArrowArray* arrays = nullptr;
  size_t n = 0;
  struct ArrowSchema schema;
  CHECK_OK(loon_take(r, rows.data(), rows.size(), 2, nullptr, 0, &arrays, &n, &schema));
  auto imported_schema = arrow::ImportSchema(&schema).ValueOrDie();
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (size_t i = 0; i < n; ++i) batches.push_back(arrow::ImportRecordBatch(&arrays[i], imported_schema).ValueOrDie());
  loon_free_chunk_arrays(arrays, n);
  auto t = ToTable(batches, imported_schema);
  CHECK_EQ(t->num_rows(), static_cast<int64_t>(rows.size()));
  auto ids = std::static_pointer_cast<arrow::Int64Array>(t->column(0)->chunk(0));
  for (size_t i = 0; i < rows.size(); ++i) CHECK_EQ(ids->Value(i), rows[i]);
  auto names = std::static_pointer_cast<arrow::StringArray>(t->column(1)->chunk(0));
  CHECK_EQ(names->GetString(3), std::string("name_40000"));

  // Projection per call with a missing field, NULL out_schema.
  const char* cols[] = {"name"};
  CHECK_OK(loon_take(r, rows.data(), 2, 1, cols, 1, &arrays, &n, nullptr));
  CHECK_EQ(n, size_t{1});
  loon_free_chunk_arrays(arrays, n);

  std::vector<int64_t> bad = {kRows};
  CHECK_CODE(loon_take(r, bad.data(), 1, 1, nullptr, 0, &arrays, &n, nullptr), 3);
  bad = {-1};
  CHECK_CODE(loon_take(r, bad.data(), 1, 1, nullptr, 0, &arrays, &n, nullptr), 3);
  CHECK_CODE(loon_take(r, nullptr, 1, 1, nullptr, 0, &arrays, &n, nullptr), 1);
  CHECK_CODE(loon_take(r, rows.data(), 0, 1, nullptr, 0, &arrays, &n, nullptr), 1);
  CHECK_CODE(loon_take(r, rows.data(), 1, 0, nullptr, 0, &arrays, &n, nullptr), 1);
  CHECK_CODE(loon_take(0, rows.data(), 1, 1, nullptr, 0, &arrays, &n, nullptr), 1);
  const char* unknown[] = {"nope"};
  CHECK_CODE(loon_take(r, rows.data(), 1, 1, unknown, 1, &arrays, &n, nullptr), 3);
  loon_reader_destroy(r);
}

static void TestStreamOutlivesReader(const LoonColumnGroups* groups) {
  Props props(Base());
  LoonReaderHandle r = NewReader(groups, TestSchema(), props);
  struct ArrowArrayStream stream;
  CHECK_OK(loon_get_record_batch_reader(r, "id < 10", &stream));
  loon_reader_destroy(r);
  auto reader = arrow::ImportRecordBatchReader(&stream).ValueOrDie();
  auto table = reader->ToTable().ValueOrDie();
  CHECK_EQ(table->num_rows(), 10);
}

static const char* RightKey(const char* meta) {
  return std::strcmp(meta, "kms-id-1") == 0 ? "0123456789abcdef0123456789abcdef" : nullptr;
}
static const char* WrongKey(const char*) { return "fedcba9876543210fedcba9876543210"; }

static void TestEncryption() {
  auto data = Data();
  for (const char* algo : {"AES_GCM_V1", "AES_GCM_CTR_V1"}) {
    Props props(With(Base(), {{"writer.enc.enable", "true"},
                              {"writer.enc.key", "0123456789abcdef0123456789abcdef"},
                              {"writer.enc.meta", "kms-id-1"},
                              {"writer.enc.algorithm", algo}}));
    LoonColumnGroups* groups = WriteAll(std::string("ds/enc_") + algo, props, data);
    Props rprops(Base());
    int code = 0;
    LoonReaderHandle r = NewReader(groups, TestSchema(), rprops);
    Scan(r, nullptr, &code);
    CHECK_EQ(code, 3);  // no key
    loon_reader_set_keyretriever(r, WrongKey);
    Scan(r, nullptr, &code);
    CHECK_EQ(code, 3);
    loon_reader_set_keyretriever(r, RightKey);
    loon_reader_set_keyretriever(r, nullptr);  // ignored
    loon_reader_set_keyretriever(0, RightKey);  // ignored
    auto batches = Scan(r, nullptr, &code);
    CHECK_EQ(code, 0);
    CHECK(ToTable(batches, TestSchema())->Equals(*ToTable(data, TestSchema())));
    int64_t row = 12345;
    struct ArrowArray* arrays = nullptr;
    size_t n = 0;
    CHECK_OK(loon_take(r, &row, 1, 1, nullptr, 0, &arrays, &n, nullptr));
    loon_free_chunk_arrays(arrays, n);
    LoonChunkReaderHandle cr = 0;
    CHECK_OK(loon_get_chunk_reader(r, 0, nullptr, 0, &cr));
    loon_chunk_reader_destroy(cr);
    loon_reader_destroy(r);
    loon_column_groups_destroy(groups);
  }
}

static void TestErrorsAndEdges(const LoonColumnGroups* groups) {
  Props props(Base());
  struct ArrowSchema cs;
  (void)arrow::ExportSchema(*TestSchema(), &cs);
  LoonReaderHandle r = 0;
  CHECK_CODE(loon_reader_new(nullptr, &cs, nullptr, 0, props.get(), &r), 1);
  CHECK_CODE(loon_reader_new(groups, nullptr, nullptr, 0, props.get(), &r), 1);
  CHECK_CODE(loon_reader_new(groups, &cs, nullptr, 0, nullptr, &r), 1);
  CHECK_CODE(loon_reader_new(groups, &cs, nullptr, 0, props.get(), nullptr), 1);
  Props bad(With(Base(), {{"reader.record_batch_max_rows", "0"}}));
  CHECK_CODE(loon_reader_new(groups, &cs, nullptr, 0, bad.get(), &r), 7);
  LoonColumnGroups malformed{nullptr, 2};
  CHECK_CODE(loon_reader_new(&malformed, &cs, nullptr, 0, props.get(), &r), 4);
  if (cs.release) cs.release(&cs);
  struct ArrowArrayStream stream;
  CHECK_CODE(loon_get_record_batch_reader(0, nullptr, &stream), 1);
  loon_reader_destroy(0);

  // Zero groups: empty stream with the full schema.
  LoonColumnGroups empty{nullptr, 0};
  r = NewReader(&empty, TestSchema(), props, {"id"});
  int code = 0;
  std::shared_ptr<arrow::Schema> schema;
  auto batches = Scan(r, nullptr, &code, &schema);
  CHECK_EQ(code, 0);
  CHECK_EQ(batches.size(), size_t{0});
  CHECK_EQ(schema->num_fields(), 4);
  loon_reader_destroy(r);

  // Missing data file surfaces at stream creation.
  LoonColumnGroup g = groups->column_group_array[0];
  LoonColumnGroupFile f = g.files[0];
  f.path = "ds/does_not_exist.parquet";
  f.num_properties = 0;
  g.files = &f;
  g.num_of_files = 1;
  LoonColumnGroups missing{&g, 1};
  r = NewReader(&missing, TestSchema(), props);
  Scan(r, nullptr, &code);
  CHECK(code == 3 || code == 12);
  loon_reader_destroy(r);

  // Faults.
  const char* open_fail = loon_fiukey_reader_open_fail;
  LoonFFIResult armed = loon_fiu_enable(open_fail, static_cast<uint32_t>(std::strlen(open_fail)), 1);
  bool fiu = armed.err_code == 0;
  loon_ffi_free_result(&armed);
  if (fiu) {
    (void)arrow::ExportSchema(*TestSchema(), &cs);
    CHECK_CODE(loon_reader_new(groups, &cs, nullptr, 0, props.get(), &r), 8);
    if (cs.release) cs.release(&cs);
    r = NewReader(groups, TestSchema(), props);
    const char* read_fail = loon_fiukey_column_group_read_fail;
    armed = loon_fiu_enable(read_fail, static_cast<uint32_t>(std::strlen(read_fail)), 1);
    loon_ffi_free_result(&armed);
    Scan(r, nullptr, &code);
    CHECK_EQ(code, -2);  // error through get_next
    const char* take_fail = loon_fiukey_take_rows_fail;
    armed = loon_fiu_enable(take_fail, static_cast<uint32_t>(std::strlen(take_fail)), 1);
    loon_ffi_free_result(&armed);
    int64_t row = 1;
    struct ArrowArray* arrays = nullptr;
    size_t n = 0;
    CHECK_CODE(loon_take(r, &row, 1, 1, nullptr, 0, &arrays, &n, nullptr), 3);
    loon_reader_destroy(r);
    loon_fiu_disable_all();
  }
}

static void TestMultiGroupUnequal() {
  // Two single-group datasets of different sizes glued together -> 3.
  Props props(Base());
  LoonColumnGroups* a = WriteAll("ds/unequal_a", props, {TestBatch(0, 10)});
  LoonColumnGroups* b = WriteAll("ds/unequal_b", props, {TestBatch(0, 20)});
  LoonColumnGroup both[2] = {a->column_group_array[0], b->column_group_array[0]};
  // Give the second group a different column so both are involved.
  const char* other_cols[] = {"extra"};
  both[1].columns = other_cols;
  both[1].num_of_columns = 1;
  LoonColumnGroups glued{both, 2};
  auto wide = TestSchema()->AddField(4, arrow::field("extra", arrow::int64())).ValueOrDie();
  LoonReaderHandle r = NewReader(&glued, wide, props, {"id", "extra"});
  int code = 0;
  Scan(r, nullptr, &code);
  CHECK_EQ(code, 3);
  loon_reader_destroy(r);
  loon_column_groups_destroy(a);
  loon_column_groups_destroy(b);
}

int main() {
  g_root = TestRoot("reader");
  Props props(With(Base(), {{"writer.policy", "schema_based"},
                            {"writer.split.schema_based.patterns", "id,name|value"},
                            {"writer.buffer_size", "3000000"}}));
  LoonColumnGroups* groups = WriteAll("ds/main", props, Data());
  CHECK_EQ(groups->num_of_column_groups, 3u);
  TestProjection(groups);
  TestPredicates(groups);
  TestTake(groups);
  TestStreamOutlivesReader(groups);
  TestEncryption();
  TestErrorsAndEdges(groups);
  TestMultiGroupUnequal();
  loon_column_groups_destroy(groups);
  std::filesystem::remove_all(g_root);
  return TestMain("reader_test");
}
