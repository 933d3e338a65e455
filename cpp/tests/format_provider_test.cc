// Format providers (milvus-storage/ffi_format_provider.h) through the C ABI: registration,
// explore/get_file_info and every read path (scan with projection and predicate, take, chunk
// reader, a dataset mixing Parquet with a provider format) over a synthetic provider, and each
// way a provider can misbehave (errors raised in callbacks, a stream ending early or running
// long, a failing get_next, a missing or unconvertible column, no stream at all): an error code
// with the provider's message, never a crash (the ASan build runs this too).
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/writer.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "data_test_util.h"
#include "milvus-storage/ffi_format_provider.h"

namespace {

std::string g_root;

// What the synthetic provider does wrong (kOk: nothing).
enum Mode : int {
  kOk,
  kListFails,
  kDescribeFails,
  kOpenFails,
  kEndsEarly,
  kTooManyRows,
  kNextFails,
  kMissingColumn,
  kWrongType,
  kNoStream,
  kNotFound,
};
std::atomic<int> g_mode{kOk};
std::atomic<int> g_releases{0};
std::atomic<int> g_opens{0};

// A "synth" data file is a text file "<offset> <rows>": its rows are TestBatch(offset, rows). A
// "synthfrag" dataset is a directory with "fragments.txt", lines "<id> <offset> <rows>".
bool ReadPair(const std::string& path, int64_t* offset, int64_t* rows) {
  std::ifstream in(path);
  return static_cast<bool>(in >> *offset >> *rows);
}

bool FindFragment(const std::string& dir, int64_t id, int64_t* offset, int64_t* rows) {
  std::ifstream in(dir + "/fragments.txt");
  int64_t fid = 0;
  while (in >> fid >> *offset >> *rows) {
    if (fid == id) return true;
  }
  return false;
}

// Where the rows of (location, fragment) start in the TestBatch sequence, and how many there are.
int Locate(const LoonFormatLocation* where, int64_t fragment_id, int64_t* offset, int64_t* rows, LoonFormatSink* sink) {
  const char* location = where->uri;
  std::error_code ec;
  if (g_mode == kNotFound || !std::filesystem::exists(location, ec)) {
    loon_format_sink_set_error(sink, (std::string("no such data: ") + location).c_str());
    return LOON_FORMAT_NOT_FOUND;
  }
  if (fragment_id >= 0) {
    if (!FindFragment(location, fragment_id, offset, rows)) {
      loon_format_sink_set_error(sink, "no such fragment");
      return LOON_FORMAT_NOT_FOUND;
    }
    return 0;
  }
  if (std::filesystem::is_directory(location, ec)) {
    loon_format_sink_set_error(sink, "a directory, not a synth file");
    return LOON_FORMAT_INVALID;
  }
  if (!ReadPair(location, offset, rows)) {
    loon_format_sink_set_error(sink, "not a synth file");
    return 3;
  }
  return 0;
}

int List(void* ctx, const LoonFormatLocation* where, const LoonProperties*, LoonFormatSink* sink) {
  const char* location = where->uri;
  if (g_mode == kListFails) {
    loon_format_sink_set_error(sink, "synthetic listing failure");
    return 3;
  }
  bool fragments = std::string(static_cast<const char*>(ctx)) == "synthfrag";
  if (fragments) {
    std::ifstream in(std::string(location) + "/fragments.txt");
    int64_t id = 0, offset = 0, rows = 0;
    while (in >> id >> offset >> rows) loon_format_sink_add_entry(sink, nullptr, id, rows);
    return 0;
  }
  for (const auto& e : std::filesystem::directory_iterator(location)) {
    if (e.is_regular_file()) loon_format_sink_add_entry(sink, e.path().filename().c_str(), -1, -1);
  }
  return 0;
}

std::shared_ptr<arrow::Schema> SynthSchema() {
  // `name` as string_view, as the Vortex library returns strings: the engine casts to utf8.
  return arrow::schema({arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8_view()),
                        arrow::field("value", arrow::float64()),
                        arrow::field("vec", arrow::fixed_size_list(arrow::float32(), 4))});
}

int Describe(void*, const LoonFormatLocation* location, int64_t fragment_id, const LoonProperties*, int64_t* out_rows,
             struct ArrowSchema* out_schema, LoonFormatSink* sink) {
  if (g_mode == kDescribeFails) {
    loon_format_sink_set_error(sink, "synthetic describe failure");
    return 3;
  }
  int64_t offset = 0, rows = 0;
  if (int rc = Locate(location, fragment_id, &offset, &rows, sink); rc != 0) return rc;
  *out_rows = rows;
  if (out_schema != nullptr && !arrow::ExportSchema(*SynthSchema(), out_schema).ok()) return 3;
  return 0;
}

// A reader that fails after its first batch.
class FailingReader : public arrow::RecordBatchReader {
 public:
  explicit FailingReader(std::shared_ptr<arrow::RecordBatch> first) : first_(std::move(first)) {}
  std::shared_ptr<arrow::Schema> schema() const override { return first_->schema(); }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    if (first_sent_) return arrow::Status::IOError("synthetic read failure in get_next");
    first_sent_ = true;
    *out = first_;
    return arrow::Status::OK();
  }

 private:
  std::shared_ptr<arrow::RecordBatch> first_;
  bool first_sent_ = false;
};

int Open(void*, const LoonFormatLocation* location, int64_t fragment_id, const char* const* columns, size_t num_columns,
         int64_t start, int64_t end, const LoonProperties*, struct ArrowArrayStream* out, LoonFormatSink* sink) {
  ++g_opens;
  int mode = g_mode;
  if (mode == kOpenFails) {
    loon_format_sink_set_error(sink, "synthetic open failure");
    return 3;
  }
  if (mode == kNoStream) return 0;
  int64_t offset = 0, rows = 0;
  if (int rc = Locate(location, fragment_id, &offset, &rows, sink); rc != 0) return rc;
  if (start < 0 || end > rows || start > end) {
    loon_format_sink_set_error(sink, "range out of bounds");
    return 1;
  }
  int64_t n = end - start;
  if (mode == kEndsEarly) n -= 1;
  if (mode == kTooManyRows) n += 1;
  auto full = TestBatch(offset + start, n);
  // Columns asked for, in reverse order (the engine selects by name), name as string_view.
  arrow::FieldVector fields;
  arrow::ArrayVector arrays;
  for (size_t i = num_columns; i-- > 0;) {
    std::string name = columns[i];
    if (mode == kMissingColumn && name == "value") continue;
    auto array = full->GetColumnByName(name);
    if (!array) continue;
    if (name == "name") array = arrow::compute::Cast(*array, arrow::utf8_view()).ValueOrDie();
    if (mode == kWrongType && name == "id") array = TestBatch(0, n)->GetColumnByName("vec");
    fields.push_back(arrow::field(name, array->type()));
    arrays.push_back(array);
  }
  auto batch = arrow::RecordBatch::Make(arrow::schema(fields), n, arrays);
  std::shared_ptr<arrow::RecordBatchReader> reader;
  if (mode == kNextFails) {
    reader = std::make_shared<FailingReader>(batch->Slice(0, std::min<int64_t>(n, 3)));
  } else {
    std::vector<std::shared_ptr<arrow::RecordBatch>> pieces;  // batches of 5 rows
    for (int64_t a = 0; a < n; a += 5) pieces.push_back(batch->Slice(a, std::min<int64_t>(5, n - a)));
    reader = arrow::RecordBatchReader::Make(pieces, batch->schema()).ValueOrDie();
  }
  if (!arrow::ExportRecordBatchReader(reader, out).ok()) return 3;
  return 0;
}

// Random access: rows[] of the file, `name` as string_view; g_take_rows records what was asked.
std::atomic<int> g_takes{0};
std::mutex g_take_mu;
std::vector<int64_t> g_take_rows;

int Take(void*, const LoonFormatLocation* location, int64_t fragment_id, const char* const* columns,
         size_t num_columns, const int64_t* rows, size_t num_rows, const LoonProperties*,
         struct ArrowArrayStream* out, LoonFormatSink* sink) {
  ++g_takes;
  int64_t offset = 0, total = 0;
  if (int rc = Locate(location, fragment_id, &offset, &total, sink); rc != 0) return rc;
  {
    std::lock_guard<std::mutex> lock(g_take_mu);
    g_take_rows.insert(g_take_rows.end(), rows, rows + num_rows);
  }
  size_t n = g_mode == kEndsEarly ? num_rows - 1 : num_rows;
  std::vector<std::shared_ptr<arrow::RecordBatch>> pieces;
  for (size_t i = 0; i < n; ++i) {
    if (rows[i] < 0 || rows[i] >= total) {
      loon_format_sink_set_error(sink, "take: row out of bounds");
      return 1;
    }
    auto one = TestBatch(offset + rows[i], 1);
    arrow::FieldVector fields;
    arrow::ArrayVector arrays;
    for (size_t c = 0; c < num_columns; ++c) {
      auto array = one->GetColumnByName(columns[c]);
      if (!array) continue;
      if (std::string(columns[c]) == "name") array = arrow::compute::Cast(*array, arrow::utf8_view()).ValueOrDie();
      fields.push_back(arrow::field(columns[c], array->type()));
      arrays.push_back(array);
    }
    pieces.push_back(arrow::RecordBatch::Make(arrow::schema(fields), 1, arrays));
  }
  if (pieces.empty()) {  // an empty stream (ends before the one row asked)
    auto empty = arrow::schema({arrow::field("id", arrow::int64())});
    auto reader = arrow::RecordBatchReader::Make({}, empty).ValueOrDie();
    return arrow::ExportRecordBatchReader(reader, out).ok() ? 0 : 3;
  }
  auto reader = arrow::RecordBatchReader::Make(pieces, pieces[0]->schema()).ValueOrDie();
  return arrow::ExportRecordBatchReader(reader, out).ok() ? 0 : 3;
}

void Release(void*) { ++g_releases; }

char kSynth[] = "synth";
char kSynthFrag[] = "synthfrag";

LoonFormatProvider Callbacks(char* ctx) {
  LoonFormatProvider p{};
  p.abi_version = LOON_FORMAT_PROVIDER_ABI_VERSION;
  p.private_data = ctx;
  p.list = List;
  p.describe = Describe;
  p.open_stream = Open;
  p.release = Release;
  return p;
}

bool Supported(const char* format) {
  bool out = false;
  CHECK_OK(loon_format_supported(format, &out));
  return out;
}

std::map<std::string, std::string> Base() {
  return {{"fs.storage_type", "local"},
          {"fs.root_path", g_root},
          {"extfs.ext.storage_type", "local"},
          {"extfs.ext.root_path", g_root},
          {"extfs.ext.bucket_name", "local"}};
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
  std::string message;
};

Explored Explore(const char* format, const std::string& base, const std::string& dir, const Props& props,
                 std::vector<std::string> columns = {"id", "name", "value", "vec"}) {
  std::vector<const char*> cols;
  for (const auto& c : columns) cols.push_back(c.c_str());
  Explored e;
  char* path = nullptr;
  LoonFFIResult r = loon_exttable_explore(cols.data(), cols.size(), format, base.c_str(), dir.c_str(), props.get(),
                                          &e.files, &path);
  e.code = r.err_code;
  if (r.message) e.message = r.message;
  loon_ffi_free_result(&r);
  if (path != nullptr) {
    e.path = path;
    loon_free_cstr(path);
  }
  return e;
}

int FileInfo(const char* format, const std::string& path, const Props& props, uint64_t* rows,
             std::string* message = nullptr) {
  LoonFFIResult r = loon_exttable_get_file_info(format, path.c_str(), props.get(), rows);
  int code = r.err_code;
  if (message && r.message) *message = r.message;
  loon_ffi_free_result(&r);
  return code;
}

// Column groups built by the caller: (columns, format, files(path, start, end)).
struct Groups {
  struct Group {
    std::vector<std::string> columns;
    std::string format;
    std::vector<std::tuple<std::string, int64_t, int64_t>> files;
  };
  std::vector<Group> spec;
  std::vector<std::vector<const char*>> cols;
  std::vector<std::vector<LoonColumnGroupFile>> files;
  std::vector<LoonColumnGroup> groups;
  LoonColumnGroups c{};

  explicit Groups(std::vector<Group> g) : spec(std::move(g)) {
    cols.resize(spec.size());
    files.resize(spec.size());
    groups.resize(spec.size());
    for (size_t i = 0; i < spec.size(); ++i) {
      for (const auto& name : spec[i].columns) cols[i].push_back(name.c_str());
      for (const auto& [path, a, b] : spec[i].files) {
        LoonColumnGroupFile f{};
        f.path = path.c_str();
        f.start_index = a;
        f.end_index = b;
        files[i].push_back(f);
      }
      groups[i].columns = cols[i].data();
      groups[i].num_of_columns = static_cast<uint32_t>(cols[i].size());
      groups[i].format = spec[i].format.c_str();
      groups[i].files = files[i].data();
      groups[i].num_of_files = static_cast<uint32_t>(files[i].size());
    }
    c.column_group_array = groups.data();
    c.num_of_column_groups = static_cast<uint32_t>(groups.size());
  }
};

std::string Uri(const std::string& rel) { return "local:///local/" + rel; }

// Three synth files of 23, 0 and 17 rows (offsets 0, 23, 23) under synth/.
void MakeSynthFiles() {
  WriteText("synth/a.syn", "0 23");
  WriteText("synth/b.syn", "23 0");
  WriteText("synth/c.syn", "23 17");
  std::filesystem::create_directories(g_root + "/synth/sub");  // not entered
  WriteText("frag/ds/fragments.txt", "0 0 12\n3 12 9\n4 21 19\n");
  std::filesystem::create_directories(g_root + "/empty");
}

Groups SynthGroup(const std::vector<std::string>& columns = {"id", "name", "value", "vec"}) {
  return Groups({{columns,
                  "synth",
                  {{Uri("synth/a.syn"), 0, 23}, {Uri("synth/b.syn"), -1, -1}, {Uri("synth/c.syn"), 2, 17}}}});
}

// TestBatch rows of the synth group: 0..22 then 25..39.
std::shared_ptr<arrow::Table> SynthExpected() {
  return arrow::Table::FromRecordBatches({TestBatch(0, 23), TestBatch(25, 15)}).ValueOrDie()->CombineChunks().ValueOrDie();
}

void TestRegistration() {
  CHECK(Supported("parquet"));
  CHECK(!Supported("synth"));
  LoonFormatProvider p = Callbacks(kSynth);
  CHECK_CODE(loon_format_provider_register("parquet", &p), 1);
  CHECK_CODE(loon_format_provider_register(nullptr, &p), 1);
  CHECK_CODE(loon_format_provider_register("synth", nullptr), 1);
  LoonFormatProvider bad = p;
  bad.abi_version = 99;
  CHECK_CODE(loon_format_provider_register("synth", &bad), 1);
  bad = p;
  bad.open_stream = nullptr;
  CHECK_CODE(loon_format_provider_register("synth", &bad), 1);
  CHECK_EQ(g_releases.load(), 0);  // refused registrations are not released
  CHECK(!Supported("synth"));

  // Without a provider the format is refused with code 1 before storage is touched.
  Props props(Base());
  uint64_t rows = 0;
  CHECK_EQ(Explore("synth", "reg/base", "synth", props).code, 1);
  CHECK_EQ(FileInfo("synth", Uri("synth/a.syn"), props, &rows), 1);
  CHECK(!std::filesystem::exists(g_root + "/reg/base"));

  CHECK_OK(loon_format_provider_register("synth", &p));
  CHECK(Supported("synth"));
  CHECK_OK(loon_format_provider_register("synth", &p));  // replacing releases the old one
  CHECK_EQ(g_releases.load(), 1);
  bool removed = false;
  CHECK_OK(loon_format_provider_unregister("synth", &removed));
  CHECK(removed);
  CHECK_EQ(g_releases.load(), 2);
  CHECK_OK(loon_format_provider_unregister("synth", &removed));
  CHECK(!removed);
  CHECK(!Supported("synth"));
  CHECK_CODE(loon_format_supported(nullptr, &removed), 1);
  CHECK_CODE(loon_format_supported("synth", nullptr), 1);
}

void TestExploreAndInfo() {
  Props props(Base());
  // Plain files: every regular file, in name order, range -1/-1; sub-directories not entered.
  Explored e = Explore("synth", "ex/files", "synth", props);
  CHECK_EQ(e.code, 0);
  CHECK_EQ(e.files, uint64_t{3});
  {
    LoonManifest* m = nullptr;
    CHECK_OK(loon_exttable_read_manifest(e.path.c_str(), props.get(), &m));
    if (m != nullptr && m->column_groups.num_of_column_groups == 1) {
      const LoonColumnGroup& g = m->column_groups.column_group_array[0];
      CHECK_EQ(std::string(g.format), "synth");
      CHECK_EQ(g.num_of_files, 3u);
      for (uint32_t i = 0; i < g.num_of_files && g.num_of_files == 3; ++i) {
        const char* names[] = {"a.syn", "b.syn", "c.syn"};
        CHECK_EQ(std::string(g.files[i].path), Uri(std::string("synth/") + names[i]));
        CHECK_EQ(g.files[i].start_index, -1);
        CHECK_EQ(g.files[i].end_index, -1);
      }
    } else {
      CHECK(false);
    }
    loon_manifest_destroy(m);
  }
  // A directory without data files: 0 files.
  Explored none = Explore("synth", "ex/none", "empty", props);
  CHECK_EQ(none.code, 0);
  CHECK_EQ(none.files, uint64_t{0});

  // Fragments: "<dataset-uri>?fragment_id=<n>" with [0, rows), in the provider's order.
  Explored f = Explore("synthfrag", "ex/frags", "frag/ds", props);
  CHECK_EQ(f.code, 0);
  CHECK_EQ(f.files, uint64_t{3});
  {
    LoonManifest* m = nullptr;
    CHECK_OK(loon_exttable_read_manifest(f.path.c_str(), props.get(), &m));
    if (m != nullptr && m->column_groups.num_of_column_groups == 1 &&
        m->column_groups.column_group_array[0].num_of_files == 3) {
      const LoonColumnGroup& g = m->column_groups.column_group_array[0];
      int64_t ids[] = {0, 3, 4}, rows[] = {12, 9, 19};
      for (int i = 0; i < 3; ++i) {
        CHECK_EQ(std::string(g.files[i].path), Uri("frag/ds") + "?fragment_id=" + std::to_string(ids[i]));
        CHECK_EQ(g.files[i].start_index, 0);
        CHECK_EQ(g.files[i].end_index, rows[i]);
      }
    } else {
      CHECK(false);
    }
    loon_manifest_destroy(m);
  }

  // get_file_info: by URI and fs-relative path, fragments; absent 12, a directory 1.
  uint64_t rows = 0;
  CHECK_EQ(FileInfo("synth", Uri("synth/c.syn"), props, &rows), 0);
  CHECK_EQ(rows, uint64_t{17});
  CHECK_EQ(FileInfo("synth", "synth/a.syn", props, &rows), 0);
  CHECK_EQ(rows, uint64_t{23});
  CHECK_EQ(FileInfo("synthfrag", Uri("frag/ds") + "?fragment_id=4", props, &rows), 0);
  CHECK_EQ(rows, uint64_t{19});
  CHECK_EQ(FileInfo("synth", Uri("synth/absent.syn"), props, &rows), 12);
  CHECK_EQ(FileInfo("synthfrag", Uri("frag/ds") + "?fragment_id=7", props, &rows), 12);
  CHECK_EQ(FileInfo("synthfrag", Uri("frag/ds") + "?fragment_id=x", props, &rows), 1);
  CHECK_EQ(FileInfo("synth", Uri("synth"), props, &rows), 1);
  CHECK_EQ(FileInfo("synth", "../outside.syn", props, &rows) != 0, true);
}

void TestReads() {
  Props props(With(Base(), {{"reader.logical_chunk_rows", "7"}, {"reader.record_batch_max_rows", "1000"}}));
  auto expected = SynthExpected();
  Groups groups = SynthGroup();
  LoonReaderHandle reader = NewReader(&groups.c, TestSchema(), props);
  int code = 0;
  auto table = ToTable(Scan(reader, nullptr, &code), TestSchema());
  CHECK_EQ(code, 0);
  CHECK(table->Equals(*expected));

  // Predicate: filtered exactly by the engine.
  auto filtered = Scan(reader, "id >= 20 AND id < 27", &code);
  CHECK_EQ(code, 0);
  auto ft = ToTable(filtered, TestSchema());
  CHECK_EQ(ft->num_rows(), 5);  // 20, 21, 22, 25, 26
  auto ids = std::static_pointer_cast<arrow::Int64Array>(ft->GetColumnByName("id")->chunk(0));
  CHECK(ids->length() == 5 && ids->Value(0) == 20 && ids->Value(3) == 25 && ids->Value(4) == 26);

  // Take across the files, any order.
  std::vector<int64_t> rows = {37, 0, 22, 23, 6, 7, 30};
  struct ArrowArray* arrays = nullptr;
  size_t n = 0;
  struct ArrowSchema schema;
  CHECK_OK(loon_take(reader, rows.data(), rows.size(), 2, nullptr, 0, &arrays, &n, &schema));
  if (n == 1) {
    auto s = arrow::ImportSchema(&schema).ValueOrDie();
    auto batch = arrow::ImportRecordBatch(&arrays[0], s).ValueOrDie();
    arrow::Int64Builder idx;
    (void)idx.AppendValues(rows);
    auto want = arrow::compute::Take(expected, idx.Finish().ValueOrDie()).ValueOrDie().table();
    CHECK(arrow::Table::FromRecordBatches({batch}).ValueOrDie()->Equals(*want->CombineChunks().ValueOrDie()));
  } else {
    CHECK(false);
  }
  loon_free_chunk_arrays(arrays, n);

  // Chunk reader: chunks of at most 7 rows per file range: 23 -> 4, 0 -> 0, 15 -> 3.
  LoonChunkReaderHandle chunks = 0;
  const char* proj[] = {"value", "id"};
  CHECK_OK(loon_get_chunk_reader(reader, 0, proj, 2, &chunks));
  uint64_t count = 0;
  CHECK_OK(loon_get_number_of_chunks(chunks, &count));
  CHECK_EQ(count, uint64_t{7});
  std::vector<std::shared_ptr<arrow::RecordBatch>> got;
  for (uint64_t i = 0; i < count; ++i) {
    struct ArrowArray a;
    struct ArrowSchema s;
    CHECK_OK(loon_get_chunk(chunks, static_cast<int64_t>(i), &a, &s));
    got.push_back(arrow::ImportRecordBatch(&a, &s).ValueOrDie());
  }
  CHECK_EQ(got[3]->num_rows(), 2);
  CHECK_EQ(got[4]->num_rows(), 7);
  auto gt = arrow::Table::FromRecordBatches(got).ValueOrDie()->CombineChunks().ValueOrDie();
  CHECK(gt->Equals(*expected->SelectColumns({2, 0}).ValueOrDie()));
  LoonChunkMetadatas meta{};
  CHECK_OK(loon_get_chunk_metadatas(chunks, 0x03, &meta));
  loon_free_chunk_metadatas(&meta);
  loon_chunk_reader_destroy(chunks);
  loon_reader_destroy(reader);

  // Fragments with a projection.
  Groups frags({{{"id", "name", "value", "vec"},
                 "synthfrag",
                 {{Uri("frag/ds") + "?fragment_id=3", 0, 9}, {Uri("frag/ds") + "?fragment_id=4", 5, 19}}}});
  LoonReaderHandle fr = NewReader(&frags.c, TestSchema(), props, {"name", "id"});
  auto ftable = ToTable(Scan(fr, nullptr, &code), arrow::schema({TestSchema()->field(1), TestSchema()->field(0)}));
  CHECK_EQ(code, 0);
  auto fwant = arrow::Table::FromRecordBatches({TestBatch(12, 9), TestBatch(26, 14)}).ValueOrDie();
  CHECK(ftable->Equals(*fwant->SelectColumns({1, 0}).ValueOrDie()->CombineChunks().ValueOrDie()));
  loon_reader_destroy(fr);
}

// A Parquet group (id, value) beside a synth group (name, vec) over the same 40 rows.
void TestMixedFormats() {
  Props props(With(Base(), {{"reader.logical_chunk_rows", "6"}}));
  auto all = TestBatch(0, 40);
  std::string rel = "mixed/ext.parquet";
  std::filesystem::create_directories(g_root + "/mixed");
  auto pt = arrow::Table::FromRecordBatches({all}).ValueOrDie()->SelectColumns({0, 2}).ValueOrDie();
  auto out = arrow::io::FileOutputStream::Open(g_root + "/" + rel).ValueOrDie();
  CHECK(parquet::arrow::WriteTable(*pt, arrow::default_memory_pool(), out, 9).ok());
  CHECK(out->Close().ok());
  WriteText("mixed/s.syn", "0 40");
  Groups groups({{{"id", "value"}, "parquet", {{Uri(rel), 0, 40}}},
                 {{"name", "vec"}, "synth", {{Uri("mixed/s.syn"), 0, 40}}}});
  LoonReaderHandle reader = NewReader(&groups.c, TestSchema(), props);
  int code = 0;
  auto table = ToTable(Scan(reader, nullptr, &code), TestSchema());
  CHECK_EQ(code, 0);
  CHECK(table->Equals(*arrow::Table::FromRecordBatches({all}).ValueOrDie()));
  // A predicate on the Parquet group skips row groups there; the synth group follows.
  auto filtered = ToTable(Scan(reader, "id >= 30 AND name != 'name_31'", &code), TestSchema());
  CHECK_EQ(code, 0);
  CHECK_EQ(filtered->num_rows(), 9);
  std::vector<int64_t> rows = {39, 1, 17};
  struct ArrowArray* arrays = nullptr;
  size_t n = 0;
  CHECK_OK(loon_take(reader, rows.data(), rows.size(), 1, nullptr, 0, &arrays, &n, nullptr));
  if (n == 1) {
    auto batch = arrow::ImportRecordBatch(&arrays[0], TestSchema()).ValueOrDie();
    CHECK(batch->Equals(*arrow::ConcatenateRecordBatches({all->Slice(39, 1), all->Slice(1, 1), all->Slice(17, 1)})
                             .ValueOrDie()));
  } else {
    CHECK(false);
  }
  loon_free_chunk_arrays(arrays, n);
  loon_reader_destroy(reader);
}

// Every read path under one misbehaviour: code 3 (or a failing stream), message containing `needle`.
void ExpectReadsFail(Mode mode, const std::string& needle) {
  Props props(With(Base(), {{"reader.logical_chunk_rows", "7"}}));
  Groups groups = SynthGroup();
  LoonReaderHandle reader = NewReader(&groups.c, TestSchema(), props);
  g_mode = mode;
  // Scan: the error arrives at get_reader (layout) or through the stream.
  struct ArrowArrayStream stream;
  LoonFFIResult r = loon_get_record_batch_reader(reader, nullptr, &stream);
  std::string message;
  if (r.err_code == 0) {
    auto imported = arrow::ImportRecordBatchReader(&stream).ValueOrDie();
    arrow::Status st;
    while (st.ok()) {
      std::shared_ptr<arrow::RecordBatch> b;
      st = imported->ReadNext(&b);
      if (st.ok() && !b) break;
    }
    CHECK(!st.ok());
    message = st.message();
  } else {
    CHECK_EQ(r.err_code, 3);
    message = r.message ? r.message : "";
  }
  loon_ffi_free_result(&r);
  if (message.find(needle) == std::string::npos) {
    std::fprintf(stderr, "mode %d scan: '%s' lacks '%s'\n", mode, message.c_str(), needle.c_str());
    ++g_failures;
  }
  // Take: two rows 6 apart in one chunk (one stream over the 7 rows between them).
  int64_t take_rows[] = {0, 6};
  struct ArrowArray* arrays = nullptr;
  size_t n = 0;
  r = loon_take(reader, take_rows, 2, 1, nullptr, 0, &arrays, &n, nullptr);
  CHECK_EQ(r.err_code, 3);
  if (r.message == nullptr || std::string(r.message).find(needle) == std::string::npos) {
    std::fprintf(stderr, "mode %d take: '%s' lacks '%s'\n", mode, r.message ? r.message : "", needle.c_str());
    ++g_failures;
  }
  loon_ffi_free_result(&r);
  // Chunk reader (layout or chunk read).
  LoonChunkReaderHandle chunks = 0;
  r = loon_get_chunk_reader(reader, 0, nullptr, 0, &chunks);
  if (r.err_code == 0) {
    struct ArrowArray a;
    struct ArrowSchema s;
    CHECK_CODE(loon_get_chunk(chunks, 1, &a, &s), 3);
    loon_chunk_reader_destroy(chunks);
  } else {
    CHECK_EQ(r.err_code, 3);
  }
  loon_ffi_free_result(&r);
  g_mode = kOk;
  loon_reader_destroy(reader);
}

void TestMisbehavingProviders() {
  ExpectReadsFail(kDescribeFails, "synthetic describe failure");
  ExpectReadsFail(kOpenFails, "synthetic open failure");
  ExpectReadsFail(kEndsEarly, "ended after");
  ExpectReadsFail(kTooManyRows, "more than");
  ExpectReadsFail(kNextFails, "synthetic read failure in get_next");
  ExpectReadsFail(kMissingColumn, "no column 'value'");
  ExpectReadsFail(kWrongType, "does not convert");
  ExpectReadsFail(kNoStream, "no stream");

  Props props(Base());
  g_mode = kListFails;
  Explored e = Explore("synth", "bad/list", "synth", props);
  CHECK_EQ(e.code, 3);
  CHECK(e.message.find("synthetic listing failure") != std::string::npos);
  CHECK(!std::filesystem::exists(g_root + "/bad/list"));
  g_mode = kDescribeFails;
  uint64_t rows = 0;
  std::string message;
  CHECK_EQ(FileInfo("synth", Uri("synth/a.syn"), props, &rows, &message), 3);
  CHECK(message.find("synthetic describe failure") != std::string::npos);
  g_mode = kNotFound;
  CHECK_EQ(FileInfo("synth", Uri("synth/a.syn"), props, &rows), 12);
  g_mode = kOk;

  // A listing with a bad entry name is refused, nothing committed.
  LoonFormatProvider p = Callbacks(kSynth);
  p.list = [](void*, const LoonFormatLocation*, const LoonProperties*, LoonFormatSink* sink) {
    loon_format_sink_add_entry(sink, "../escape", -1, -1);
    return 0;
  };
  CHECK_OK(loon_format_provider_register("badlist", &p));
  e = Explore("badlist", "bad/names", "synth", props);
  CHECK_EQ(e.code, 3);
  CHECK(!std::filesystem::exists(g_root + "/bad/names"));
  CHECK_OK(loon_format_provider_unregister("badlist", nullptr));

  // A range beyond the file's rows.
  Groups beyond({{{"id"}, "synth", {{Uri("synth/a.syn"), 0, 24}}}});
  LoonReaderHandle reader = NewReader(&beyond.c, TestSchema(), props);
  int code = 0;
  Scan(reader, nullptr, &code);
  CHECK(code != 0);
  loon_reader_destroy(reader);
}

// A provider with take(): a take asks it once per file for exactly the distinct rows asked there
// (ascending, file-relative) instead of streaming spans per chunk, and the engine returns them in the order asked; a
// take stream with a row missing fails with the provider's file named.
void TestProviderTake() {
  LoonFormatProvider p = Callbacks(kSynth);
  p.take = Take;
  CHECK_OK(loon_format_provider_register("synthtake", &p));
  Props props(With(Base(), {{"reader.logical_chunk_rows", "7"}}));
  Groups groups({{{"id", "name", "value", "vec"},
                  "synthtake",
                  {{Uri("synth/a.syn"), 0, 23}, {Uri("synth/b.syn"), -1, -1}, {Uri("synth/c.syn"), 2, 17}}}});
  LoonReaderHandle reader = NewReader(&groups.c, TestSchema(), props);
  auto expected = SynthExpected();
  std::vector<int64_t> rows = {37, 0, 22, 23, 6, 6, 30, 1};  // any order, a repeat, across files
  int opens_before = g_opens.load(), takes_before = g_takes.load();
  g_take_rows.clear();
  struct ArrowArray* arrays = nullptr;
  size_t n = 0;
  struct ArrowSchema schema;
  CHECK_OK(loon_take(reader, rows.data(), rows.size(), 2, nullptr, 0, &arrays, &n, &schema));
  if (n == 1) {
    auto s = arrow::ImportSchema(&schema).ValueOrDie();
    auto batch = arrow::ImportRecordBatch(&arrays[0], s).ValueOrDie();
    arrow::Int64Builder idx;
    (void)idx.AppendValues(rows);
    auto want = arrow::compute::Take(expected, idx.Finish().ValueOrDie()).ValueOrDie().table();
    CHECK(arrow::Table::FromRecordBatches({batch}).ValueOrDie()->Equals(*want->CombineChunks().ValueOrDie()));
  } else {
    CHECK(false);
  }
  loon_free_chunk_arrays(arrays, n);
  CHECK_EQ(g_opens.load(), opens_before);      // no span streams
  CHECK_EQ(g_takes.load() - takes_before, 2);  // one take per file, across its chunks of 7 rows
  {
    // File-relative rows of a.syn (0, 1, 6, 22) and c.syn (range from 2: 23 -> 2, 30 -> 9, 37 -> 16).
    std::lock_guard<std::mutex> lock(g_take_mu);
    std::multiset<int64_t> asked(g_take_rows.begin(), g_take_rows.end());
    CHECK(asked == (std::multiset<int64_t>{0, 1, 6, 22, 2, 9, 16}));
  }
  g_mode = kEndsEarly;
  LoonFFIResult r = loon_take(reader, rows.data(), rows.size(), 1, nullptr, 0, &arrays, &n, nullptr);
  CHECK_EQ(r.err_code, 3);
  CHECK(r.message != nullptr && std::string(r.message).find("ended after") != std::string::npos);
  loon_ffi_free_result(&r);
  g_mode = kOk;
  loon_reader_destroy(reader);
  CHECK_OK(loon_format_provider_unregister("synthtake", nullptr));
}

// A provider without list(): explore lists the directory's regular files itself (as for Parquet).
void TestEngineListing() {
  Props props(Base());
  LoonFormatProvider p = Callbacks(kSynth);
  p.list = nullptr;
  CHECK_OK(loon_format_provider_register("nolist", &p));
  Explored e = Explore("nolist", "nolist/files", "synth", props);
  CHECK_EQ(e.code, 0);
  CHECK_EQ(e.files, uint64_t{3});  // a.syn, b.syn, c.syn; the sub-directory is not a file
  Explored none = Explore("nolist", "nolist/none", "empty", props);
  CHECK_EQ(none.code, 0);
  CHECK_EQ(none.files, uint64_t{0});
  CHECK_EQ(Explore("nolist", "nolist/absent", "absent-dir", props).code, 12);
  CHECK_OK(loon_format_provider_unregister("nolist", nullptr));
}

// What a provider last received as location (recorded by ProbeDescribe, which then fails).
std::mutex g_probe_mu;
std::string g_probe_uri;
std::map<std::string, std::string> g_probe_options;

int ProbeDescribe(void*, const LoonFormatLocation* location, int64_t, const LoonProperties*, int64_t*,
                  struct ArrowSchema*, LoonFormatSink* sink) {
  std::lock_guard<std::mutex> lock(g_probe_mu);
  g_probe_uri = location->uri;
  g_probe_options.clear();
  for (size_t i = 0; i < location->storage_options->count; ++i) {
    g_probe_options[location->storage_options->properties[i].key] = location->storage_options->properties[i].value;
  }
  loon_format_sink_set_error(sink, "probe stops here");
  return 3;
}

// Reads `path` of format "probe" with `props`; the read's error code (the probe always fails it).
int ProbeRead(const std::map<std::string, std::string>& kv, const std::string& path, std::string* message) {
  Props props(kv);
  Groups groups({{{"id"}, "probe", {{path, 0, 10}}}});
  LoonReaderHandle reader = NewReader(&groups.c, TestSchema(), props, {"id"});
  int64_t rows[] = {0};
  struct ArrowArray* arrays = nullptr;
  size_t n = 0;
  LoonFFIResult r = loon_take(reader, rows, 1, 1, nullptr, 0, &arrays, &n, nullptr);
  int code = r.err_code;
  *message = r.message ? r.message : "";
  loon_ffi_free_result(&r);
  loon_reader_destroy(reader);
  return code;
}

// Object stores: the provider gets "s3://bucket/key" and the storage options that reach the same
// store as the engine (endpoint, region, credentials, addressing, http, timeout); extfs aliases
// give their own store's options; what the options cannot express is refused with 9 before any
// callback. S3 filesystems send nothing until used, so no server is needed.
void TestObjectStoreLocations() {
  LoonFormatProvider p = Callbacks(kSynth);
  p.describe = ProbeDescribe;
  CHECK_OK(loon_format_provider_register("probe", &p));
  std::map<std::string, std::string> s3 = {{"fs.storage_type", "remote"},
                                           {"fs.cloud_provider", "aws"},
                                           {"fs.address", "127.0.0.1:9"},
                                           {"fs.bucket_name", "bkt"},
                                           {"fs.access_key_id", "AKID"},
                                           {"fs.access_key_value", "SECRET"},
                                           {"fs.region", "eu-west-3"},
                                           {"fs.use_ssl", "false"},
                                           {"fs.request_timeout_ms", "2500"}};
  std::string message;
  CHECK_EQ(ProbeRead(s3, "ds/part-0.vx", &message), 3);
  CHECK(message.find("probe stops here") != std::string::npos);
  {
    std::lock_guard<std::mutex> lock(g_probe_mu);
    CHECK_EQ(g_probe_uri, std::string("s3://bkt/ds/part-0.vx"));
    std::map<std::string, std::string> want = {{"aws_endpoint", "http://127.0.0.1:9"},
                                               {"aws_region", "eu-west-3"},
                                               {"aws_access_key_id", "AKID"},
                                               {"aws_secret_access_key", "SECRET"},
                                               {"aws_virtual_hosted_style_request", "false"},
                                               {"allow_http", "true"},
                                               {"connect_timeout", "2500ms"}};
    CHECK(g_probe_options == want);
  }
  // https, virtual-host addressing, anonymous, AWS's own endpoint (no override), default region.
  CHECK_EQ(ProbeRead(With(s3, {{"fs.address", "s3.amazonaws.com"},
                               {"fs.use_ssl", "true"},
                               {"fs.use_virtual_host", "true"},
                               {"fs.access_key_id", ""},
                               {"fs.access_key_value", ""},
                               {"fs.region", ""}}),
                     "/k.vx", &message),
           3);
  {
    std::lock_guard<std::mutex> lock(g_probe_mu);
    CHECK_EQ(g_probe_uri, std::string("s3://bkt/k.vx"));
    CHECK(g_probe_options.count("aws_endpoint") == 0);
    CHECK(g_probe_options.count("allow_http") == 0);
    CHECK(g_probe_options.count("aws_access_key_id") == 0);
    CHECK_EQ(g_probe_options["aws_skip_signature"], std::string("true"));
    CHECK_EQ(g_probe_options["aws_virtual_hosted_style_request"], std::string("true"));
    CHECK_EQ(g_probe_options["aws_region"], std::string("us-east-1"));
  }
  // A Lance fragment URI matched by an extfs alias: the alias's store (GCS through HMAC keys
  // speaks S3 at its XML endpoint, region "auto"), the dataset's URI without the fragment.
  auto with_alias = With(s3, {{"extfs.lake.storage_type", "remote"},
                              {"extfs.lake.cloud_provider", "gcp"},
                              {"extfs.lake.address", "https://storage.googleapis.com"},
                              {"extfs.lake.bucket_name", "lake"},
                              {"extfs.lake.access_key_id", "HMAC"},
                              {"extfs.lake.access_key_value", "HSECRET"}});
  CHECK_EQ(ProbeRead(with_alias, "gcs://storage.googleapis.com/lake/t/ds.lance?fragment_id=2", &message), 3);
  {
    std::lock_guard<std::mutex> lock(g_probe_mu);
    CHECK_EQ(g_probe_uri, std::string("s3://lake/t/ds.lance"));
    CHECK_EQ(g_probe_options["aws_endpoint"], std::string("https://storage.googleapis.com"));
    CHECK_EQ(g_probe_options["aws_region"], std::string("auto"));
    CHECK_EQ(g_probe_options["aws_access_key_id"], std::string("HMAC"));
    CHECK(g_probe_options.count("allow_http") == 0);
  }
  // Inexpressible configurations: code 9 naming the key, the provider never called.
  g_probe_uri.clear();
  CHECK_EQ(ProbeRead(With(s3, {{"fs.use_iam", "true"}, {"fs.role_arn", "arn:aws:iam::1:role/r"}}), "k.vx", &message),
           9);
  CHECK(message.find("fs.role_arn") != std::string::npos);
  CHECK_EQ(ProbeRead(With(s3, {{"fs.ssl_ca_cert", "/etc/ca.pem"}}), "k.vx", &message), 9);
  CHECK(message.find("fs.ssl_ca_cert") != std::string::npos);
  CHECK(g_probe_uri.empty());
  CHECK_OK(loon_format_provider_unregister("probe", nullptr));
}

// Readers on several threads while the registration is replaced over and over: every read either
// succeeds with the right rows or fails cleanly after an unregistration; releases balance.
void TestConcurrentReplacement() {
  Props props(With(Base(), {{"reader.logical_chunk_rows", "5"}}));
  auto expected = SynthExpected();
  std::atomic<bool> stop{false};
  std::atomic<int> good{0}, bad{0};
  int releases_before = g_releases.load();
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        Groups groups = SynthGroup();
        LoonReaderHandle reader = NewReader(&groups.c, TestSchema(), props);
        int code = 0;
        auto batches = Scan(reader, nullptr, &code);
        if (code == 0) {
          if (ToTable(batches, TestSchema())->Equals(*expected)) {
            ++good;
          } else {
            ++bad;
          }
        }
        loon_reader_destroy(reader);
      }
    });
  }
  LoonFormatProvider p = Callbacks(kSynth);
  for (int i = 0; i < 200; ++i) {
    CHECK_OK(loon_format_provider_register("synth", &p));
    if (i % 3 == 0) CHECK_OK(loon_format_provider_unregister("synth", nullptr));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  CHECK_OK(loon_format_provider_register("synth", &p));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(good > 0);
  CHECK_EQ(bad.load(), 0);
  // The registration from before the loop and 200 of the 201 made in it (one is still registered).
  CHECK_EQ(g_releases.load() - releases_before, 201);
}

}  // namespace

int main() {
  g_root = TestRoot("format_provider");
  MakeSynthFiles();
  TestRegistration();
  LoonFormatProvider synth = Callbacks(kSynth), frag = Callbacks(kSynthFrag);
  CHECK_OK(loon_format_provider_register("synth", &synth));
  CHECK_OK(loon_format_provider_register("synthfrag", &frag));
  TestExploreAndInfo();
  TestReads();
  TestMixedFormats();
  TestMisbehavingProviders();
  TestProviderTake();
  TestEngineListing();
  TestObjectStoreLocations();
  TestConcurrentReplacement();
  CHECK_OK(loon_format_provider_unregister("synth", nullptr));
  CHECK_OK(loon_format_provider_unregister("synthfrag", nullptr));
  std::filesystem::remove_all(g_root);
  return TestMain("format_provider_test");
}
