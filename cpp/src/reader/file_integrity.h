// End-to-end integrity of Parquet data files: what lets a reader trust a footer.
//
// Page checksums cover data pages, not the footer, and a footer is what says where rows are: a
// flipped bit in its statistics made a filtered scan skip a row group (0 rows instead of 100), in
// a row count it shifted every row `take` returned, in a column name it made chunks disagree with
// their schema. So:
//  - At write time the engine records kFooterCrcProperty in the manifest's per-file properties:
//    the CRC32C (Castagnoli) of the file's last footer_size bytes (the Thrift FileMetaData, its
//    4-byte length and the magic), as 8 lowercase hex digits. Other readers ignore unknown keys.
//  - At read time a file carrying the property has its footer bytes read and checked before
//    Parquet parses them; a mismatch is an IOError (code 3) naming the file. Files without it
//    (foreign files, older versions) are read as before.
//  - Every opened file, with or without the property, is cross-checked against the manifest: the
//    row groups' row counts must add up to the footer's, the engine's per-row-group record (the
//    row_group_metadata key) must agree with them, and every column the manifest lists for the
//    group must be a field of the file — a manifest whose column names disagree with the data is
//    an error, not a silently all-NULL column.
#pragma once

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>
#include <parquet/metadata.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/column_groups.h"
#include "common/properties.h"

namespace loon {

struct OpenedFile;

inline constexpr char kFooterCrcProperty[] = "loon.footer_crc32c";

// CRC32C (Castagnoli polynomial, reflected, as in iSCSI/ext4), continued from `crc`.
uint32_t Crc32c(const uint8_t* data, size_t size, uint32_t crc = 0);
// 8 lowercase hex digits.
std::string FormatCrc32c(uint32_t crc);

// The footer of `file` (opened at `path` on `fs`, `size` bytes or -1 if unknown), checked against
// its kFooterCrcProperty. Returns the parsed footer when it can be handed to Parquet as is (a
// plaintext footer, `parse` true), nullptr when the file has no record or the footer must be
// parsed by Parquet itself (encrypted); IOError when the bytes do not match the record.
arrow::Result<std::shared_ptr<parquet::FileMetaData>> ReadVerifiedFooter(arrow::fs::FileSystem& fs,
                                                                         const std::string& path, int64_t size,
                                                                         const ColumnGroupFile& file, bool parse);

// Cross-checks an opened file's footer against the manifest entry of its column group.
arrow::Status CheckFileAgainstManifest(const ColumnGroup& group, const ColumnGroupFile& entry,
                                       const OpenedFile& opened);

// Columns in `needed` that no group stores (group_of[i] < 0) are read as NULL: a column added to
// the schema after the data was written. That is refused for a non-nullable field of `schema`,
// and first every group whose column list names a column `schema` lacks is opened and
// cross-checked, so a damaged column name in the manifest is an error, not an all-NULL column.
arrow::Status CheckColumnsWithoutGroup(const Properties& props, const ColumnGroupList& groups,
                                       const arrow::Schema& schema, const std::vector<std::string>& needed,
                                       const std::vector<int>& group_of, const char* (*key_retriever)(const char*));

}  // namespace loon
