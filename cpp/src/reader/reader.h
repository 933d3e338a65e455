// Column-group reader (ffi_c.h 2.6 reader; ffi_c.h 2.7 chunk reader): scans, take and chunk access over Parquet column groups.
#pragma once

#include <arrow/filesystem/filesystem.h>
#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/type.h>
#include <parquet/arrow/reader.h>
#include <parquet/metadata.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/column_groups.h"
#include "common/properties.h"
#include "reader/page_take.h"

namespace loon {

namespace exttable {
struct ProviderGroup;  // exttable/provider_reader.h
}

using KeyRetrieverFn = const char* (*)(const char* metadata);

// Footer of one data file, opened once and shared by every read of that file.
struct OpenedFile {
  std::shared_ptr<arrow::fs::FileSystem> fs;
  std::string path;
  int64_t size = -1;
  KeyRetrieverFn key_retriever = nullptr;
  std::shared_ptr<parquet::FileMetaData> metadata;
  std::shared_ptr<arrow::Schema> arrow_schema;
  std::shared_ptr<parquet::arrow::SchemaManifest> manifest;
  std::vector<int64_t> row_group_offsets;  // first row of each row group inside the file
  std::vector<int64_t> row_group_memory;   // recorded in-memory bytes (row_group_metadata), or -1
  std::shared_ptr<OffsetIndexCache> offset_indexes = std::make_shared<OffsetIndexCache>();

  // The file for positional reads (opened with the known size: no stat).
  arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenInput() const;
  // A fresh FileReader (readers are not shared between threads; the footer is reused when the
  // file is not encrypted).
  arrow::Result<std::shared_ptr<parquet::arrow::FileReader>> NewReader(bool pre_buffer, bool use_threads,
                                                                      int64_t batch_size) const;
  // Leaf column indices of the named top-level fields present in this file.
  std::vector<int> LeafColumns(const std::vector<std::string>& names) const;
};

arrow::Result<std::shared_ptr<OpenedFile>> OpenDataFile(const Properties& props, const ColumnGroupFile& file,
                                                        KeyRetrieverFn key_retriever);

// A chunk: one row group of one file intersected with the file's [start, end) range.
struct Chunk {
  int file = 0;
  int row_group = 0;
  int64_t skip = 0;          // rows of the row group before the chunk
  int64_t rows = 0;          // rows in the chunk
  int64_t rg_rows = 0;       // rows in the whole row group
  int64_t group_start = 0;   // first row of the chunk within the column group
  int64_t memory = 0;        // estimated in-memory bytes of the chunk
};

// Files of one column group with their footers and chunk list.
struct GroupLayout {
  const ColumnGroup* group = nullptr;
  std::vector<std::shared_ptr<OpenedFile>> files;  // null entries when read through `provider`
  // Set for a format read through a registered provider: then its chunks are slices of the
  // files' row ranges, read by exttable::ReadProviderChunks.
  std::shared_ptr<const exttable::ProviderGroup> provider;
  std::vector<Chunk> chunks;
  int64_t total_rows = 0;

  // Index of the chunk holding group row `row` (must be in range).
  size_t ChunkOf(int64_t row) const;
};

arrow::Result<std::shared_ptr<GroupLayout>> OpenGroupLayout(const Properties& props, const ColumnGroup& group,
                                                            KeyRetrieverFn key_retriever, size_t parallelism);

// Reads one chunk's columns (named, in the given order; absent ones are skipped) as a batch.
// `use_threads` decodes the columns in parallel on Arrow's CPU pool; callers that already read
// several chunks at once pass false (one 1 MiB row group split into column tasks costs more in
// hand-offs than it gains).
arrow::Result<std::shared_ptr<arrow::RecordBatch>> ReadChunk(const GroupLayout& layout, size_t chunk,
                                                             const std::vector<std::string>& columns,
                                                             const arrow::Schema& logical_schema,
                                                             bool use_threads = true);

// State shared by a reader and everything derived from it (streams, chunk readers).
struct ReaderState {
  ColumnGroupList groups;
  std::shared_ptr<arrow::Schema> schema;
  std::vector<std::string> projection;
  Properties props;
  std::atomic<KeyRetrieverFn> key_retriever{nullptr};

  // The group's files opened (footers parsed): with reader.metadata_cache.enable, kept between
  // calls for the current key retriever.
  arrow::Result<std::shared_ptr<GroupLayout>> Layout(int group, size_t parallelism);

 private:
  std::mutex layouts_mu;
  std::map<int, std::shared_ptr<GroupLayout>> layouts;
  KeyRetrieverFn layouts_key_retriever = nullptr;
};

class ChunkReader;

class Reader {
 public:
  static arrow::Result<std::shared_ptr<Reader>> Make(ColumnGroupList groups, std::shared_ptr<arrow::Schema> schema,
                                                     std::vector<std::string> projection, Properties props);

  void SetKeyRetriever(KeyRetrieverFn fn) { state_->key_retriever.store(fn); }

  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> Scan(const std::string& predicate) const;

  // Rows at global indices (any order, duplicates allowed) in the order asked.
  arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> Take(const std::vector<int64_t>& rows,
                                                                       size_t parallelism,
                                                                       const std::vector<std::string>& projection) const;

  arrow::Result<std::unique_ptr<ChunkReader>> GetChunkReader(int64_t group_index,
                                                             const std::vector<std::string>& projection) const;

  // The output schema of a projection (names must be schema fields, else Invalid).
  arrow::Result<std::shared_ptr<arrow::Schema>> ProjectedSchema(const std::vector<std::string>& names) const;

  const std::vector<std::string>& projection() const { return state_->projection; }

 private:
  explicit Reader(std::shared_ptr<ReaderState> state) : state_(std::move(state)) {}
  std::shared_ptr<ReaderState> state_;
};

class ChunkReader {
 public:
  ChunkReader(std::shared_ptr<ReaderState> state, std::shared_ptr<GroupLayout> layout, std::vector<std::string> columns)
      : state_(std::move(state)), layout_(std::move(layout)), columns_(std::move(columns)) {}

  uint64_t NumChunks() const { return layout_->chunks.size(); }
  const GroupLayout& layout() const { return *layout_; }
  // Distinct chunk numbers holding the rows, first-seen order.
  arrow::Result<std::vector<int64_t>> ChunkIndices(const int64_t* rows, size_t n) const;
  arrow::Result<std::shared_ptr<arrow::RecordBatch>> GetChunk(int64_t index) const;
  arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> GetChunks(const int64_t* indices, size_t n,
                                                                            size_t parallelism) const;
  std::shared_ptr<arrow::Schema> schema() const;

 private:
  std::shared_ptr<ReaderState> state_;
  std::shared_ptr<GroupLayout> layout_;
  std::vector<std::string> columns_;
};

}  // namespace loon
