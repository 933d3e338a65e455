#include "reader/page_copy.h"

#include <arrow/io/memory.h>
#include <arrow/util/compression.h>
#include <parquet/column_page.h>
#include <parquet/column_reader.h>
#include <parquet/exception.h>
#include <parquet/properties.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>

namespace loon {

namespace {

// Page bodies are sized by int32 fields of the page header.
constexpr int64_t kMaxPageBytes = std::numeric_limits<int32_t>::max();

// The Thrift compact protocol, just what a Parquet PageHeader needs: i32 and bool fields and
// nested structs (field ids ascending).
class CompactWriter {
 public:
  void I32(int16_t id, int32_t v) {
    Field(id, 5);
    Varint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
  }
  void Bool(int16_t id, bool v) { Field(id, v ? 1 : 2); }
  void BeginStruct(int16_t id) {
    Field(id, 12);
    parents_.push_back(last_);
    last_ = 0;
  }
  void EndStruct() {
    out_.push_back(0);
    last_ = parents_.back();
    parents_.pop_back();
  }
  const std::string& Finish() {
    out_.push_back(0);
    return out_;
  }

 private:
  void Field(int16_t id, uint8_t type) {
    int delta = id - last_;
    if (delta > 0 && delta <= 15) {
      out_.push_back(static_cast<char>((delta << 4) | type));
    } else {
      out_.push_back(static_cast<char>(type));
      Varint((static_cast<uint32_t>(id) << 1) ^ static_cast<uint32_t>(id >> 15));
    }
    last_ = id;
  }
  void Varint(uint32_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }

  std::string out_;
  int16_t last_ = 0;
  std::vector<int16_t> parents_;
};

// Thrift field ids and enum values of parquet.thrift's PageHeader.
enum : int16_t { kType = 1, kUncompressedSize = 2, kCompressedSize = 3, kDataPage = 5, kDictPage = 7, kDataPageV2 = 8 };
enum : int32_t { kPageData = 0, kPageDictionary = 2, kPageDataV2 = 3 };

std::string HeaderOf(const parquet::Page& page, int32_t body) {
  CompactWriter w;
  switch (page.type()) {
    case parquet::PageType::DATA_PAGE: {
      const auto& p = static_cast<const parquet::DataPageV1&>(page);
      w.I32(kType, kPageData);
      w.I32(kUncompressedSize, body);
      w.I32(kCompressedSize, body);
      w.BeginStruct(kDataPage);
      w.I32(1, p.num_values());
      w.I32(2, p.encoding());
      w.I32(3, p.definition_level_encoding());
      w.I32(4, p.repetition_level_encoding());
      w.EndStruct();
      break;
    }
    case parquet::PageType::DATA_PAGE_V2: {
      const auto& p = static_cast<const parquet::DataPageV2&>(page);
      w.I32(kType, kPageDataV2);
      w.I32(kUncompressedSize, body);
      w.I32(kCompressedSize, body);
      w.BeginStruct(kDataPageV2);
      w.I32(1, p.num_values());
      w.I32(2, p.num_nulls());
      w.I32(3, p.num_rows());
      w.I32(4, p.encoding());
      w.I32(5, p.definition_levels_byte_length());
      w.I32(6, p.repetition_levels_byte_length());
      w.Bool(7, false);
      w.EndStruct();
      break;
    }
    default: {  // dictionary page
      const auto& p = static_cast<const parquet::DictionaryPage&>(page);
      w.I32(kType, kPageDictionary);
      w.I32(kUncompressedSize, body);
      w.I32(kCompressedSize, body);
      w.BeginStruct(kDictPage);
      w.I32(1, p.num_values());
      w.I32(2, p.encoding());
      if (p.is_sorted()) w.Bool(3, true);
      w.EndStruct();
      break;
    }
  }
  return w.Finish();
}

// This thread's ZSTD decompressor: one context, reset per page.
arrow::Result<arrow::util::Decompressor*> ThreadDecompressor() {
  thread_local std::shared_ptr<arrow::util::Decompressor> decompressor;
  if (!decompressor) {
    ARROW_ASSIGN_OR_RAISE(auto codec, arrow::util::Codec::Create(arrow::Compression::ZSTD));
    ARROW_ASSIGN_OR_RAISE(decompressor, codec->MakeDecompressor());
  } else {
    ARROW_RETURN_NOT_OK(decompressor->Reset());
  }
  return decompressor.get();
}

// Decompresses `in` (one or more ZSTD frames) and appends the result to `out`. With `expected`
// >= 0 the result must have exactly that size; otherwise up to kMaxPageBytes.
arrow::Status Decompress(const uint8_t* in, int64_t in_len, int64_t expected, arrow::BufferBuilder* out) {
  ARROW_ASSIGN_OR_RAISE(arrow::util::Decompressor * d, ThreadDecompressor());
  const int64_t start = out->length();
  int64_t cap = expected >= 0 ? expected : std::max<int64_t>(4 * in_len, 4096);
  ARROW_RETURN_NOT_OK(out->Reserve(cap));
  int64_t read = 0, written = 0;
  while (read < in_len) {
    ARROW_ASSIGN_OR_RAISE(auto r, d->Decompress(in_len - read, in + read, cap - written,
                                                out->mutable_data() + start + written));
    read += r.bytes_read;
    written += r.bytes_written;
    if (d->IsFinished()) {
      if (read < in_len) ARROW_RETURN_NOT_OK(d->Reset());  // another frame follows
      continue;
    }
    if (written == cap || r.need_more_output) {
      if (expected >= 0 || cap >= kMaxPageBytes) {
        return arrow::Status::IOError("page decompresses to more than ", cap, " bytes");
      }
      cap = std::min(kMaxPageBytes, 2 * cap);
      ARROW_RETURN_NOT_OK(out->Reserve(cap));  // capacity past length(), which is still `start`
      continue;
    }
    if (r.bytes_read == 0 && r.bytes_written == 0) break;
  }
  if (!d->IsFinished() || read != in_len) return arrow::Status::IOError("page holds a truncated ZSTD frame");
  if (expected >= 0 && written != expected) {
    return arrow::Status::IOError("page decompresses to ", written, " bytes, its header says ", expected);
  }
  out->UnsafeAdvance(written);
  return arrow::Status::OK();
}

arrow::Status AppendDecompressed(const parquet::Page& page, arrow::BufferBuilder* out, arrow::BufferBuilder* scratch) {
  const uint8_t* body = page.data();
  const int64_t size = page.size();
  int64_t levels = 0, expected = -1;
  if (page.type() == parquet::PageType::DATA_PAGE_V2) {
    const auto& p = static_cast<const parquet::DataPageV2&>(page);
    if (!p.is_compressed()) {
      std::string header = HeaderOf(page, static_cast<int32_t>(size));
      ARROW_RETURN_NOT_OK(out->Append(header.data(), static_cast<int64_t>(header.size())));
      return out->Append(body, size);
    }
    levels = static_cast<int64_t>(p.definition_levels_byte_length()) + p.repetition_levels_byte_length();
    if (p.definition_levels_byte_length() < 0 || p.repetition_levels_byte_length() < 0 || levels > size) {
      return arrow::Status::IOError("data page v2 levels larger than the page");
    }
  }
  if (page.type() != parquet::PageType::DICTIONARY_PAGE) {
    expected = static_cast<const parquet::DataPage&>(page).uncompressed_size() - levels;
    if (expected < 0) return arrow::Status::IOError("page header gives a negative uncompressed size");
  }
  if (expected >= 0) {  // data page: its size is known, decompress straight into the copy
    if (levels + expected > kMaxPageBytes) return arrow::Status::IOError("page too large");
    std::string header = HeaderOf(page, static_cast<int32_t>(levels + expected));
    ARROW_RETURN_NOT_OK(out->Reserve(static_cast<int64_t>(header.size()) + levels + expected));
    out->UnsafeAppend(reinterpret_cast<const uint8_t*>(header.data()), static_cast<int64_t>(header.size()));
    out->UnsafeAppend(body, levels);
    return Decompress(body + levels, size - levels, expected, out);
  }
  // Dictionary page: its header gives no uncompressed size here; decompress, then write it.
  scratch->Rewind(0);
  ARROW_RETURN_NOT_OK(Decompress(body + levels, size - levels, expected, scratch));
  if (scratch->length() > kMaxPageBytes) return arrow::Status::IOError("page too large");
  std::string header = HeaderOf(page, static_cast<int32_t>(scratch->length()));
  ARROW_RETURN_NOT_OK(out->Reserve(static_cast<int64_t>(header.size()) + scratch->length()));
  out->UnsafeAppend(reinterpret_cast<const uint8_t*>(header.data()), static_cast<int64_t>(header.size()));
  out->UnsafeAppend(scratch->data(), scratch->length());
  return arrow::Status::OK();
}

}  // namespace

bool CanDecompressPages(parquet::Compression::type codec) { return codec == parquet::Compression::ZSTD; }

arrow::Result<CopiedPages> CopyPages(const uint8_t* pages, int64_t size, parquet::Compression::type codec,
                                     bool decompress, const parquet::ColumnDescriptor& descr,
                                     arrow::BufferBuilder* out) {
  if (decompress && !CanDecompressPages(codec)) return arrow::Status::Invalid("cannot decompress pages of this codec");
  CopiedPages copied;
  // Read as UNCOMPRESSED: the reader hands over each page's stored bytes after checking its CRC.
  parquet::ReaderProperties props;
  props.set_page_checksum_verification(true);
  auto input = std::make_shared<arrow::io::BufferReader>(std::make_shared<arrow::Buffer>(pages, size));
  try {
    auto reader = parquet::PageReader::Open(input, std::numeric_limits<int64_t>::max(),
                                            parquet::Compression::UNCOMPRESSED, props, descr);
    arrow::BufferBuilder scratch;
    while (std::shared_ptr<parquet::Page> page = reader->NextPage()) {
      if (page->type() == parquet::PageType::DATA_PAGE) {
        copied.values.push_back(static_cast<const parquet::DataPage&>(*page).num_values());
        copied.rows.push_back(std::nullopt);
      } else if (page->type() == parquet::PageType::DATA_PAGE_V2) {
        const auto& p = static_cast<const parquet::DataPageV2&>(*page);
        copied.values.push_back(p.num_values());
        copied.rows.push_back(p.num_rows());
      } else if (page->type() != parquet::PageType::DICTIONARY_PAGE) {
        return arrow::Status::IOError("unexpected page type in a column chunk");
      } else if (!copied.values.empty() || copied.dictionary_bytes > 0) {
        return arrow::Status::IOError("dictionary page after the first page of a column chunk");
      }
      const int64_t before = out->length();
      if (decompress) ARROW_RETURN_NOT_OK(AppendDecompressed(*page, out, &scratch));
      if (page->type() == parquet::PageType::DICTIONARY_PAGE) {
        if (decompress) {
          copied.dictionary_bytes = out->length() - before;
        } else {
          ARROW_ASSIGN_OR_RAISE(copied.dictionary_bytes, input->Tell());  // stored: header + body
        }
      }
    }
  } catch (const std::exception& e) {
    return arrow::Status::IOError(e.what());
  }
  if (!decompress) ARROW_RETURN_NOT_OK(out->Append(pages, size));
  return copied;
}

}  // namespace loon
