#include "reader/file_integrity.h"

#include <arrow/buffer.h>
#include <arrow/io/interfaces.h>
#include <arrow/util/key_value_metadata.h>
#include <parquet/exception.h>

#include <array>
#include <cstdio>
#include <cstring>

#include "reader/reader.h"

namespace loon {

namespace {

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

// Bytes of the tail read at once: most footers fit, larger ones take a second read.
constexpr int64_t kFirstTailRead = 64 << 10;

arrow::Status Damaged(const std::string& path, const std::string& what) {
  return arrow::Status::IOError("data file '", path, "' is damaged: ", what);
}

}  // namespace

uint32_t Crc32c(const uint8_t* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::string FormatCrc32c(uint32_t crc) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", crc);
  return buf;
}

arrow::Result<std::shared_ptr<parquet::FileMetaData>> ReadVerifiedFooter(arrow::fs::FileSystem& fs,
                                                                         const std::string& path, int64_t size,
                                                                         const ColumnGroupFile& file, bool parse) {
  auto recorded = file.properties.find(kFooterCrcProperty);
  if (recorded == file.properties.end()) return nullptr;  // no record: read as before
  std::shared_ptr<arrow::io::RandomAccessFile> input;
  if (size >= 0) {
    arrow::fs::FileInfo info(path, arrow::fs::FileType::File);
    info.set_size(size);
    ARROW_ASSIGN_OR_RAISE(input, fs.OpenInputFile(info));
  } else {
    ARROW_ASSIGN_OR_RAISE(input, fs.OpenInputFile(path));
  }
  ARROW_ASSIGN_OR_RAISE(int64_t file_size, input->GetSize());
  if (file_size < 12) return Damaged(file.path, "too small for a Parquet file");
  int64_t want = std::min(file_size, kFirstTailRead);
  ARROW_ASSIGN_OR_RAISE(auto tail, input->ReadAt(file_size - want, want));
  if (tail->size() != want) return Damaged(file.path, "short read of the footer");
  const uint8_t* end = tail->data() + tail->size();
  uint32_t length = 0;
  std::memcpy(&length, end - 8, 4);  // little-endian
  const bool plaintext = std::memcmp(end - 4, "PAR1", 4) == 0;
  if (!plaintext && std::memcmp(end - 4, "PARE", 4) != 0) return Damaged(file.path, "no Parquet magic at its end");
  const int64_t footer = static_cast<int64_t>(length) + 8;
  if (footer > file_size - 4) return Damaged(file.path, "footer length exceeds the file");
  if (footer > want) {
    ARROW_ASSIGN_OR_RAISE(tail, input->ReadAt(file_size - footer, footer));
    if (tail->size() != footer) return Damaged(file.path, "short read of the footer");
  }
  const uint8_t* start = tail->data() + tail->size() - footer;
  std::string actual = FormatCrc32c(Crc32c(start, static_cast<size_t>(footer)));
  if (actual != recorded->second) {
    return Damaged(file.path, "footer checksum " + actual + " does not match the manifest's " + recorded->second);
  }
  if (!parse || !plaintext) return nullptr;
  try {
    return parquet::FileMetaData::Make(start, static_cast<int64_t>(length));
  } catch (const std::exception& e) {
    return Damaged(file.path, std::string("footer does not parse: ") + e.what());
  }
}

arrow::Status CheckFileAgainstManifest(const ColumnGroup& group, const ColumnGroupFile& entry,
                                       const OpenedFile& opened) {
  const parquet::FileMetaData& md = *opened.metadata;
  int64_t sum = 0;
  for (int rg = 0; rg < md.num_row_groups(); ++rg) {
    int64_t rows = md.RowGroup(rg)->num_rows();
    if (rows < 0) return Damaged(entry.path, "negative row count in row group " + std::to_string(rg));
    sum += rows;
  }
  if (sum != md.num_rows()) {
    return Damaged(entry.path, "row groups hold " + std::to_string(sum) + " rows, the footer says " +
                                   std::to_string(md.num_rows()));
  }
  // The engine's own per-row-group record ("bytes|rows|first_row;..."), when present.
  if (auto kv = md.key_value_metadata(); kv != nullptr) {
    auto record = kv->Get("row_group_metadata");
    if (record.ok() && !record->empty()) {
      std::vector<int64_t> rows;
      size_t start = 0;
      const std::string& s = *record;
      while (start <= s.size()) {
        size_t end = s.find(';', start);
        if (end == std::string::npos) end = s.size();
        std::string item = s.substr(start, end - start);
        size_t bar = item.find('|');
        size_t bar2 = bar == std::string::npos ? std::string::npos : item.find('|', bar + 1);
        if (bar2 == std::string::npos) return Damaged(entry.path, "malformed row_group_metadata");
        try {
          rows.push_back(std::stoll(item.substr(bar + 1, bar2 - bar - 1)));
        } catch (...) {
          return Damaged(entry.path, "malformed row_group_metadata");
        }
        start = end + 1;
      }
      if (static_cast<int>(rows.size()) != md.num_row_groups()) {
        return Damaged(entry.path, "row_group_metadata lists " + std::to_string(rows.size()) + " row groups, the footer " +
                                       std::to_string(md.num_row_groups()));
      }
      for (int rg = 0; rg < md.num_row_groups(); ++rg) {
        if (rows[rg] != md.RowGroup(rg)->num_rows()) {
          return Damaged(entry.path, "row group " + std::to_string(rg) + " holds " +
                                         std::to_string(md.RowGroup(rg)->num_rows()) + " rows, row_group_metadata says " +
                                         std::to_string(rows[rg]));
        }
      }
    }
  }
  for (const auto& column : group.columns) {
    auto matches = opened.arrow_schema->GetAllFieldIndices(column);
    if (matches.empty()) {
      return arrow::Status::IOError("the manifest lists column '", column, "' in a column group whose data file '",
                                    entry.path, "' has no such column (damaged manifest or data file)");
    }
  }
  return arrow::Status::OK();
}

arrow::Status CheckColumnsWithoutGroup(const Properties& props, const ColumnGroupList& groups,
                                       const arrow::Schema& schema, const std::vector<std::string>& needed,
                                       const std::vector<int>& group_of, const char* (*key_retriever)(const char*)) {
  bool any = false;
  for (size_t i = 0; i < needed.size(); ++i) {
    if (group_of[i] >= 0) continue;
    any = true;
    auto field = schema.GetFieldByName(needed[i]);
    if (field != nullptr && !field->nullable()) {
      return arrow::Status::Invalid("column '", needed[i],
                                    "' is stored in no column group and is not nullable: it cannot be read as NULL");
    }
  }
  if (!any) return arrow::Status::OK();
  for (const auto& group : groups) {
    bool unknown = false;
    for (const auto& c : group.columns) unknown = unknown || schema.GetFieldIndex(c) < 0;
    if (!unknown || group.files.empty() || group.format != "parquet") continue;
    ARROW_RETURN_NOT_OK(OpenGroupLayout(props, group, key_retriever, 1).status());
  }
  return arrow::Status::OK();
}

}  // namespace loon
