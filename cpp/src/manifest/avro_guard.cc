#include "manifest/avro_guard.h"

#ifdef LOON_WITH_AVRO

#include <arrow/result.h>

#include <algorithm>
#include <string>
#include <vector>

namespace loon::manifest {

namespace {

avro_schema_t Resolve(avro_schema_t s) {
  // Named types referenced by name are links; their targets are the definitions.
  return is_avro_link(s) ? avro_schema_link_target(s) : s;
}

// Walks the schema with the path of enclosing types, bounded by kMaxSchemaDepth.
class SchemaChecker {
 public:
  arrow::Status Check(avro_schema_t s, int depth) {
    if (s == nullptr) return arrow::Status::Invalid("writer schema has a missing type");
    if (depth > kMaxSchemaDepth) {
      return arrow::Status::Invalid("writer schema nests deeper than ", kMaxSchemaDepth, " levels");
    }
    avro_schema_t target = Resolve(s);
    if (target == nullptr) return arrow::Status::Invalid("writer schema has an unresolved named type");
    if (std::find(path_.begin(), path_.end(), target) != path_.end()) {
      return arrow::Status::Invalid("writer schema has a recursive type '",
                                    avro_schema_name(target) ? avro_schema_name(target) : "?", "'");
    }
    path_.push_back(target);
    auto st = CheckNode(target, depth);
    path_.pop_back();
    return st;
  }

 private:
  arrow::Status CheckNode(avro_schema_t s, int depth) {
    switch (avro_typeof(s)) {
      case AVRO_STRING:
      case AVRO_BYTES:
      case AVRO_INT32:
      case AVRO_INT64:
      case AVRO_FLOAT:
      case AVRO_DOUBLE:
      case AVRO_BOOLEAN:
      case AVRO_NULL:
        return arrow::Status::OK();
      case AVRO_ENUM:
        if (avro_schema_enum_number_of_symbols(s) <= 0) return arrow::Status::Invalid("writer schema has an empty enum");
        return arrow::Status::OK();
      case AVRO_FIXED: {
        int64_t size = avro_schema_fixed_size(s);
        if (size < 0 || size > kMaxFixedSize) {
          return arrow::Status::Invalid("writer schema has a fixed of size ", size, " (allowed 0..", kMaxFixedSize, ")");
        }
        return arrow::Status::OK();
      }
      case AVRO_RECORD: {
        size_t n = avro_schema_record_size(s);
        for (size_t i = 0; i < n; ++i) {
          ARROW_RETURN_NOT_OK(Check(avro_schema_record_field_get_by_index(s, static_cast<int>(i)), depth + 1));
        }
        return arrow::Status::OK();
      }
      case AVRO_ARRAY: {
        avro_schema_t items = avro_schema_array_items(s);
        ARROW_RETURN_NOT_OK(Check(items, depth + 1));
        if (MinSize(items) == 0) {
          return arrow::Status::Invalid("writer schema has an array whose items take no bytes");
        }
        return arrow::Status::OK();
      }
      case AVRO_MAP:
        return Check(avro_schema_map_values(s), depth + 1);  // entries take at least their key
      case AVRO_UNION: {
        size_t n = avro_schema_union_size(s);
        if (n == 0) return arrow::Status::Invalid("writer schema has an empty union");
        for (size_t i = 0; i < n; ++i) {
          ARROW_RETURN_NOT_OK(Check(avro_schema_union_branch(s, static_cast<int>(i)), depth + 1));
        }
        return arrow::Status::OK();
      }
      default:
        return arrow::Status::Invalid("writer schema has an unsupported type '", avro_schema_type_name(s), "'");
    }
  }

 public:
  // Fewest bytes one value takes (schema already checked: finite, no recursion).
  static int64_t MinSize(avro_schema_t s) {
    s = Resolve(s);
    switch (avro_typeof(s)) {
      case AVRO_NULL:
        return 0;
      case AVRO_FLOAT:
        return 4;
      case AVRO_DOUBLE:
        return 8;
      case AVRO_FIXED:
        return avro_schema_fixed_size(s);
      case AVRO_RECORD: {
        int64_t total = 0;
        size_t n = avro_schema_record_size(s);
        for (size_t i = 0; i < n; ++i) total += MinSize(avro_schema_record_field_get_by_index(s, static_cast<int>(i)));
        return total;
      }
      default:
        return 1;  // a varint: length, count, index or the value itself
    }
  }

 private:
  std::vector<avro_schema_t> path_;
};

// Walks one encoded value; recursion follows the (checked, shallow) schema, not the data.
class EncodingChecker {
 public:
  EncodingChecker(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  arrow::Status Value(avro_schema_t s) {
    s = Resolve(s);
    switch (avro_typeof(s)) {
      case AVRO_NULL:
        return arrow::Status::OK();
      case AVRO_BOOLEAN:
        return Skip(1);
      case AVRO_INT32:
      case AVRO_INT64:
        return Long().status();
      case AVRO_FLOAT:
        return Skip(4);
      case AVRO_DOUBLE:
        return Skip(8);
      case AVRO_STRING:
      case AVRO_BYTES: {
        ARROW_ASSIGN_OR_RAISE(int64_t n, Long());
        if (n < 0) return arrow::Status::Invalid("negative length ", n);
        return Skip(n);
      }
      case AVRO_FIXED:
        return Skip(avro_schema_fixed_size(s));
      case AVRO_ENUM: {
        ARROW_ASSIGN_OR_RAISE(int64_t i, Long());
        if (i < 0 || i >= avro_schema_enum_number_of_symbols(s)) return arrow::Status::Invalid("bad enum index ", i);
        return arrow::Status::OK();
      }
      case AVRO_UNION: {
        ARROW_ASSIGN_OR_RAISE(int64_t i, Long());
        if (i < 0 || static_cast<size_t>(i) >= avro_schema_union_size(s)) {
          return arrow::Status::Invalid("bad union branch ", i);
        }
        return Value(avro_schema_union_branch(s, static_cast<int>(i)));
      }
      case AVRO_RECORD: {
        size_t n = avro_schema_record_size(s);
        for (size_t i = 0; i < n; ++i) {
          ARROW_RETURN_NOT_OK(Value(avro_schema_record_field_get_by_index(s, static_cast<int>(i))));
        }
        return arrow::Status::OK();
      }
      case AVRO_ARRAY: {
        avro_schema_t items = avro_schema_array_items(s);
        return Blocks(SchemaChecker::MinSize(items), [&] { return Value(items); });
      }
      case AVRO_MAP: {
        avro_schema_t values = avro_schema_map_values(s);
        return Blocks(1 + SchemaChecker::MinSize(values), [&]() -> arrow::Status {
          ARROW_ASSIGN_OR_RAISE(int64_t key_length, Long());  // the key: a string
          if (key_length < 0) return arrow::Status::Invalid("negative length ", key_length);
          ARROW_RETURN_NOT_OK(Skip(key_length));
          return Value(values);
        });
      }
      default:
        return arrow::Status::Invalid("unsupported type '", avro_schema_type_name(s), "'");
    }
  }

 private:
  size_t Remaining() const { return static_cast<size_t>(end_ - p_); }

  arrow::Status Skip(int64_t n) {
    if (n < 0 || static_cast<uint64_t>(n) > Remaining()) {
      return arrow::Status::Invalid("declares ", n, " bytes where ", Remaining(), " remain");
    }
    p_ += n;
    return arrow::Status::OK();
  }

  arrow::Result<int64_t> Long() {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) return arrow::Status::Invalid("unexpected end of data");
      uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));  // zigzag
    }
    return arrow::Status::Invalid("varint longer than 10 bytes");
  }

  // Array/map blocks: a count (negative: followed by a byte size), zero ends the list.
  template <typename Fn>
  arrow::Status Blocks(int64_t min_item_size, Fn&& item) {
    while (true) {
      ARROW_ASSIGN_OR_RAISE(int64_t count, Long());
      if (count == 0) return arrow::Status::OK();
      if (count < 0) {
        if (count == INT64_MIN) return arrow::Status::Invalid("bad block count");
        count = -count;
        ARROW_ASSIGN_OR_RAISE(int64_t bytes, Long());
        if (bytes < 0 || static_cast<uint64_t>(bytes) > Remaining()) {
          return arrow::Status::Invalid("block declares ", bytes, " bytes where ", Remaining(), " remain");
        }
      }
      // Checked before a single item is read: the count must fit in the bytes that remain.
      if (static_cast<uint64_t>(count) > Remaining() / static_cast<uint64_t>(std::max<int64_t>(1, min_item_size))) {
        return arrow::Status::Invalid("block declares ", count, " items where ", Remaining(), " bytes remain");
      }
      for (int64_t i = 0; i < count; ++i) ARROW_RETURN_NOT_OK(item());
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace

arrow::Status CheckWriterSchema(avro_schema_t schema) { return SchemaChecker().Check(schema, 0); }

arrow::Status CheckEncoding(avro_schema_t schema, const uint8_t* data, size_t size) {
  return EncodingChecker(data, size).Value(schema);
}

}  // namespace loon::manifest

#endif  // LOON_WITH_AVRO
