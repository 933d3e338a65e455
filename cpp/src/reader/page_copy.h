// Copies of Parquet pages for the in-memory files that take by pages decodes (page_take.h).
//
// A copied page is either the page as stored, or - for ZSTD chunks - the page decompressed here,
// with a new header that calls it uncompressed. Decompressing here reuses one ZSTD context per
// thread: Arrow's codec decompresses each page with ZSTD_decompress, which creates and frees a
// context per call (~12% of a take's CPU on 16 KiB pages). Either way every page's CRC (when it
// has one) is checked against the stored bytes before anything else reads them.
#pragma once

#include <arrow/buffer_builder.h>
#include <arrow/result.h>
#include <parquet/schema.h>
#include <parquet/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace loon {

// What the headers of the copied data pages say (dictionary pages are not listed).
struct CopiedPages {
  std::vector<int32_t> values;               // values (levels) per data page
  std::vector<std::optional<int32_t>> rows;  // rows per data page when the header says (v2 pages)
  int64_t dictionary_bytes = 0;              // bytes of the copied dictionary page, the first one
};

// Can pages of this codec be copied decompressed?
bool CanDecompressPages(parquet::Compression::type codec);

// Appends the whole pages (header and body each) in `pages` to `out`: as they are, or
// decompressed (then the copy's column chunk must say UNCOMPRESSED). Fails on a page whose CRC
// does not match, that does not decompress to the size its header gives, or that cannot be parsed.
arrow::Result<CopiedPages> CopyPages(const uint8_t* pages, int64_t size, parquet::Compression::type codec,
                                     bool decompress, const parquet::ColumnDescriptor& descr,
                                     arrow::BufferBuilder* out);

}  // namespace loon
