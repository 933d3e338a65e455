// External tables (ffi_c.h 2.9 external table; README "External tables": URIs) through the C ABI: explore, get_file_info, reading explored
// files once they carry real ranges, error codes of rule 1.4.
#include <arrow/io/file.h>
#include <parquet/arrow/writer.h>

#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <fstream>
#include <iterator>
#include <tuple>

#include "data_test_util.h"
#include "milvus-storage/ffi_fiu.h"

namespace {

std::string g_root;

std::map<std::string, std::string> Base() { return {{"fs.storage_type", "local"}, {"fs.root_path", g_root}}; }

// Base properties plus the extfs alias that resolves "local:///local/..." URIs (README "External tables": URIs).
std::map<std::string, std::string> WithExtfs() {
  return With(Base(), {{"extfs.ext.storage_type", "local"},
                       {"extfs.ext.root_path", g_root},
                       {"extfs.ext.bucket_name", "local"}});
}

// Writes rows [offset, offset+n) of TestSchema as an external Parquet file (plain pyarrow-style
// writer, no engine footer keys) with row groups of `rg_rows` rows; `rel` is root-relative.
void WriteExternal(const std::string& rel, int64_t offset, int64_t n, int64_t rg_rows) {
  std::string abs = g_root + "/" + rel;
  std::filesystem::create_directories(std::filesystem::path(abs).parent_path());
  auto table = arrow::Table::FromRecordBatches({TestBatch(offset, n)}).ValueOrDie();
  auto out = arrow::io::FileOutputStream::Open(abs).ValueOrDie();
  CHECK(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, rg_rows).ok());
  CHECK(out->Close().ok());
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteText(const std::string& rel, const std::string& text) {
  std::string abs = g_root + "/" + rel;
  std::filesystem::create_directories(std::filesystem::path(abs).parent_path());
  std::ofstream(abs) << text;
}

struct Explored {
  int code = -1;
  uint64_t files = 0;
  std::string path;
};

Explored Explore(const std::vector<std::string>& columns, const char* format, const std::string& base,
                 const std::string& dir, const Props& props) {
  std::vector<const char*> cols;
  for (const auto& c : columns) cols.push_back(c.c_str());
  Explored e;
  char* path = nullptr;
  LoonFFIResult r = loon_exttable_explore(cols.data(), cols.size(), format, base.c_str(), dir.c_str(), props.get(),
                                          &e.files, &path);
  e.code = r.err_code;
  if (r.err_code != 0 && path != nullptr) {
    std::fprintf(stderr, "explore failed but returned a path\n");
    ++g_failures;
  }
  loon_ffi_free_result(&r);
  if (path != nullptr) {
    e.path = path;
    loon_free_cstr(path);
  }
  return e;
}

// get_file_info: code, rows in *rows.
int FileInfo(const char* format, const std::string& path, const Props& props, uint64_t* rows) {
  LoonFFIResult r = loon_exttable_get_file_info(format, path.c_str(), props.get(), rows);
  int code = r.err_code;
  loon_ffi_free_result(&r);
  return code;
}

struct ManifestPtr {
  LoonManifest* m = nullptr;
  ~ManifestPtr() { loon_manifest_destroy(m); }
};

std::vector<std::string> FilePaths(const LoonColumnGroup& g) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < g.num_of_files; ++i) out.push_back(g.files[i].path);
  return out;
}

// A caller-built LoonColumnGroups of one group over (path, start, end) files.
struct OneGroup {
  std::vector<std::string> paths;
  std::vector<const char*> cols;
  std::vector<LoonColumnGroupFile> files;
  LoonColumnGroup group{};
  LoonColumnGroups groups{};
  OneGroup(const std::vector<std::tuple<std::string, int64_t, int64_t>>& entries) {
    static const char* kCols[] = {"id", "name", "value", "vec"};
    cols.assign(kCols, kCols + 4);
    for (const auto& e : entries) paths.push_back(std::get<0>(e));
    files.resize(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      std::memset(&files[i], 0, sizeof(LoonColumnGroupFile));
      files[i].path = paths[i].c_str();
      files[i].start_index = std::get<1>(entries[i]);
      files[i].end_index = std::get<2>(entries[i]);
    }
    group.columns = cols.data();
    group.num_of_columns = static_cast<uint32_t>(cols.size());
    group.format = "parquet";
    group.files = files.data();
    group.num_of_files = static_cast<uint32_t>(files.size());
    groups.column_group_array = &group;
    groups.num_of_column_groups = 1;
  }
};

std::shared_ptr<arrow::Table> ReadAll(const LoonColumnGroups* groups, const Props& props, int* code) {
  struct ArrowSchema cs;
  (void)arrow::ExportSchema(*TestSchema(), &cs);
  LoonReaderHandle reader = 0;
  LoonFFIResult r = loon_reader_new(groups, &cs, nullptr, 0, props.get(), &reader);
  if (cs.release) cs.release(&cs);
  *code = r.err_code;
  loon_ffi_free_result(&r);
  if (*code != 0) return nullptr;
  auto batches = Scan(reader, nullptr, code);
  loon_reader_destroy(reader);
  if (*code != 0) return nullptr;
  return ToTable(batches, TestSchema());
}

std::shared_ptr<arrow::Table> Expected(const std::vector<std::pair<int64_t, int64_t>>& ranges) {
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (auto [offset, n] : ranges) batches.push_back(TestBatch(offset, n));
  return ToTable(batches, TestSchema());
}

const std::vector<std::string> kColumns = {"id", "name", "value", "vec"};

void TestExploreAndImport() {
  Props props(WithExtfs());
  WriteExternal("ext/a/part-0.parquet", 0, 100, 100);
  WriteExternal("ext/a/part-1.parquet", 100, 250, 100);  // 3 row groups: 100 + 100 + 50
  WriteExternal("ext/a/part-2.parquet", 350, 7, 100);
  WriteExternal("ext/a/nested/deeper.parquet", 1000, 5, 100);  // not listed: no recursion

  Explored e = Explore(kColumns, "parquet", "imp/explore", "ext/a", props);
  CHECK_EQ(e.code, 0);
  CHECK_EQ(e.files, uint64_t{3});
  CHECK_EQ(e.path, std::string("imp/explore/_metadata/manifest-1.avro"));
  CHECK(std::filesystem::is_regular_file(g_root + "/" + e.path));

  ManifestPtr m;
  CHECK_OK(loon_exttable_read_manifest(e.path.c_str(), props.get(), &m.m));
  CHECK_EQ(m.m->column_groups.num_of_column_groups, 1u);
  const LoonColumnGroup& g = m.m->column_groups.column_group_array[0];
  CHECK_EQ(std::string(g.format), std::string("parquet"));
  CHECK_EQ(g.num_of_columns, 4u);
  for (uint32_t i = 0; i < g.num_of_columns && i < 4; ++i) CHECK_EQ(std::string(g.columns[i]), kColumns[i]);
  std::vector<std::string> expected_uris = {"local:///local/ext/a/part-0.parquet", "local:///local/ext/a/part-1.parquet",
                                            "local:///local/ext/a/part-2.parquet"};
  CHECK(FilePaths(g) == expected_uris);
  for (uint32_t i = 0; i < g.num_of_files; ++i) {
    CHECK_EQ(g.files[i].start_index, int64_t{-1});
    CHECK_EQ(g.files[i].end_index, int64_t{-1});
    CHECK_EQ(g.files[i].num_properties, 0u);
  }

  // Row counts by URI (extfs alias) and by fs-relative path.
  std::vector<int64_t> rows;
  for (const auto& uri : expected_uris) {
    uint64_t n = 0;
    CHECK_EQ(FileInfo("parquet", uri, props, &n), 0);
    rows.push_back(static_cast<int64_t>(n));
  }
  CHECK(rows == (std::vector<int64_t>{100, 250, 7}));
  uint64_t n = 0;
  CHECK_EQ(FileInfo("parquet", "/ext/a/part-1.parquet", props, &n), 0);
  CHECK_EQ(n, uint64_t{250});

  // The explored URIs with real ranges read back exactly; a partial range too.
  {
    OneGroup full({{expected_uris[0], 0, rows[0]}, {expected_uris[1], 0, rows[1]}, {expected_uris[2], 0, rows[2]}});
    int code = -1;
    auto table = ReadAll(&full.groups, props, &code);
    CHECK_EQ(code, 0);
    CHECK(table && table->Equals(*Expected({{0, 357}})));
    OneGroup part({{expected_uris[1], 90, 160}});  // crosses the first row-group boundary
    table = ReadAll(&part.groups, props, &code);
    CHECK_EQ(code, 0);
    CHECK(table && table->Equals(*Expected({{190, 70}})));
    // Without the extfs alias the URIs do not resolve.
    Props plain(Base());
    table = ReadAll(&full.groups, plain, &code);
    CHECK(code != 0);
  }

  // Import: the group with real ranges committed to a dataset, then read through its manifest.
  {
    OneGroup full({{expected_uris[0], 0, rows[0]}, {expected_uris[1], 0, rows[1]}, {expected_uris[2], 0, rows[2]}});
    LoonTransactionHandle txn = 0;
    CHECK_OK(loon_transaction_begin("imp/table", props.get(), -1, 0, 1, &txn));
    CHECK_OK(loon_transaction_add_column_group(txn, &full.group));
    int64_t v = 0;
    CHECK_OK(loon_transaction_commit(txn, &v));
    CHECK_EQ(v, int64_t{1});
    loon_transaction_destroy(txn);
    CHECK_OK(loon_transaction_begin("imp/table", props.get(), -1, 0, 1, &txn));
    ManifestPtr tm;
    CHECK_OK(loon_transaction_get_manifest(txn, &tm.m));
    loon_transaction_destroy(txn);
    CHECK_EQ(tm.m->column_groups.num_of_column_groups, 1u);
    CHECK(FilePaths(tm.m->column_groups.column_group_array[0]) == expected_uris);  // URIs stored verbatim (5.6)
    int code = -1;
    auto table = ReadAll(&tm.m->column_groups, props, &code);
    CHECK_EQ(code, 0);
    CHECK(table && table->Equals(*Expected({{0, 357}})));
  }

  // A second explore of another directory appends to the same base: version 2 holds both lists.
  WriteExternal("ext/b/x.parquet", 5000, 11, 100);
  Explored e2 = Explore(kColumns, "parquet", "imp/explore", "/ext/b/", props);
  CHECK_EQ(e2.code, 0);
  CHECK_EQ(e2.files, uint64_t{1});
  CHECK_EQ(e2.path, std::string("imp/explore/_metadata/manifest-2.avro"));
  ManifestPtr m2;
  CHECK_OK(loon_exttable_read_manifest(e2.path.c_str(), props.get(), &m2.m));
  auto all = FilePaths(m2.m->column_groups.column_group_array[0]);
  CHECK_EQ(all.size(), size_t{4});
  if (all.size() == 4) CHECK_EQ(all[3], std::string("local:///local/ext/b/x.parquet"));

  // Other columns or format than the explored dataset: the append is refused (4), nothing added.
  Explored mismatch = Explore({"id"}, "parquet", "imp/explore", "ext/b", props);
  CHECK_EQ(mismatch.code, 4);
  CHECK(!std::filesystem::exists(g_root + "/imp/explore/_metadata/manifest-3.avro"));

  // explore_dir given as a URI: the recorded URIs keep its prefix.
  Explored by_uri = Explore(kColumns, "parquet", "imp/by_uri", "local:///local/ext/b", props);
  CHECK_EQ(by_uri.code, 0);
  ManifestPtr m3;
  CHECK_OK(loon_exttable_read_manifest(by_uri.path.c_str(), props.get(), &m3.m));
  CHECK(FilePaths(m3.m->column_groups.column_group_array[0]) ==
        std::vector<std::string>{"local:///local/ext/b/x.parquet"});
  // A base_dir with a leading '/' stays inside the root and comes back as given.
  Explored slash = Explore(kColumns, "parquet", "/imp/slash/", "ext/b", props);
  CHECK_EQ(slash.code, 0);
  CHECK_EQ(slash.path, std::string("/imp/slash/_metadata/manifest-1.avro"));
}

void TestExploreErrors() {
  Props props(WithExtfs());
  WriteExternal("err/dir/one.parquet", 0, 3, 10);
  WriteText("err/mixed/notes.txt", "not parquet");
  WriteExternal("err/mixed/data.parquet", 0, 3, 10);
  std::filesystem::create_directories(g_root + "/err/empty/sub");

  const char* cols[] = {"id"};
  const char* null_col[] = {nullptr};
  uint64_t n = 0;
  char* path = nullptr;
  auto code_of = [&](LoonFFIResult r) {
    int c = r.err_code;
    loon_ffi_free_result(&r);
    return c;
  };
  CHECK_EQ(code_of(loon_exttable_explore(nullptr, 1, "parquet", "b", "err/dir", props.get(), &n, &path)), 1);
  CHECK_EQ(code_of(loon_exttable_explore(cols, 0, "parquet", "b", "err/dir", props.get(), &n, &path)), 1);
  CHECK_EQ(code_of(loon_exttable_explore(null_col, 1, "parquet", "b", "err/dir", props.get(), &n, &path)), 1);
  CHECK_EQ(code_of(loon_exttable_explore(cols, 1, nullptr, "b", "err/dir", props.get(), &n, &path)), 1);
  CHECK_EQ(code_of(loon_exttable_explore(cols, 1, "parquet", nullptr, "err/dir", props.get(), &n, &path)), 1);
  CHECK_EQ(code_of(loon_exttable_explore(cols, 1, "parquet", "b", nullptr, props.get(), &n, &path)), 1);
  CHECK_EQ(code_of(loon_exttable_explore(cols, 1, "parquet", "b", "err/dir", nullptr, &n, &path)), 1);
  CHECK_EQ(code_of(loon_exttable_explore(cols, 1, "parquet", "b", "err/dir", props.get(), nullptr, &path)), 1);
  CHECK_EQ(code_of(loon_exttable_explore(cols, 1, "parquet", "b", "err/dir", props.get(), &n, nullptr)), 1);
  CHECK(path == nullptr);

  // Formats: unknown, and the two this engine cannot read (code 1, nothing committed).
  for (const char* format : {"csv", "iceberg-table", "", "vortex", "lance-table", "PARQUET"}) {
    LoonFFIResult r = loon_exttable_explore(cols, 1, format, "err/fmt", "err/dir", props.get(), &n, &path);
    CHECK_EQ(r.err_code, 1);
    if (std::strcmp(format, "vortex") == 0 || std::strcmp(format, "lance-table") == 0) {
      CHECK(r.message != nullptr && std::strstr(r.message, "not supported by this engine") != nullptr);
    }
    loon_ffi_free_result(&r);
  }
  CHECK(!std::filesystem::exists(g_root + "/err/fmt"));

  // Bad properties: 7; duplicate or empty column names: 1.
  Props bad(With(WithExtfs(), {{"transaction.commit.num-retries", "many"}}));
  CHECK_EQ(Explore({"id"}, "parquet", "err/b", "err/dir", bad).code, 7);
  CHECK_EQ(Explore({"id", "id"}, "parquet", "err/b", "err/dir", props).code, 1);
  CHECK_EQ(Explore({""}, "parquet", "err/b", "err/dir", props).code, 1);
  CHECK_EQ(Explore({"id"}, "parquet", "", "err/dir", props).code, 1);

  // Listing: absent dir 12, a file 3; no manifest written.
  CHECK_EQ(Explore({"id"}, "parquet", "err/b", "err/absent", props).code, 12);
  CHECK_EQ(Explore({"id"}, "parquet", "err/b", "err/dir/one.parquet", props).code, 3);
  CHECK_EQ(Explore({"id"}, "parquet", "err/b", "s3://host/nobucket/x", props).code, 3);  // no extfs match
  CHECK(!std::filesystem::exists(g_root + "/err/b"));
  // A directory without regular files: 0 files, committed as a group without files (as milvus-storage).
  Explored empty = Explore({"id"}, "parquet", "err/empty_base", "err/empty", props);
  CHECK_EQ(empty.code, 0);
  CHECK_EQ(empty.files, uint64_t{0});
  CHECK_EQ(empty.path, "err/empty_base/_metadata/manifest-1.avro");
  {
    ManifestPtr m;
    CHECK_OK(loon_exttable_read_manifest(empty.path.c_str(), props.get(), &m.m));
    CHECK(m.m != nullptr && m.m->column_groups.num_of_column_groups == 1 &&
          m.m->column_groups.column_group_array[0].num_of_files == 0);
  }

  // No extension filter: every regular file is taken; the text file then fails get_file_info (3).
  Explored mixed = Explore({"id"}, "parquet", "err/mixed_base", "err/mixed", props);
  CHECK_EQ(mixed.code, 0);
  CHECK_EQ(mixed.files, uint64_t{2});
  uint64_t rows = 0;
  CHECK_EQ(FileInfo("parquet", "local:///local/err/mixed/notes.txt", props, &rows), 3);
  CHECK_EQ(FileInfo("parquet", "local:///local/err/mixed/data.parquet", props, &rows), 0);
  CHECK_EQ(rows, uint64_t{3});

  // Each explore begins on the latest version, so repeated explores of one directory add versions.
  CHECK_EQ(Explore({"id"}, "parquet", "err/mixed_base", "err/mixed", props).path,
           std::string("err/mixed_base/_metadata/manifest-2.avro"));

  if (loon_fiu_is_enabled()) {
    const char* point = loon_fiukey_manifest_write_fail;
    CHECK_OK(loon_fiu_enable(point, static_cast<uint32_t>(std::strlen(point)), 1));
    CHECK_EQ(Explore({"id"}, "parquet", "err/fault", "err/dir", props).code, 4);
    loon_fiu_disable_all();
    CHECK(!std::filesystem::exists(g_root + "/err/fault/_metadata/manifest-1.avro"));
  }
}

void TestFileInfoErrors() {
  Props props(WithExtfs());
  WriteExternal("fi/one.parquet", 0, 42, 10);
  uint64_t rows = 99;
  CHECK_EQ(FileInfo("parquet", "fi/one.parquet", props, &rows), 0);
  CHECK_EQ(rows, uint64_t{42});
  CHECK_EQ(FileInfo("parquet", "fi/absent.parquet", props, &rows), 12);
  CHECK_EQ(FileInfo("parquet", "local:///local/fi/absent.parquet", props, &rows), 12);
  CHECK_EQ(FileInfo("parquet", "fi", props, &rows), 1);  // a directory
  CHECK_EQ(FileInfo("parquet", "", props, &rows), 1);
  for (const char* format : {"vortex", "lance-table", "orc", ""}) {
    CHECK_EQ(FileInfo(format, "fi/one.parquet", props, &rows), 1);
  }
  Props plain(Base());
  CHECK_EQ(FileInfo("parquet", "local:///local/fi/one.parquet", plain, &rows), 3);  // no extfs alias
  Props bad(With(Base(), {{"writer.buffer_size", "lots"}}));
  CHECK_EQ(FileInfo("parquet", "fi/one.parquet", bad, &rows), 7);
  CHECK_CODE(loon_exttable_get_file_info(nullptr, "fi/one.parquet", props.get(), &rows), 1);
  CHECK_CODE(loon_exttable_get_file_info("parquet", nullptr, props.get(), &rows), 1);
  CHECK_CODE(loon_exttable_get_file_info("parquet", "fi/one.parquet", nullptr, &rows), 1);
  CHECK_CODE(loon_exttable_get_file_info("parquet", "fi/one.parquet", props.get(), nullptr), 1);

  // A truncated Parquet file (footer gone) is a read failure, 3.
  std::string data = Slurp(g_root + "/fi/one.parquet");
  std::ofstream(g_root + "/fi/cut.parquet", std::ios::binary) << data.substr(0, data.size() / 2);
  CHECK_EQ(FileInfo("parquet", "fi/cut.parquet", props, &rows), 3);
  std::ofstream(g_root + "/fi/zero.parquet", std::ios::binary).flush();
  CHECK_EQ(FileInfo("parquet", "fi/zero.parquet", props, &rows), 3);

  // An engine-written data file counts its rows the same way.
  Props wprops(Base());
  LoonColumnGroups* groups = WriteAll("fi/ds", wprops, {TestBatch(0, 30), TestBatch(30, 20)});
  CHECK_EQ(FileInfo("parquet", groups->column_group_array[0].files[0].path, props, &rows), 0);
  CHECK_EQ(rows, uint64_t{50});
  loon_column_groups_destroy(groups);

  if (loon_fiu_is_enabled()) {
    const char* point = loon_fiukey_fs_open_input_fail;
    CHECK_OK(loon_fiu_enable(point, static_cast<uint32_t>(std::strlen(point)), 1));
    CHECK_EQ(FileInfo("parquet", "fi/one.parquet", props, &rows), 3);
    loon_fiu_disable_all();
  }
}

// Explores racing on one staging base: each commits with FAIL and one retry, so a loser ends with
// 112 (or 111); every success owns a distinct version and the latest manifest lists exactly the
// files of the successful explores, none twice.
void TestConcurrentExplores() {
  Props props(WithExtfs());
  constexpr int kThreads = 8;
  for (int t = 0; t < kThreads; ++t) WriteExternal("race/d" + std::to_string(t) + "/f.parquet", t * 10, 10, 10);
  std::vector<Explored> results(kThreads);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      results[t] = Explore(kColumns, "parquet", "race/base", "race/d" + std::to_string(t), props);
    });
  }
  go.store(true);
  for (auto& th : threads) th.join();
  std::set<std::string> paths, expected_files;
  int ok = 0;
  for (int t = 0; t < kThreads; ++t) {
    if (results[t].code == 0) {
      ++ok;
      CHECK(paths.insert(results[t].path).second);  // distinct versions
      expected_files.insert("local:///local/race/d" + std::to_string(t) + "/f.parquet");
    } else {
      CHECK(results[t].code == 112 || results[t].code == 111);
    }
  }
  CHECK(ok >= 1);
  std::string latest = "race/base/_metadata/manifest-" + std::to_string(ok) + ".avro";
  CHECK(paths.count(latest) == 1);
  ManifestPtr m;
  CHECK_OK(loon_exttable_read_manifest(latest.c_str(), props.get(), &m.m));
  if (m.m != nullptr) {
    auto files = FilePaths(m.m->column_groups.column_group_array[0]);
    CHECK_EQ(files.size(), expected_files.size());
    CHECK(std::set<std::string>(files.begin(), files.end()) == expected_files);
  }
}

}  // namespace

int main() {
  g_root = TestRoot("exttable");
  TestExploreAndImport();
  TestExploreErrors();
  TestFileInfoErrors();
  TestConcurrentExplores();
  std::filesystem::remove_all(g_root);
  return TestMain("exttable_test");
}
