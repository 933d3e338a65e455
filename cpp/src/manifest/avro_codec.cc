// Manifest <-> bytes. Container files (README "Manifest files") are written by avro_binary.h,
// framing included, so the embedded schema is exactly our JSON (libavro's own file writer
// re-serializes the schema and drops field defaults). A container whose writer schema is ours is
// read by avro_binary.h too; any other writer schema is resolved by name through libavro's C
// value API, which only sees a record whose writer schema and encoded counts and lengths passed
// avro_guard.h. Every reader is bounds-checked over memory (never FILE* parsing), so damaged or
// hostile files end in an error, not a crash or a runaway allocation. Legacy raw files (README
// "Manifest files": legacy) are hand-decoded.
#include <arrow/buffer.h>
#include <arrow/util/utf8.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <mutex>
#include <random>
#include <string_view>
#include <unordered_set>

#include "common/status.h"
#include "manifest/avro_binary.h"
#include "manifest/avro_guard.h"
#include "manifest/manifest.h"

#ifdef LOON_WITH_AVRO
#include <avro.h>
#endif

namespace loon::manifest {

namespace {

const char kSchemaJson[] =
    R"({"type":"record","name":"Manifest","namespace":"milvus_storage","fields":[)"
    R"({"name":"column_groups","type":{"type":"array","items":{"type":"record","name":"ColumnGroup","fields":[)"
    R"({"name":"columns","type":{"type":"array","items":"string"}},)"
    R"({"name":"files","type":{"type":"array","items":{"type":"record","name":"ColumnGroupFile","fields":[)"
    R"({"name":"path","type":"string"},)"
    R"({"name":"start_index","type":"long","default":0},)"
    R"({"name":"end_index","type":"long","default":0},)"
    R"({"name":"properties","type":{"type":"map","values":"string"},"default":{}}]}}},)"
    R"({"name":"format","type":"string"}]}}},)"
    R"({"name":"delta_logs","type":{"type":"array","items":{"type":"record","name":"DeltaLog","fields":[)"
    R"({"name":"path","type":"string"},{"name":"type","type":"int"},{"name":"num_entries","type":"long"}]}}},)"
    R"({"name":"stats","type":{"type":"map","values":{"type":"record","name":"Statistics","fields":[)"
    R"({"name":"paths","type":{"type":"array","items":"string"}},)"
    R"({"name":"metadata","type":{"type":"map","values":"string"},"default":{}}]}},"default":{}},)"
    R"({"name":"indexes","type":{"type":"array","items":{"type":"record","name":"Index","fields":[)"
    R"({"name":"column_name","type":"string"},)"
    R"({"name":"index_name","type":"string","default":""},)"
    R"({"name":"index_type","type":"string"},)"
    R"({"name":"path","type":"string"},)"
    R"({"name":"field_id","type":"long","default":0},)"
    R"({"name":"index_id","type":"long","default":0},)"
    R"({"name":"build_id","type":"long","default":0},)"
    R"({"name":"index_version","type":"long","default":0},)"
    R"({"name":"num_rows","type":"long","default":0},)"
    R"({"name":"serialized_size","type":"long","default":0},)"
    R"({"name":"mem_size","type":"long","default":0},)"
    R"({"name":"current_index_version","type":"int","default":0},)"
    R"({"name":"current_scalar_index_version","type":"int","default":0},)"
    R"({"name":"index_store_path_version","type":"int","default":0},)"
    R"({"name":"index_file_keys","type":{"type":"array","items":"string"},"default":[]},)"
    R"({"name":"properties","type":{"type":"map","values":"string"},"default":{}}]}},"default":[]},)"
    R"({"name":"lob_files","type":{"type":"array","items":{"type":"record","name":"LobFileInfo","fields":[)"
    R"({"name":"path","type":"string"},)"
    R"({"name":"field_id","type":"long"},)"
    R"({"name":"total_rows","type":"long"},)"
    R"({"name":"valid_rows","type":"long"},)"
    R"({"name":"file_size_bytes","type":"long"}]}},"default":[]}]})";

const uint8_t kContainerMagic[4] = {'O', 'b', 'j', 1};

arrow::Status Corrupt(const std::string& name, const std::string& what) {
  return arrow::Status::IOError("cannot parse manifest '", name, "': ", what);
}

// ---------------------------------------------------------------------------------------------
// Legacy raw format: plain Avro binary of the same record shape, hand-decoded (no UTF-8 check, as
// before).

constexpr int32_t kLegacyMagic = 0x4D494C56;

arrow::Result<Manifest> ParseLegacy(const uint8_t* data, int64_t size) {
  AvroDecoder d(data, size, /*utf8=*/false);
  ARROW_ASSIGN_OR_RAISE(int32_t magic, d.Int());
  if (magic != kLegacyMagic) return arrow::Status::IOError("neither an Avro container nor a raw manifest (bad magic)");
  ARROW_ASSIGN_OR_RAISE(int32_t version, d.Int());
  if (version < 1 || version > 6) return arrow::Status::IOError("unsupported raw manifest version ", version);
  Manifest m;
  ARROW_RETURN_NOT_OK(d.Blocks([&]() -> arrow::Status {
    ColumnGroup g;
    ARROW_ASSIGN_OR_RAISE(g.columns, d.StringArray());
    ARROW_RETURN_NOT_OK(d.Blocks([&]() -> arrow::Status {
      ColumnGroupFile f;
      ARROW_ASSIGN_OR_RAISE(f.path, d.String());
      ARROW_ASSIGN_OR_RAISE(f.start_index, d.Long());
      ARROW_ASSIGN_OR_RAISE(f.end_index, d.Long());
      if (version < 4) {
        ARROW_ASSIGN_OR_RAISE(auto ignored, d.String());  // per-file metadata bytes: discarded
      } else {
        ARROW_ASSIGN_OR_RAISE(f.properties, d.StringMap());
      }
      g.files.push_back(std::move(f));
      return arrow::Status::OK();
    }));
    ARROW_ASSIGN_OR_RAISE(g.format, d.String());
    m.column_groups.push_back(std::move(g));
    return arrow::Status::OK();
  }));
  ARROW_RETURN_NOT_OK(d.Blocks([&]() -> arrow::Status {
    DeltaLog l;
    ARROW_ASSIGN_OR_RAISE(l.path, d.String());
    ARROW_ASSIGN_OR_RAISE(l.type, d.Int());
    ARROW_ASSIGN_OR_RAISE(l.num_entries, d.Long());
    m.delta_logs.push_back(std::move(l));
    return arrow::Status::OK();
  }));
  ARROW_RETURN_NOT_OK(d.Blocks([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto key, d.String());
    Statistics s;
    ARROW_ASSIGN_OR_RAISE(s.paths, d.StringArray());
    if (version >= 3) {
      ARROW_ASSIGN_OR_RAISE(s.metadata, d.StringMap());
    }
    m.stats[std::move(key)] = std::move(s);
    return arrow::Status::OK();
  }));
  // v2/v3 writers appended an old-style index array here; like upstream we leave it unread.
  if (version >= 6) {
    ARROW_RETURN_NOT_OK(d.Blocks([&]() -> arrow::Status {
      IndexInfo x;
      ARROW_ASSIGN_OR_RAISE(x.column_name, d.String());
      ARROW_ASSIGN_OR_RAISE(x.index_name, d.String());
      ARROW_ASSIGN_OR_RAISE(x.index_type, d.String());
      ARROW_ASSIGN_OR_RAISE(x.path, d.String());
      for (int64_t* f : {&x.field_id, &x.index_id, &x.build_id, &x.index_version, &x.num_rows, &x.serialized_size,
                         &x.mem_size}) {
        ARROW_ASSIGN_OR_RAISE(*f, d.Long());
      }
      for (int32_t* f : {&x.current_index_version, &x.current_scalar_index_version, &x.index_store_path_version}) {
        ARROW_ASSIGN_OR_RAISE(*f, d.Int());
      }
      ARROW_ASSIGN_OR_RAISE(x.index_file_keys, d.StringArray());
      ARROW_ASSIGN_OR_RAISE(x.properties, d.StringMap());
      m.indexes.push_back(std::move(x));
      return arrow::Status::OK();
    }));
  }
  if (version >= 5) {
    ARROW_RETURN_NOT_OK(d.Blocks([&]() -> arrow::Status {
      LobFileInfo l;
      ARROW_ASSIGN_OR_RAISE(l.path, d.String());
      for (int64_t* f : {&l.field_id, &l.total_rows, &l.valid_rows, &l.file_size_bytes}) {
        ARROW_ASSIGN_OR_RAISE(*f, d.Long());
      }
      m.lob_files.push_back(std::move(l));
      return arrow::Status::OK();
    }));
  }
  return m;
}

#ifdef LOON_WITH_AVRO
// ---------------------------------------------------------------------------------------------
// RAII around libavro objects.

struct SchemaRef {
  avro_schema_t s = nullptr;
  ~SchemaRef() {
    if (s) avro_schema_decref(s);
  }
};
struct IfaceRef {
  avro_value_iface_t* i = nullptr;
  ~IfaceRef() {
    if (i) avro_value_iface_decref(i);
  }
};
struct ValueRef {
  avro_value_t v{};
  bool live = false;
  ~ValueRef() {
    if (live) avro_value_decref(&v);
  }
};
struct ReaderRef {
  avro_reader_t r = nullptr;
  ~ReaderRef() {
    if (r) avro_reader_free(r);
  }
};
struct WriterRef {
  avro_writer_t w = nullptr;
  ~WriterRef() {
    if (w) avro_writer_free(w);
  }
};

// libavro's binary reader drops the buffer of a bytes/string value whose declared length runs
// past the end of its input (it allocates, the read fails, the pointer is lost). Damaged manifests
// take that path, so while a manifest is parsed every libavro allocation of this thread is
// recorded, and whatever a failed parse leaves alive after its values are released is freed.
class AvroAllocationScope {
 public:
  AvroAllocationScope() : previous_(current_) {
    static std::once_flag installed;
    std::call_once(installed, [] { avro_set_allocator(&Allocate, nullptr); });
    current_ = &live_;
  }
  ~AvroAllocationScope() { current_ = previous_; }
  AvroAllocationScope(const AvroAllocationScope&) = delete;
  AvroAllocationScope& operator=(const AvroAllocationScope&) = delete;

  // Call only once every libavro object created inside the scope has been released.
  void FreeLeftovers() {
    for (void* p : live_) std::free(p);
    live_.clear();
  }

 private:
  // Same contract as libavro's default allocator (realloc/free), plus the bookkeeping.
  static void* Allocate(void* /*user_data*/, void* ptr, size_t /*old_size*/, size_t new_size) {
    if (new_size == 0) {
      if (current_ != nullptr) current_->erase(ptr);
      std::free(ptr);
      return nullptr;
    }
    void* out = std::realloc(ptr, new_size);
    if (out != nullptr && current_ != nullptr) {
      // Only blocks born inside the scope are ours to reclaim.
      if (ptr == nullptr || current_->erase(ptr) > 0) current_->insert(out);
    }
    return out;
  }

  static thread_local std::unordered_set<void*>* current_;
  std::unordered_set<void*> live_;
  std::unordered_set<void*>* previous_;
};

thread_local std::unordered_set<void*>* AvroAllocationScope::current_ = nullptr;

arrow::Status AvroError(const std::string& what) {
  return arrow::Status::IOError(what, ": ", avro_strerror());
}

#define AVRO_OK(expr, what)                                \
  do {                                                     \
    if ((expr) != 0) return AvroError(what);               \
  } while (0)

// One generic value of a schema parsed from JSON.
struct Generic {
  SchemaRef schema;
  IfaceRef iface;
  ValueRef value;
};

// `untrusted`: the schema came from a file and is checked before libavro builds a class from it.
arrow::Status MakeGeneric(const char* json, size_t len, Generic* g, bool untrusted = false) {
  // On failure libavro frees the partial schema but leaves the out pointer dangling.
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(json, len, &schema) != 0) return AvroError("bad Avro schema");
  g->schema.s = schema;
  if (untrusted) ARROW_RETURN_NOT_OK(CheckWriterSchema(schema));
  g->iface.i = avro_generic_class_from_schema(g->schema.s);
  if (g->iface.i == nullptr) return AvroError("cannot build Avro value class");
  AVRO_OK(avro_generic_value_new(g->iface.i, &g->value.v), "cannot create Avro value");
  g->value.live = true;
  return arrow::Status::OK();
}

// ---- reading: name-based resolution against the writer schema, defaults per README "Manifest files" --------

class Extractor {
 public:
  explicit Extractor(std::string name) : name_(std::move(name)) {}

  arrow::Status Bad(const std::string& what) const { return Corrupt(name_, what); }

  // Field by name; nullopt if the writer schema lacks it (the default applies).
  std::optional<avro_value_t> Opt(avro_value_t* rec, const char* name) {
    avro_value_t f;
    if (avro_value_get_type(rec) != AVRO_RECORD) return std::nullopt;
    if (avro_value_get_by_name(rec, name, &f, nullptr) != 0) return std::nullopt;
    return f;
  }
  arrow::Result<avro_value_t> Req(avro_value_t* rec, const char* name) {
    auto f = Opt(rec, name);
    if (!f) return Bad(std::string("missing required field '") + name + "'");
    return *f;
  }
  arrow::Result<std::string> Str(avro_value_t* v) {
    avro_type_t t = avro_value_get_type(v);
    const char* p = nullptr;
    size_t n = 0;
    if (t == AVRO_STRING) {
      if (avro_value_get_string(v, &p, &n) != 0) return Bad("bad string");
      std::string s(p, n > 0 ? n - 1 : 0);  // size includes the NUL
      // Avro strings are UTF-8; anything else is damage (and would reach callers as text).
      if (!arrow::util::ValidateUTF8(s)) return Bad("a string is not valid UTF-8");
      return s;
    }
    if (t == AVRO_BYTES) {  // a writer schema may declare the text fields as bytes
      const void* b = nullptr;
      if (avro_value_get_bytes(v, &b, &n) != 0) return Bad("bad bytes");
      std::string s(static_cast<const char*>(b), n);
      if (!arrow::util::ValidateUTF8(s)) return Bad("a string is not valid UTF-8");
      return s;
    }
    return Bad("expected a string");
  }
  arrow::Result<int64_t> Long(avro_value_t* v) {
    avro_type_t t = avro_value_get_type(v);
    if (t == AVRO_INT32) {
      int32_t x;
      if (avro_value_get_int(v, &x) != 0) return Bad("bad int");
      return x;
    }
    if (t == AVRO_INT64) {
      int64_t x;
      if (avro_value_get_long(v, &x) != 0) return Bad("bad long");
      return x;
    }
    return Bad("expected an integer");
  }
  arrow::Result<std::string> StrField(avro_value_t* rec, const char* name, std::optional<std::string> dflt = {}) {
    auto f = Opt(rec, name);
    if (!f) {
      if (dflt) return *dflt;
      return Bad(std::string("missing required field '") + name + "'");
    }
    return Str(&*f);
  }
  arrow::Result<int64_t> LongField(avro_value_t* rec, const char* name, std::optional<int64_t> dflt = {}) {
    auto f = Opt(rec, name);
    if (!f) {
      if (dflt) return *dflt;
      return Bad(std::string("missing required field '") + name + "'");
    }
    return Long(&*f);
  }
  arrow::Result<int32_t> IntField(avro_value_t* rec, const char* name, std::optional<int32_t> dflt = {}) {
    ARROW_ASSIGN_OR_RAISE(int64_t x, LongField(rec, name, dflt));
    if (x < INT32_MIN || x > INT32_MAX) return Bad(std::string("int out of range in '") + name + "'");
    return static_cast<int32_t>(x);
  }
  // Calls fn(elem) for each array element; absent + optional -> nothing.
  template <typename Fn>
  arrow::Status Array(avro_value_t* rec, const char* name, bool required, Fn&& fn) {
    auto f = Opt(rec, name);
    if (!f) return required ? Bad(std::string("missing required field '") + name + "'") : arrow::Status::OK();
    if (avro_value_get_type(&*f) != AVRO_ARRAY) return Bad(std::string("'") + name + "' is not an array");
    size_t n = 0;
    avro_value_get_size(&*f, &n);
    for (size_t i = 0; i < n; ++i) {
      avro_value_t e;
      if (avro_value_get_by_index(&*f, i, &e, nullptr) != 0) return Bad("bad array element");
      ARROW_RETURN_NOT_OK(fn(&e));
    }
    return arrow::Status::OK();
  }
  template <typename Fn>
  arrow::Status Map(avro_value_t* rec, const char* name, bool required, Fn&& fn) {
    auto f = Opt(rec, name);
    if (!f) return required ? Bad(std::string("missing required field '") + name + "'") : arrow::Status::OK();
    if (avro_value_get_type(&*f) != AVRO_MAP) return Bad(std::string("'") + name + "' is not a map");
    size_t n = 0;
    avro_value_get_size(&*f, &n);
    for (size_t i = 0; i < n; ++i) {
      avro_value_t e;
      const char* key = nullptr;
      if (avro_value_get_by_index(&*f, i, &e, &key) != 0 || key == nullptr) return Bad("bad map entry");
      ARROW_RETURN_NOT_OK(fn(std::string(key), &e));
    }
    return arrow::Status::OK();
  }
  arrow::Result<std::vector<std::string>> Strings(avro_value_t* rec, const char* name, bool required) {
    std::vector<std::string> out;
    ARROW_RETURN_NOT_OK(Array(rec, name, required, [&](avro_value_t* e) -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto s, Str(e));
      out.push_back(std::move(s));
      return arrow::Status::OK();
    }));
    return out;
  }
  arrow::Result<std::map<std::string, std::string>> StringMap(avro_value_t* rec, const char* name) {
    std::map<std::string, std::string> out;
    ARROW_RETURN_NOT_OK(Map(rec, name, false, [&](const std::string& k, avro_value_t* e) -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(out[k], Str(e));
      return arrow::Status::OK();
    }));
    return out;
  }

  arrow::Result<Manifest> Read(avro_value_t* root) {
    if (avro_value_get_type(root) != AVRO_RECORD) return Bad("top-level value is not a record");
    Manifest m;
    ARROW_RETURN_NOT_OK(Array(root, "column_groups", true, [&](avro_value_t* g) -> arrow::Status {
      ColumnGroup cg;
      ARROW_ASSIGN_OR_RAISE(cg.columns, Strings(g, "columns", true));
      ARROW_RETURN_NOT_OK(Array(g, "files", true, [&](avro_value_t* f) -> arrow::Status {
        ColumnGroupFile file;
        ARROW_ASSIGN_OR_RAISE(file.path, StrField(f, "path"));
        ARROW_ASSIGN_OR_RAISE(file.start_index, LongField(f, "start_index", 0));
        ARROW_ASSIGN_OR_RAISE(file.end_index, LongField(f, "end_index", 0));
        ARROW_ASSIGN_OR_RAISE(file.properties, StringMap(f, "properties"));
        cg.files.push_back(std::move(file));
        return arrow::Status::OK();
      }));
      ARROW_ASSIGN_OR_RAISE(cg.format, StrField(g, "format"));
      m.column_groups.push_back(std::move(cg));
      return arrow::Status::OK();
    }));
    ARROW_RETURN_NOT_OK(Array(root, "delta_logs", true, [&](avro_value_t* e) -> arrow::Status {
      DeltaLog d;
      ARROW_ASSIGN_OR_RAISE(d.path, StrField(e, "path"));
      ARROW_ASSIGN_OR_RAISE(d.type, IntField(e, "type"));
      ARROW_ASSIGN_OR_RAISE(d.num_entries, LongField(e, "num_entries"));
      m.delta_logs.push_back(std::move(d));
      return arrow::Status::OK();
    }));
    ARROW_RETURN_NOT_OK(Map(root, "stats", false, [&](const std::string& key, avro_value_t* e) -> arrow::Status {
      Statistics s;
      ARROW_ASSIGN_OR_RAISE(s.paths, Strings(e, "paths", true));
      ARROW_ASSIGN_OR_RAISE(s.metadata, StringMap(e, "metadata"));
      m.stats[key] = std::move(s);
      return arrow::Status::OK();
    }));
    ARROW_RETURN_NOT_OK(Array(root, "indexes", false, [&](avro_value_t* e) -> arrow::Status {
      IndexInfo x;
      ARROW_ASSIGN_OR_RAISE(x.column_name, StrField(e, "column_name"));
      ARROW_ASSIGN_OR_RAISE(x.index_name, StrField(e, "index_name", std::string()));
      ARROW_ASSIGN_OR_RAISE(x.index_type, StrField(e, "index_type"));
      ARROW_ASSIGN_OR_RAISE(x.path, StrField(e, "path"));
      ARROW_ASSIGN_OR_RAISE(x.field_id, LongField(e, "field_id", 0));
      ARROW_ASSIGN_OR_RAISE(x.index_id, LongField(e, "index_id", 0));
      ARROW_ASSIGN_OR_RAISE(x.build_id, LongField(e, "build_id", 0));
      ARROW_ASSIGN_OR_RAISE(x.index_version, LongField(e, "index_version", 0));
      ARROW_ASSIGN_OR_RAISE(x.num_rows, LongField(e, "num_rows", 0));
      ARROW_ASSIGN_OR_RAISE(x.serialized_size, LongField(e, "serialized_size", 0));
      ARROW_ASSIGN_OR_RAISE(x.mem_size, LongField(e, "mem_size", 0));
      ARROW_ASSIGN_OR_RAISE(x.current_index_version, IntField(e, "current_index_version", 0));
      ARROW_ASSIGN_OR_RAISE(x.current_scalar_index_version, IntField(e, "current_scalar_index_version", 0));
      ARROW_ASSIGN_OR_RAISE(x.index_store_path_version, IntField(e, "index_store_path_version", 0));
      ARROW_ASSIGN_OR_RAISE(x.index_file_keys, Strings(e, "index_file_keys", false));
      ARROW_ASSIGN_OR_RAISE(x.properties, StringMap(e, "properties"));
      m.indexes.push_back(std::move(x));
      return arrow::Status::OK();
    }));
    ARROW_RETURN_NOT_OK(Array(root, "lob_files", false, [&](avro_value_t* e) -> arrow::Status {
      LobFileInfo l;
      ARROW_ASSIGN_OR_RAISE(l.path, StrField(e, "path"));
      ARROW_ASSIGN_OR_RAISE(l.field_id, LongField(e, "field_id"));
      ARROW_ASSIGN_OR_RAISE(l.total_rows, LongField(e, "total_rows"));
      ARROW_ASSIGN_OR_RAISE(l.valid_rows, LongField(e, "valid_rows"));
      ARROW_ASSIGN_OR_RAISE(l.file_size_bytes, LongField(e, "file_size_bytes"));
      m.lob_files.push_back(std::move(l));
      return arrow::Status::OK();
    }));
    return m;
  }

 private:
  std::string name_;
};

// Decodes one value after CheckEncoding has walked it: libavro allocates what counts and lengths
// declare, so those are checked against the bytes that remain first.
arrow::Status Decode(avro_schema_t schema, const uint8_t* data, size_t size, avro_value_t* v) {
  ARROW_RETURN_NOT_OK(CheckEncoding(schema, data, size));
  ReaderRef r;
  r.r = avro_reader_memory(reinterpret_cast<const char*>(data), static_cast<int64_t>(size));
  if (r.r == nullptr) return AvroError("memory reader");
  AVRO_OK(avro_value_read(r.r, v), "decode");
  return arrow::Status::OK();
}

// Decodes the record with the writer schema embedded in the file (not ours), resolving fields by
// name, through libavro.
arrow::Result<Manifest> DecodeForeignRecord(const std::string& schema_json, const uint8_t* record, size_t record_len,
                                            const std::string& name) {
  Generic writer;
  ARROW_RETURN_NOT_OK(MakeGeneric(schema_json.data(), schema_json.size(), &writer, /*untrusted=*/true));
  ARROW_RETURN_NOT_OK(Decode(writer.schema.s, record, record_len, &writer.value.v));
  return Extractor(name).Read(&writer.value.v);
}

arrow::Result<Manifest> ParseForeignRecord(const std::string& schema_json, const uint8_t* record, size_t record_len,
                                           const std::string& name) {
  AvroAllocationScope allocations;
  auto manifest = DecodeForeignRecord(schema_json, record, record_len, name);  // releases its libavro values
  if (!manifest.ok()) allocations.FreeLeftovers();
  return manifest;
}
#endif  // LOON_WITH_AVRO

// The container framing (Avro specification, "Object Container Files"): magic, metadata map of
// bytes, 16-byte sync marker, then one data block (record count, the records as a byte string,
// the sync marker again). Bytes after the first block are ignored.
struct Container {
  std::string schema_json;
  std::string codec = "null";
  int64_t count = 0;
  const uint8_t* record = nullptr;
  int64_t record_len = 0;
};

arrow::Result<Container> ReadContainer(const uint8_t* data, int64_t size) {
  AvroDecoder d(data, size, /*utf8=*/false);
  ARROW_ASSIGN_OR_RAISE(const uint8_t* magic, d.Fixed(4));
  if (std::memcmp(magic, kContainerMagic, 4) != 0) return arrow::Status::IOError("not an Avro container");
  Container c;
  ARROW_RETURN_NOT_OK(d.Blocks([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto key, d.String());
    ARROW_ASSIGN_OR_RAISE(auto value, d.String());
    if (key == "avro.schema") c.schema_json = std::move(value);
    if (key == "avro.codec") c.codec = std::move(value);
    return arrow::Status::OK();
  }));
  ARROW_ASSIGN_OR_RAISE(const uint8_t* sync, d.Fixed(16));
  ARROW_ASSIGN_OR_RAISE(c.count, d.Long());
  ARROW_ASSIGN_OR_RAISE(c.record_len, d.Long());
  ARROW_ASSIGN_OR_RAISE(c.record, d.Fixed(c.record_len));
  ARROW_ASSIGN_OR_RAISE(const uint8_t* block_sync, d.Fixed(16));
  if (c.schema_json.empty()) return arrow::Status::IOError("container has no avro.schema");
  if (c.codec != "null") return arrow::Status::IOError("unsupported Avro codec '", c.codec, "'");
  if (c.count < 1) return arrow::Status::IOError("container holds no record");
  if (std::memcmp(sync, block_sync, 16) != 0) return arrow::Status::IOError("sync marker mismatch");
  return c;
}

arrow::Result<Manifest> ParseContainer(const uint8_t* data, int64_t size, const std::string& name) {
  ARROW_ASSIGN_OR_RAISE(auto c, ReadContainer(data, size));
  if (c.schema_json == std::string_view(kSchemaJson, sizeof(kSchemaJson) - 1)) {
    // Our own schema (every manifest this engine wrote): decoded directly.
    return AvroDecoder(c.record, c.record_len, /*utf8=*/true).Manifest();
  }
#ifdef LOON_WITH_AVRO
  return ParseForeignRecord(c.schema_json, c.record, static_cast<size_t>(c.record_len), name);
#else
  return Corrupt(name, "writer schema differs from ours and the engine was built without libavro");
#endif
}

}  // namespace

const std::string& SchemaJson() {
  static const std::string json = kSchemaJson;
  return json;
}

namespace {

arrow::Result<std::shared_ptr<arrow::Buffer>> SerializeWith(const Manifest& m, const PathRules* stored_paths) {
  AvroEncoder body;
  body.Manifest(m, stored_paths);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t sync[2] = {rng(), rng()};

  AvroEncoder file;
  file.bytes().reserve(body.bytes().size() + sizeof(kSchemaJson) + 64);
  file.Fixed(kContainerMagic, 4);
  file.Long(2);  // the metadata map: one block of two entries (as libavro writes it)
  file.String("avro.codec");
  file.Bytes("null", 4);
  file.String("avro.schema");
  file.Bytes(kSchemaJson, sizeof(kSchemaJson) - 1);
  file.Long(0);
  file.Fixed(sync, 16);
  file.Long(1);  // one block of one record
  file.Bytes(body.bytes().data(), body.bytes().size());
  file.Fixed(sync, 16);
  return arrow::Buffer::FromString(std::move(file.bytes()));
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::Buffer>> Serialize(const Manifest& stored) { return SerializeWith(stored, nullptr); }

arrow::Result<std::shared_ptr<arrow::Buffer>> SerializeFullForm(const Manifest& full, const std::string& base) {
  PathRules rules(base);
  return SerializeWith(full, &rules);
}

arrow::Result<Manifest> Parse(const uint8_t* data, int64_t size, const std::string& name) {
  if (size <= 0) return Corrupt(name, "empty file");
  arrow::Result<Manifest> r;
  if (size >= 4 && std::memcmp(data, kContainerMagic, 4) == 0) {
    r = ParseContainer(data, size, name);
  } else {
    r = ParseLegacy(data, size);
  }
  if (!r.ok() && r.status().message().find(name) == std::string::npos) {
    return Corrupt(name, r.status().message());
  }
  return r;
}

}  // namespace loon::manifest
