#include "manifest/avro_binary.h"

#include <arrow/util/utf8.h>

namespace loon::manifest {

// ---- encoding -------------------------------------------------------------------------------

void AvroEncoder::Long(int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);  // zigzag
  while (z >= 0x80) {
    out_.push_back(static_cast<char>((z & 0x7F) | 0x80));
    z >>= 7;
  }
  out_.push_back(static_cast<char>(z));
}

void AvroEncoder::Bytes(const void* data, size_t size) {
  Long(static_cast<int64_t>(size));
  out_.append(static_cast<const char*>(data), size);
}

// As libavro writes arrays and maps: one block holding every item (none when empty), then 0.
void AvroEncoder::StringArray(const std::vector<std::string>& items) {
  if (!items.empty()) {
    Long(static_cast<int64_t>(items.size()));
    for (const auto& s : items) String(s);
  }
  Long(0);
}

void AvroEncoder::StringMap(const std::map<std::string, std::string>& m) {
  if (!m.empty()) {
    Long(static_cast<int64_t>(m.size()));
    for (const auto& [k, v] : m) {
      String(k);
      String(v);
    }
  }
  Long(0);
}

namespace {

template <typename T, typename Fn>
void Items(AvroEncoder& e, const T& items, Fn&& item) {
  if (!items.empty()) {
    e.Long(static_cast<int64_t>(items.size()));
    for (const auto& x : items) item(x);
  }
  e.Long(0);
}

}  // namespace

void AvroEncoder::Manifest(const loon::manifest::Manifest& m, const PathRules* stored_paths) {
  std::string scratch;
  auto Path = [&](PathKind kind, const std::string& p) {
    if (stored_paths == nullptr) {
      String(p);
    } else {
      std::string_view v = stored_paths->StoredView(kind, p, &scratch);
      Bytes(v.data(), v.size());
    }
  };
  Items(*this, m.column_groups, [&](const ColumnGroup& g) {
    StringArray(g.columns);
    Items(*this, g.files, [&](const ColumnGroupFile& f) {
      Path(PathKind::kData, f.path);
      Long(f.start_index);
      Long(f.end_index);
      StringMap(f.properties);
    });
    String(g.format);
  });
  Items(*this, m.delta_logs, [&](const DeltaLog& d) {
    Path(PathKind::kDelta, d.path);
    Int(d.type);
    Long(d.num_entries);
  });
  Items(*this, m.stats, [&](const std::pair<const std::string, Statistics>& s) {
    String(s.first);
    Items(*this, s.second.paths, [&](const std::string& p) { Path(PathKind::kStats, p); });
    StringMap(s.second.metadata);
  });
  Items(*this, m.indexes, [&](const IndexInfo& x) {
    String(x.column_name);
    String(x.index_name);
    String(x.index_type);
    Path(PathKind::kIndex, x.path);
    for (int64_t v : {x.field_id, x.index_id, x.build_id, x.index_version, x.num_rows, x.serialized_size,
                      x.mem_size}) {
      Long(v);
    }
    for (int32_t v : {x.current_index_version, x.current_scalar_index_version, x.index_store_path_version}) Int(v);
    StringArray(x.index_file_keys);
    StringMap(x.properties);
  });
  Items(*this, m.lob_files, [&](const LobFileInfo& l) {
    Path(PathKind::kLob, l.path);
    for (int64_t v : {l.field_id, l.total_rows, l.valid_rows, l.file_size_bytes}) Long(v);
  });
}

// ---- decoding -------------------------------------------------------------------------------

arrow::Result<int64_t> AvroDecoder::Long() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ >= end_) return arrow::Status::IOError("unexpected end of data");
    uint8_t b = *p_++;
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));  // zigzag
  }
  return arrow::Status::IOError("varint too long");
}

arrow::Result<int32_t> AvroDecoder::Int() {
  ARROW_ASSIGN_OR_RAISE(int64_t v, Long());
  if (v < INT32_MIN || v > INT32_MAX) return arrow::Status::IOError("int out of range");
  return static_cast<int32_t>(v);
}

arrow::Result<std::string> AvroDecoder::String() {
  ARROW_ASSIGN_OR_RAISE(int64_t n, Long());
  if (n < 0 || n > end_ - p_) return arrow::Status::IOError("bad string length ", n);
  std::string s(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
  p_ += n;
  // Avro strings are UTF-8; anything else is damage (and would reach callers as text).
  if (utf8_ && !arrow::util::ValidateUTF8(s)) return arrow::Status::IOError("a string is not valid UTF-8");
  return s;
}

arrow::Result<const uint8_t*> AvroDecoder::Fixed(int64_t size) {
  if (size < 0 || size > end_ - p_) return arrow::Status::IOError("unexpected end of data");
  const uint8_t* out = p_;
  p_ += size;
  return out;
}

arrow::Result<std::vector<std::string>> AvroDecoder::StringArray() {
  std::vector<std::string> out;
  ARROW_RETURN_NOT_OK(Blocks([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto s, String());
    out.push_back(std::move(s));
    return arrow::Status::OK();
  }));
  return out;
}

arrow::Result<std::map<std::string, std::string>> AvroDecoder::StringMap() {
  std::map<std::string, std::string> out;
  ARROW_RETURN_NOT_OK(Blocks([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto k, String());
    ARROW_ASSIGN_OR_RAISE(auto v, String());
    out[std::move(k)] = std::move(v);
    return arrow::Status::OK();
  }));
  return out;
}

arrow::Result<loon::manifest::Manifest> AvroDecoder::Manifest() {
  loon::manifest::Manifest m;
  ARROW_RETURN_NOT_OK(Blocks([&]() -> arrow::Status {
    ColumnGroup g;
    ARROW_ASSIGN_OR_RAISE(g.columns, StringArray());
    ARROW_RETURN_NOT_OK(Blocks([&]() -> arrow::Status {
      ColumnGroupFile f;
      ARROW_ASSIGN_OR_RAISE(f.path, String());
      ARROW_ASSIGN_OR_RAISE(f.start_index, Long());
      ARROW_ASSIGN_OR_RAISE(f.end_index, Long());
      ARROW_ASSIGN_OR_RAISE(f.properties, StringMap());
      g.files.push_back(std::move(f));
      return arrow::Status::OK();
    }));
    ARROW_ASSIGN_OR_RAISE(g.format, String());
    m.column_groups.push_back(std::move(g));
    return arrow::Status::OK();
  }));
  ARROW_RETURN_NOT_OK(Blocks([&]() -> arrow::Status {
    DeltaLog d;
    ARROW_ASSIGN_OR_RAISE(d.path, String());
    ARROW_ASSIGN_OR_RAISE(d.type, Int());
    ARROW_ASSIGN_OR_RAISE(d.num_entries, Long());
    m.delta_logs.push_back(std::move(d));
    return arrow::Status::OK();
  }));
  ARROW_RETURN_NOT_OK(Blocks([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto key, String());
    Statistics s;
    ARROW_ASSIGN_OR_RAISE(s.paths, StringArray());
    ARROW_ASSIGN_OR_RAISE(s.metadata, StringMap());
    m.stats[std::move(key)] = std::move(s);
    return arrow::Status::OK();
  }));
  ARROW_RETURN_NOT_OK(Blocks([&]() -> arrow::Status {
    IndexInfo x;
    ARROW_ASSIGN_OR_RAISE(x.column_name, String());
    ARROW_ASSIGN_OR_RAISE(x.index_name, String());
    ARROW_ASSIGN_OR_RAISE(x.index_type, String());
    ARROW_ASSIGN_OR_RAISE(x.path, String());
    for (int64_t* f : {&x.field_id, &x.index_id, &x.build_id, &x.index_version, &x.num_rows, &x.serialized_size,
                       &x.mem_size}) {
      ARROW_ASSIGN_OR_RAISE(*f, Long());
    }
    for (int32_t* f : {&x.current_index_version, &x.current_scalar_index_version, &x.index_store_path_version}) {
      ARROW_ASSIGN_OR_RAISE(*f, Int());
    }
    ARROW_ASSIGN_OR_RAISE(x.index_file_keys, StringArray());
    ARROW_ASSIGN_OR_RAISE(x.properties, StringMap());
    m.indexes.push_back(std::move(x));
    return arrow::Status::OK();
  }));
  ARROW_RETURN_NOT_OK(Blocks([&]() -> arrow::Status {
    LobFileInfo l;
    ARROW_ASSIGN_OR_RAISE(l.path, String());
    for (int64_t* f : {&l.field_id, &l.total_rows, &l.valid_rows, &l.file_size_bytes}) {
      ARROW_ASSIGN_OR_RAISE(*f, Long());
    }
    m.lob_files.push_back(std::move(l));
    return arrow::Status::OK();
  }));
  return m;
}

}  // namespace loon::manifest
