// Take by pages: reading a few rows of a Parquet file decodes only the data pages that hold them.
//
// Parquet's offset index (part of the page index, written by Arrow's writer) gives, per column
// chunk, each data page's byte range and first row. For the rows asked of one file, the pages
// holding them (plus each chunk's dictionary page) are read with coalesced positional reads and
// laid out, column by column, as a small in-memory Parquet file: one row group per source row
// group, holding only the selected pages, described by footer metadata built here (no thrift
// parsing of the copy). ZSTD pages are copied decompressed (page_copy.h: one ZSTD context per
// thread instead of Arrow's one per page), every page's CRC checked first. Arrow's own reader then
// decodes that copy, so every type Arrow reads (nested, dictionary, nullable) decodes exactly as
// in a whole-row-group read. Scans use the same copies for whole ZSTD column chunks
// (ReadRowGroupsByPages), which need no offset index. Only columns with
// a single leaf are read this way; columns with several leaves (structs, maps), chunks without a
// valid offset index (foreign or older files) and encrypted files (page bytes are bound to their
// position by the AAD) are read by whole row groups as before.
//
// The offset index is untrusted input: it is used only when its pages tile the column chunk
// exactly (contiguous, in order, inside the chunk, first rows strictly increasing from 0), and
// each selected page's header must agree with the row count the index implies (flat columns).
#pragma once

#include <arrow/io/caching.h>
#include <arrow/io/interfaces.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>
#include <arrow/result.h>
#include <parquet/metadata.h>
#include <parquet/page_index.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace loon {

struct OpenedFile;

// The offset indexes of one data file, read on first use with one read of the region that holds
// them all and parsed per column chunk on demand. Shared (through the metadata cache) by every
// reader of the file; thread-safe.
class OffsetIndexCache {
 public:
  // The validated offset index of (row group, leaf column), or nullptr when the chunk has none or
  // it does not describe the chunk (the caller then reads the whole row group).
  std::shared_ptr<parquet::OffsetIndex> Get(const OpenedFile& file, arrow::io::RandomAccessFile* input, int row_group,
                                            int column);
  // Bytes held (for the metadata cache's bound).
  int64_t bytes() const;

 private:
  arrow::Status LoadRegion(const OpenedFile& file, arrow::io::RandomAccessFile* input);

  mutable std::mutex mu_;
  bool loaded_ = false;
  std::shared_ptr<arrow::Buffer> region_;  // the file's offset-index bytes, null if none
  int64_t region_offset_ = 0;
  std::unordered_map<int64_t, std::shared_ptr<parquet::OffsetIndex>> parsed_;  // key rg << 32 | column
};

// One asked row: its row group and position inside it.
struct RowInGroup {
  int row_group = 0;
  int64_t row = 0;
};

// The named top-level columns (those present in the file, in the given order) at `rows`, in the
// order asked (duplicates allowed), with the file's own Arrow types. `io` bounds read coalescing.
arrow::Result<std::shared_ptr<arrow::RecordBatch>> TakeFromFile(const OpenedFile& file,
                                                                const std::vector<std::string>& columns,
                                                                const std::vector<RowInGroup>& rows,
                                                                const arrow::io::CacheOptions& io);

// All rows of row groups `rgs` (ascending) of the named top-level columns present in the file,
// decoded from copies of their whole column chunks with the pages decompressed here (as for a
// take) - for scans, which then pay no ZSTD context per page. nullptr when the file does not
// suit (encrypted, a column with several leaves, a codec other than ZSTD): read through Arrow.
arrow::Result<std::shared_ptr<arrow::Table>> ReadRowGroupsByPages(const OpenedFile& file,
                                                                  const std::vector<std::string>& columns,
                                                                  const std::vector<int>& rgs,
                                                                  const arrow::io::CacheOptions& io);

}  // namespace loon
