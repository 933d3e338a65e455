// Avro binary encoding of the Manifest record (README "Manifest files"), without libavro.
//
// A commit serializes a whole manifest and the next one reads it back; with libavro's generic
// values both cost a malloc per field and grew to ~100 ms for a 1000-file manifest. The encoding
// of a record under a schema we know is simple (zigzag varints, length-prefixed strings, blocks of
// items ending with a 0 count), so manifests are written here, byte for byte as libavro writes
// them, and a container whose embedded writer schema is exactly ours is read here too. Manifests
// of other writer schemas (older or foreign writers) go through libavro (avro_codec.cc).
//
// Reading is strictly bounds-checked: every length and block count must fit in the bytes that
// remain, strings must be UTF-8, and every failure is an IOError (no allocation is sized from
// a count that the data cannot back).
#pragma once

#include <arrow/result.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "manifest/manifest.h"

namespace loon::manifest {

class AvroEncoder {
 public:
  void Long(int64_t v);
  void Int(int32_t v) { Long(v); }
  void Bytes(const void* data, size_t size);
  void String(const std::string& s) { Bytes(s.data(), s.size()); }
  void Fixed(const void* data, size_t size) { out_.append(static_cast<const char*>(data), size); }
  void StringArray(const std::vector<std::string>& items);
  void StringMap(const std::map<std::string, std::string>& m);
  // The Manifest record of the schema, fields in schema order. With `stored_paths`, `m` is in full
  // form and its paths are written in stored form.
  void Manifest(const loon::manifest::Manifest& m, const PathRules* stored_paths = nullptr);

  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class AvroDecoder {
 public:
  // `utf8`: strings must be valid UTF-8 (Avro strings; the legacy format never checked).
  AvroDecoder(const uint8_t* data, int64_t size, bool utf8) : p_(data), end_(data + size), utf8_(utf8) {}

  arrow::Result<int64_t> Long();
  arrow::Result<int32_t> Int();
  arrow::Result<std::string> String();
  // Raw bytes of a `fixed` of `size`.
  arrow::Result<const uint8_t*> Fixed(int64_t size);
  // Array/map blocks: calls item() for each element; negative counts carry a byte size.
  template <typename Fn>
  arrow::Status Blocks(Fn&& item) {
    while (true) {
      ARROW_ASSIGN_OR_RAISE(int64_t count, Long());
      if (count == 0) return arrow::Status::OK();
      if (count < 0) {
        if (count == INT64_MIN) return arrow::Status::IOError("bad block count");
        count = -count;
        ARROW_ASSIGN_OR_RAISE(int64_t bytes, Long());
        (void)bytes;
      }
      // Every element takes at least one byte, so a count beyond the remaining bytes is corrupt.
      if (count > end_ - p_) return arrow::Status::IOError("block count ", count, " exceeds data");
      for (int64_t i = 0; i < count; ++i) ARROW_RETURN_NOT_OK(item());
    }
  }
  arrow::Result<std::vector<std::string>> StringArray();
  // Repeated keys: the last value wins.
  arrow::Result<std::map<std::string, std::string>> StringMap();
  // The Manifest record of the schema.
  arrow::Result<loon::manifest::Manifest> Manifest();

  int64_t remaining() const { return end_ - p_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  bool utf8_;
};

}  // namespace loon::manifest
