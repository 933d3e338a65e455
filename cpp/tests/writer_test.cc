// Writer through the C ABI: round trips, policies, rolling, codecs, error paths, fault points.
#include <cstring>
#include <fstream>

#include "data_test_util.h"
#include "milvus-storage/ffi_fiu.h"

static std::string g_root;

static std::map<std::string, std::string> Base() { return {{"fs.storage_type", "local"}, {"fs.root_path", g_root}}; }

static std::vector<std::shared_ptr<arrow::RecordBatch>> Batches() {
  return {TestBatch(0, 1000), TestBatch(1000, 50000), TestBatch(51000, 7)};
}

static std::shared_ptr<arrow::Table> ReadBack(const LoonColumnGroups* groups, const Props& props) {
  LoonReaderHandle r = NewReader(groups, TestSchema(), props);
  int code = 0;
  auto batches = Scan(r, nullptr, &code);
  CHECK_EQ(code, 0);
  loon_reader_destroy(r);
  return ToTable(batches, TestSchema());
}

static int64_t FileSize(const std::string& path) { return static_cast<int64_t>(std::filesystem::file_size(path)); }

static std::string Prop(const LoonColumnGroupFile& f, const char* key) {
  for (uint32_t i = 0; i < f.num_properties; ++i) {
    if (std::strcmp(f.property_keys[i], key) == 0) return f.property_values[i];
  }
  return "";
}

static void TestRoundTrip() {
  Props props(Base());
  auto batches = Batches();
  LoonColumnGroups* groups = WriteAll("/ds/roundtrip", props, batches);
  CHECK(groups != nullptr);
  CHECK_EQ(groups->num_of_column_groups, 1u);
  const LoonColumnGroup& g = groups->column_group_array[0];
  CHECK_EQ(g.num_of_columns, 4u);
  CHECK(std::strcmp(g.format, "parquet") == 0);
  CHECK_EQ(g.num_of_files, 1u);
  const LoonColumnGroupFile& f = g.files[0];
  CHECK_EQ(f.start_index, 0);
  CHECK_EQ(f.end_index, 51007);
  std::string path = g_root + std::string(f.path);
  CHECK(std::string(f.path).find("/ds/roundtrip/_data/0_") == 0);
  CHECK_EQ(std::string(f.path).size(), std::string("/ds/roundtrip/_data/0_").size() + 36 + 8);
  CHECK_EQ(std::stoll(Prop(f, "file_size")), FileSize(path));
  {
    std::ifstream in(path, std::ios::binary);
    in.seekg(-8, std::ios::end);
    uint32_t len = 0;
    in.read(reinterpret_cast<char*>(&len), 4);
    CHECK_EQ(std::stoll(Prop(f, "footer_size")), static_cast<long long>(len) + 8);
  }
  auto expected = ToTable(batches, TestSchema());
  auto got = ReadBack(groups, props);
  CHECK(got->Equals(*expected));
  loon_column_groups_destroy(groups);
}

static size_t CountFiles(const LoonColumnGroups* groups) {
  size_t n = 0;
  for (uint32_t i = 0; i < groups->num_of_column_groups; ++i) n += groups->column_group_array[i].num_of_files;
  return n;
}

static void TestRolling() {
  Props props(With(Base(), {{"writer.file_rolling.size", "100000"}}));
  LoonWriterHandle w = NewWriter("ds/rolling", TestSchema(), props);
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (int i = 0; i < 5; ++i) {
    batches.push_back(TestBatch(i * 10000, 10000));
    CHECK_EQ(WriteBatch(w, batches.back()), 0);
    CHECK_OK(loon_writer_flush(w));
  }
  CHECK_OK(loon_writer_flush(w));  // nothing buffered: no new file
  LoonColumnGroups* groups = CloseWriter(w);
  CHECK_EQ(CountFiles(groups), size_t{5});
  size_t on_disk = 0;
  for (auto& e : std::filesystem::directory_iterator(g_root + "/ds/rolling/_data")) on_disk += e.is_regular_file();
  CHECK_EQ(on_disk, size_t{5});
  CHECK(ReadBack(groups, props)->Equals(*ToTable(batches, TestSchema())));
  loon_column_groups_destroy(groups);

  // Buffer pressure flushes, multi-group rolling.
  Props small(With(Base(), {{"writer.buffer_size", "200000"},
                            {"writer.file_rolling.size", "300000"},
                            {"writer.policy", "schema_based"},
                            {"writer.split.schema_based.patterns", "id|name,value"}}));
  w = NewWriter("ds/rolling2", TestSchema(), small);
  batches.clear();
  for (int i = 0; i < 8; ++i) {
    batches.push_back(TestBatch(i * 5000, 5000));
    CHECK_EQ(WriteBatch(w, batches.back()), 0);
  }
  groups = CloseWriter(w);
  CHECK_EQ(groups->num_of_column_groups, 3u);
  CHECK(CountFiles(groups) > 3);
  CHECK(ReadBack(groups, small)->Equals(*ToTable(batches, TestSchema())));
  loon_column_groups_destroy(groups);
}

static void TestCodecs() {
  auto batches = Batches();
  auto expected = ToTable(batches, TestSchema());
  for (const char* codec : {"uncompressed", "snappy", "gzip", "lz4", "zstd", "brotli"}) {
    for (const char* level : {"-1", "5"}) {
      Props props(With(Base(), {{"writer.compression", codec},
                                {"writer.compression_level", level},
                                {"writer.enable_dictionary", std::string(codec) == "gzip" ? "false" : "true"}}));
      LoonColumnGroups* groups = WriteAll(std::string("ds/codec_") + codec + level, props, batches);
      auto got = ReadBack(groups, props);
      if (!got->Equals(*expected)) std::fprintf(stderr, "codec %s level %s mismatch\n", codec, level);
      CHECK(got->Equals(*expected));
      loon_column_groups_destroy(groups);
    }
  }
}

static void TestPolicies() {
  auto batches = Batches();
  auto expected = ToTable(batches, TestSchema());
  {
    Props props(With(Base(), {{"writer.policy", "schema_based"},
                              {"writer.split.schema_based.patterns", "id|name,nomatch,value"}}));
    LoonColumnGroups* groups = WriteAll("ds/schema_based", props, batches);
    CHECK_EQ(groups->num_of_column_groups, 3u);  // [id,name], [value], leftovers [vec]
    CHECK_EQ(groups->column_group_array[0].num_of_columns, 2u);
    CHECK(std::strcmp(groups->column_group_array[2].columns[0], "vec") == 0);
    CHECK(std::string(groups->column_group_array[1].files[0].path).find("_data/2_") != std::string::npos ||
          std::string(groups->column_group_array[1].files[0].path).find("_data/1_") != std::string::npos);
    CHECK(ReadBack(groups, props)->Equals(*expected));
    loon_column_groups_destroy(groups);
  }
  {
    Props props(With(Base(), {{"writer.policy", "size_based"}}));
    LoonColumnGroups* groups = WriteAll("ds/size_based", props, batches);
    CHECK_EQ(groups->num_of_column_groups, 4u);  // defaults 0/0: every column alone
    CHECK(ReadBack(groups, props)->Equals(*expected));
    loon_column_groups_destroy(groups);
  }
  {
    Props props(With(Base(), {{"writer.policy", "size_based"},
                              {"writer.split.size_based.max_avg_column_size", "15"},
                              {"writer.split.size_based.max_columns_in_group", "10"}}));
    LoonColumnGroups* groups = WriteAll("ds/size_based2", props, batches);
    // id (8), name (~14), value (8) stay below 15 bytes/row; vec (16) starts a new group
    CHECK_EQ(groups->num_of_column_groups, 2u);
    CHECK(ReadBack(groups, props)->Equals(*expected));
    loon_column_groups_destroy(groups);
  }
  {
    Props props(With(Base(), {{"writer.policy", "schema_based"},
                              {"writer.split.schema_based.patterns", "id,name"},
                              {"writer.split.schema_based.formats", "parquet"}}));
    NewWriter("ds/bad", TestSchema(), props, 3);
    Props vortex(With(Base(), {{"writer.format", "vortex"}}));
    NewWriter("ds/bad", TestSchema(), vortex, 3);
  }
}

static void TestErrors() {
  Props props(Base());
  struct ArrowSchema cs;
  LoonWriterHandle w = 0;
  (void)arrow::ExportSchema(*TestSchema(), &cs);
  CHECK_CODE(loon_writer_new(nullptr, &cs, props.get(), &w), 1);
  CHECK_CODE(loon_writer_new("x", nullptr, props.get(), &w), 1);
  CHECK_CODE(loon_writer_new("x", &cs, nullptr, &w), 1);
  CHECK_CODE(loon_writer_new("x", &cs, props.get(), nullptr), 1);
  if (cs.release) cs.release(&cs);
  CHECK_CODE(loon_writer_write(0, nullptr), 1);
  CHECK_CODE(loon_writer_flush(0), 1);
  CHECK_CODE(loon_writer_close(0, nullptr, nullptr, 0, nullptr), 1);
  loon_writer_destroy(0);

  for (auto kv : std::vector<std::map<std::string, std::string>>{{{"writer.compression", "lzo"}},
                                                                   {{"writer.buffer_size", "abc"}},
                                                                   {{"writer.enable_dictionary", "yes"}},
                                                                   {{"writer.policy", "random"}},
                                                                   {{"writer.enc.enable", "true"},
                                                                    {"writer.enc.key", "short"}}}) {
    Props bad(With(Base(), kv));
    NewWriter("ds/err", TestSchema(), bad, 7);
  }

  w = NewWriter("ds/err", TestSchema(), props);
  // Schema mismatch: one int32 column; the array is consumed anyway.
  auto other = arrow::RecordBatch::Make(arrow::schema({arrow::field("x", arrow::int32())}), 0,
                                        {arrow::MakeArrayOfNull(arrow::int32(), 0).ValueOrDie()});
  struct ArrowArray ca;
  (void)arrow::ExportRecordBatch(*other, &ca);
  CHECK_CODE(loon_writer_write(w, &ca), 3);
  CHECK(ca.release == nullptr);
  CHECK_EQ(WriteBatch(w, TestBatch(0, 0)), 0);  // 0 rows: no-op
  char* keys[] = {nullptr};
  LoonColumnGroups* groups = nullptr;
  CHECK_CODE(loon_writer_close(w, keys, keys, 1, &groups), 1);
  CHECK_OK(loon_writer_close(w, nullptr, nullptr, 0, &groups));
  CHECK_EQ(groups->num_of_column_groups, 0u);  // never got data
  loon_column_groups_destroy(groups);
  CHECK_CODE(loon_writer_close(w, nullptr, nullptr, 0, &groups), 3);
  CHECK_EQ(WriteBatch(w, TestBatch(0, 5)), 3);
  CHECK_CODE(loon_writer_flush(w), 3);
  loon_writer_destroy(w);

  // Destroy without close after data: no leak, half-written file left behind.
  w = NewWriter("ds/err2", TestSchema(), props);
  CHECK_EQ(WriteBatch(w, TestBatch(0, 100)), 0);
  CHECK_OK(loon_writer_flush(w));
  CHECK_EQ(WriteBatch(w, TestBatch(100, 100)), 0);
  loon_writer_destroy(w);
}

static bool Arm(const char* name, int n) {
  LoonFFIResult r = loon_fiu_enable(name, static_cast<uint32_t>(std::strlen(name)), n);
  bool ok = r.err_code == 0;
  loon_ffi_free_result(&r);
  return ok;
}

static void TestFaults() {
  if (!Arm(loon_fiukey_writer_write_fail, 1)) {
    std::printf("fault injection not built in; skipping fault tests\n");
    return;
  }
  Props props(Base());
  LoonWriterHandle w = NewWriter("ds/faults", TestSchema(), props);
  CHECK_EQ(WriteBatch(w, TestBatch(0, 10)), 3);
  CHECK(Arm(loon_fiukey_writer_init_column_group_writers_fail, 1));
  CHECK_EQ(WriteBatch(w, TestBatch(0, 10)), 3);
  CHECK(Arm(loon_fiukey_column_group_write_fail, 1));
  CHECK_EQ(WriteBatch(w, TestBatch(0, 10)), 3);
  CHECK_EQ(WriteBatch(w, TestBatch(0, 10)), 0);
  CHECK(Arm(loon_fiukey_writer_flush_fail, 1));
  CHECK_CODE(loon_writer_flush(w), 3);
  CHECK(Arm(loon_fiukey_writer_close_fail, 1));
  LoonColumnGroups* groups = nullptr;
  CHECK_CODE(loon_writer_close(w, nullptr, nullptr, 0, &groups), 3);
  CHECK_OK(loon_writer_close(w, nullptr, nullptr, 0, &groups));  // retry works
  CHECK_EQ(groups->column_group_array[0].files[0].end_index, 10);
  loon_column_groups_destroy(groups);
  loon_writer_destroy(w);
  loon_fiu_disable_all();
}

static size_t DataFiles(const std::string& dataset) {
  std::filesystem::path dir = std::filesystem::path(g_root) / dataset / "_data";
  if (!std::filesystem::exists(dir)) return 0;
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

// A group's data file is created by the first write that brings it rows, and after a roll by the
// next such write: fs.open_output.fail surfaces from loon_writer_write (code 3), the write is
// retried on the same writer and no row is lost or doubled.
static void TestOpenAtFirstWrite() {
  if (!Arm(loon_fiukey_fs_open_output_fail, 1)) return;  // no libfiu: TestFaults said so
  loon_fiu_disable_all();
  Props props(Base());
  auto kv = Base();
  kv["writer.file_rolling.size"] = "1";
  Props rolling(kv);
  LoonWriterHandle w = NewWriter("ds/open", TestSchema(), rolling);
  CHECK_EQ(DataFiles("ds/open"), 0u);  // creating a writer creates no file
  CHECK(Arm(loon_fiukey_fs_open_output_fail, 1));
  CHECK_EQ(WriteBatch(w, TestBatch(0, 10)), 3);
  CHECK_EQ(DataFiles("ds/open"), 0u);
  CHECK_EQ(WriteBatch(w, TestBatch(0, 10)), 0);  // retry opens the file at once
  CHECK_EQ(DataFiles("ds/open"), 1u);
  CHECK_OK(loon_writer_flush(w));  // 1-byte threshold: the file rolls (closes) here
  CHECK(Arm(loon_fiukey_fs_open_output_fail, 1));
  CHECK_EQ(WriteBatch(w, TestBatch(10, 5)), 3);  // the next file is opened by the next write
  CHECK_EQ(WriteBatch(w, TestBatch(10, 5)), 0);
  CHECK_EQ(DataFiles("ds/open"), 2u);
  LoonColumnGroups* groups = nullptr;
  CHECK_OK(loon_writer_close(w, nullptr, nullptr, 0, &groups));
  CHECK_EQ(groups->column_group_array[0].num_of_files, 2u);
  auto table = ReadBack(groups, props);
  CHECK(table->Equals(*ToTable({TestBatch(0, 10), TestBatch(10, 5)}, TestSchema())));
  loon_column_groups_destroy(groups);
  loon_writer_destroy(w);
  loon_fiu_disable_all();
}

int main() {
  g_root = TestRoot("writer");
  TestRoundTrip();
  TestRolling();
  TestCodecs();
  TestPolicies();
  TestErrors();
  TestFaults();
  TestOpenAtFirstWrite();
  std::filesystem::remove_all(g_root);
  return TestMain("writer_test");
}
