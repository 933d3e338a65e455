// Reading column groups whose format has a registered provider (Vortex, Lance): the reader's
// only hook into them. A group's layout has one chunk per slice of at most
// `reader.logical_chunk_rows` rows of each file/fragment range; a chunk is read by opening the
// provider's stream over its rows, and a scan reads consecutive chunks of one file through one
// stream. Every batch is checked against the rows and columns asked for and cast to the
// dataset's schema before the reader sees it.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include <memory>
#include <string>
#include <vector>

#include "common/column_groups.h"
#include "common/properties.h"
#include "exttable/provider_registry.h"
#include "reader/reader.h"

namespace loon::exttable {

struct ProviderFile {
  std::string path;      // as recorded in the column group
  ProviderLocation location;  // what the provider opens
  int64_t fragment_id = -1;
};

// The provider side of a GroupLayout (GroupLayout::provider).
struct ProviderGroup {
  std::shared_ptr<const FormatProvider> provider;
  Properties props;
  std::vector<ProviderFile> files;
};

// The layout of a group of any format but Parquet, read through the provider registered for its
// format (none: NotImplemented, code 3 as for any unreadable format): files' ranges checked
// against the provider's row counts (ranges [-1, -1) mean the whole file) and cut into chunks.
arrow::Result<std::shared_ptr<GroupLayout>> OpenProviderLayout(const Properties& props, const ColumnGroup& group,
                                                               size_t parallelism);

// The batches of `chunks` (ascending indices of one file of `layout`), one per chunk, holding
// `columns` in that order with the types of `logical` (columns the schema lacks keep theirs).
arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ReadProviderChunks(
    const GroupLayout& layout, const std::vector<size_t>& chunks, const std::vector<std::string>& columns,
    const arrow::Schema& logical);

// Whether the provider of `layout` has random access (take): takes then go by file
// (TakeProviderFileRows), one provider call per file however many chunks its rows fall in.
bool ProviderTakes(const GroupLayout& layout);

// The rows `in_file` (row numbers inside file `file` of the layout, any order, duplicates
// allowed), in that order, through the provider's take of the distinct rows (ProviderTakes).
arrow::Result<std::shared_ptr<arrow::RecordBatch>> TakeProviderFileRows(const GroupLayout& layout, int file,
                                                                        const std::vector<int64_t>& in_file,
                                                                        const std::vector<std::string>& columns,
                                                                        const arrow::Schema& logical);

// The rows `local` (chunk-relative, any order, duplicates allowed) of one chunk, in that order:
// the provider's take of the distinct rows when it has one, else one stream over the span from the
// lowest to the highest row asked.
arrow::Result<std::shared_ptr<arrow::RecordBatch>> TakeProviderRows(const GroupLayout& layout, size_t chunk,
                                                                    const std::vector<int64_t>& local,
                                                                    const std::vector<std::string>& columns,
                                                                    const arrow::Schema& logical);

}  // namespace loon::exttable
