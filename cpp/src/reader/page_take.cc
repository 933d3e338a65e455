#include "reader/page_take.h"

#include <arrow/array/builder_primitive.h>
#include <arrow/array/concatenate.h>
#include <arrow/buffer_builder.h>
#include <arrow/chunked_array.h>
#include <arrow/compute/api_vector.h>
#include <arrow/datum.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/writer.h>
#include <arrow/table.h>
#include <arrow/util/base64.h>
#include <arrow/util/key_value_metadata.h>
#include <parquet/arrow/reader.h>
#include <parquet/column_page.h>
#include <parquet/column_reader.h>
#include <parquet/exception.h>
#include <parquet/index_location.h>
#include <parquet/properties.h>
#include <parquet/schema.h>

#include <algorithm>
#include <limits>
#include <map>

#include "reader/page_copy.h"
#include "reader/reader.h"

namespace loon {

namespace {

// The offset indexes of a file are read in one piece when they lie within this many bytes.
constexpr int64_t kMaxIndexRegion = 64 << 20;

// Does `index` tile the chunk exactly? Pages must be contiguous, in order, inside the chunk, and
// their first rows strictly increasing from 0 and below the row group's row count.
bool DescribesChunk(const parquet::OffsetIndex& index, const parquet::ColumnChunkMetaData& chunk, int64_t rg_rows) {
  const auto& pages = index.page_locations();
  if (pages.empty() || pages[0].first_row_index != 0 || pages[0].offset != chunk.data_page_offset()) return false;
  int64_t start = chunk.data_page_offset();
  if (chunk.has_dictionary_page()) {
    int64_t dict = chunk.dictionary_page_offset();
    if (dict <= 0 || dict >= start) return false;
    start = dict;
  }
  if (chunk.total_compressed_size() <= 0 || start > std::numeric_limits<int64_t>::max() - chunk.total_compressed_size()) {
    return false;
  }
  const int64_t end = start + chunk.total_compressed_size();
  for (size_t i = 0; i < pages.size(); ++i) {
    const auto& p = pages[i];
    if (p.compressed_page_size <= 0 || p.first_row_index >= rg_rows) return false;
    if (i > 0 && p.first_row_index <= pages[i - 1].first_row_index) return false;
    int64_t next = i + 1 < pages.size() ? pages[i + 1].offset : end;
    if (p.offset + p.compressed_page_size != next) return false;
  }
  return true;
}

// Deep copy of a schema node (a node belongs to one parent; the file's schema is shared).
parquet::schema::NodePtr CloneNode(const parquet::schema::Node& node) {
  using parquet::schema::GroupNode;
  using parquet::schema::PrimitiveNode;
  const auto& logical = node.logical_type();
  const bool legacy = (!logical || logical->is_none()) && node.converted_type() != parquet::ConvertedType::NONE;
  if (node.is_primitive()) {
    const auto& p = static_cast<const PrimitiveNode&>(node);
    if (legacy) {
      return PrimitiveNode::Make(p.name(), p.repetition(), p.physical_type(), p.converted_type(), p.type_length(),
                                 p.decimal_metadata().precision, p.decimal_metadata().scale, p.field_id());
    }
    return PrimitiveNode::Make(p.name(), p.repetition(), logical, p.physical_type(), p.type_length(), p.field_id());
  }
  const auto& g = static_cast<const GroupNode&>(node);
  parquet::schema::NodeVector children;
  for (int i = 0; i < g.field_count(); ++i) children.push_back(CloneNode(*g.field(i)));
  if (legacy) return GroupNode::Make(g.name(), g.repetition(), children, g.converted_type(), g.field_id());
  return GroupNode::Make(g.name(), g.repetition(), children, logical && !logical->is_none() ? logical : nullptr,
                         g.field_id());
}

// The top-level node of the file schema holding `leaf`.
const parquet::schema::Node* TopLevelNode(const parquet::FileMetaData& md, int leaf) {
  const parquet::schema::Node* node = md.schema()->Column(leaf)->schema_node().get();
  while (node->parent() != nullptr && node->parent()->parent() != nullptr) node = node->parent();
  return node;
}

// Positional reads of many small ranges, merged where the gaps are small (bounded by `io`).
class CoalescedReads {
 public:
  void Add(int64_t offset, int64_t length) { wanted_.push_back({offset, length}); }

  arrow::Status Read(arrow::io::RandomAccessFile* input, const arrow::io::CacheOptions& io) {
    std::sort(wanted_.begin(), wanted_.end(),
              [](const arrow::io::ReadRange& a, const arrow::io::ReadRange& b) { return a.offset < b.offset; });
    for (const auto& r : wanted_) {
      if (!merged_.empty()) {
        auto& last = merged_.back();
        int64_t last_end = last.offset + last.length;
        int64_t end = std::max(last_end, r.offset + r.length);
        if (r.offset <= last_end + io.hole_size_limit && end - last.offset <= io.range_size_limit) {
          last.length = end - last.offset;
          continue;
        }
      }
      merged_.push_back(r);
    }
    for (const auto& r : merged_) {
      ARROW_ASSIGN_OR_RAISE(auto buf, input->ReadAt(r.offset, r.length));
      if (buf->size() != r.length) return arrow::Status::IOError("short read at offset ", r.offset);
      buffers_.push_back(std::move(buf));
    }
    return arrow::Status::OK();
  }

  // Bytes [offset, offset + length), which must lie inside one added range.
  std::shared_ptr<arrow::Buffer> Get(int64_t offset, int64_t length) const {
    auto it = std::upper_bound(merged_.begin(), merged_.end(), offset,
                               [](int64_t o, const arrow::io::ReadRange& r) { return o < r.offset; });
    size_t i = static_cast<size_t>(it - merged_.begin()) - 1;
    return arrow::SliceBuffer(buffers_[i], offset - merged_[i].offset, length);
  }

 private:
  std::vector<arrow::io::ReadRange> wanted_, merged_;
  std::vector<std::shared_ptr<arrow::Buffer>> buffers_;
};

// A column read page by page: per touched row group its offset index and selected pages.
struct PagedColumn {
  int field = -1;
  int leaf = -1;
  bool whole = false;  // every page of each chunk (no index needed), else the selected `pages`
  std::vector<std::shared_ptr<parquet::OffsetIndex>> index;  // per touched row group
  std::vector<std::vector<int>> pages;                       // per touched row group, ascending
};

// First byte of a column chunk: its dictionary page if it has one.
int64_t ChunkStart(const parquet::ColumnChunkMetaData& chunk) {
  return chunk.has_dictionary_page() ? chunk.dictionary_page_offset() : chunk.data_page_offset();
}

int PageOf(const parquet::OffsetIndex& index, int64_t row) {
  const auto& pages = index.page_locations();
  auto it = std::upper_bound(pages.begin(), pages.end(), row,
                             [](int64_t r, const parquet::PageLocation& p) { return r < p.first_row_index; });
  return static_cast<int>(it - pages.begin()) - 1;
}

int64_t PageRows(const parquet::OffsetIndex& index, int page, int64_t rg_rows) {
  const auto& pages = index.page_locations();
  int64_t end = page + 1 < static_cast<int>(pages.size()) ? pages[page + 1].first_row_index : rg_rows;
  return end - pages[page].first_row_index;
}

// The field `name` as a one-field Arrow schema in the footer's key-value metadata, so that Arrow
// restores its exact type (fixed-size lists, large strings, ...) from the copy.
arrow::Result<std::shared_ptr<const arrow::KeyValueMetadata>> ArrowSchemaMetadata(
    const std::shared_ptr<arrow::Field>& field) {
  ARROW_ASSIGN_OR_RAISE(auto serialized, arrow::ipc::SerializeSchema(*arrow::schema({field})));
  std::string encoded = arrow::util::base64_encode(std::string_view(
      reinterpret_cast<const char*>(serialized->data()), static_cast<size_t>(serialized->size())));
  return arrow::key_value_metadata({"ARROW:schema"}, {std::move(encoded)});
}

// Reads the selected pages of one column as an in-memory Parquet file (see the header) and
// returns its values: row group by row group, the selected pages' rows in order.
arrow::Result<std::shared_ptr<arrow::ChunkedArray>> ReadPages(const OpenedFile& file, const PagedColumn& col,
                                                              const std::vector<int>& rgs,
                                                              const CoalescedReads& bytes) {
  const parquet::FileMetaData& md = *file.metadata;
  const parquet::ColumnDescriptor* descr = md.schema()->Column(col.leaf);
  const bool flat = descr->max_repetition_level() == 0;

  parquet::SchemaDescriptor schema;
  schema.Init(parquet::schema::GroupNode::Make(md.schema()->group_node()->name(), parquet::Repetition::REQUIRED,
                                               {CloneNode(*TopLevelNode(md, col.leaf))}));
  // The builder records this codec for every chunk of the copy (planning makes sure they agree).
  // ZSTD pages are decompressed into the copy (page_copy.h), which then says UNCOMPRESSED.
  const parquet::Compression::type codec = md.RowGroup(rgs[0])->ColumnChunk(col.leaf)->compression();
  const bool decompress = CanDecompressPages(codec);
  auto writer_props = parquet::WriterProperties::Builder()
                          .compression(decompress ? parquet::Compression::UNCOMPRESSED : codec)
                          ->build();
  auto builder = parquet::FileMetaDataBuilder::Make(&schema, writer_props);

  arrow::BufferBuilder out, raw;
  int64_t copy_size = 4;
  for (size_t k = 0; k < rgs.size(); ++k) {
    auto chunk = md.RowGroup(rgs[k])->ColumnChunk(col.leaf);
    int64_t stored = 0;
    if (col.whole) {
      stored = std::max<int64_t>(0, chunk->total_compressed_size());
    } else {
      const auto& locations = col.index[k]->page_locations();
      if (chunk->has_dictionary_page()) stored += locations[0].offset - chunk->dictionary_page_offset();
      for (int p : col.pages[k]) stored += locations[p].compressed_page_size;
    }
    // Decompressed, about the chunk's own ratio (the builder grows if that is short).
    if (decompress && chunk->total_compressed_size() > 0 && chunk->total_uncompressed_size() > 0) {
      stored = static_cast<int64_t>(static_cast<double>(stored) * chunk->total_uncompressed_size() /
                                    chunk->total_compressed_size());
    }
    copy_size += std::min<int64_t>(stored, 1LL << 30);
  }
  ARROW_RETURN_NOT_OK(out.Reserve(copy_size));
  ARROW_RETURN_NOT_OK(out.Append("PAR1", 4));  // offset 0 would read as "no dictionary page"
  // Row groups of the copy: the selected pages of consecutive chunks without a dictionary page
  // go into one row group (data pages are self-contained, and Arrow pays its set-up per row group);
  // a chunk with a dictionary page gets a row group of its own (one dictionary per chunk).
  struct CopyGroup {
    int64_t start = -1, data_offset = 0, values = 0, rows = 0;
    int64_t dict_offset = 0;  // 0 = none
    std::map<parquet::Encoding::type, int32_t> dict_stats, data_stats;
  };
  CopyGroup pending;
  int16_t ordinal = 0;
  int64_t total_rows = 0;
  auto flush = [&]() {
    if (pending.start < 0) return;
    const int64_t len = out.length() - pending.start;
    auto* rg_builder = builder->AppendRowGroup();
    rg_builder->NextColumnChunk()->Finish(pending.values, pending.dict_offset, 0, pending.data_offset, len, len,
                                          pending.dict_offset > 0, false, pending.dict_stats, pending.data_stats);
    rg_builder->set_num_rows(pending.rows);
    rg_builder->Finish(len, ordinal++);
    pending = CopyGroup();
  };
  for (size_t k = 0; k < rgs.size(); ++k) {
    auto rg = md.RowGroup(rgs[k]);
    auto chunk = rg->ColumnChunk(col.leaf);
    if (chunk->has_dictionary_page() || pending.dict_offset > 0) flush();
    if (pending.start < 0) pending.start = out.length();
    // The chunk's dictionary page (if any) and selected pages, as stored, then copied (checked,
    // decompressed for ZSTD) into the copy.
    std::shared_ptr<arrow::Buffer> stored;
    if (col.whole) {
      stored = bytes.Get(ChunkStart(*chunk), chunk->total_compressed_size());
      pending.rows += rg->num_rows();
    } else {
      const auto& locations = col.index[k]->page_locations();
      raw.Rewind(0);
      if (chunk->has_dictionary_page()) {
        int64_t len = locations[0].offset - chunk->dictionary_page_offset();
        ARROW_RETURN_NOT_OK(raw.Append(bytes.Get(chunk->dictionary_page_offset(), len)->data(), len));
      }
      for (int p : col.pages[k]) {
        ARROW_RETURN_NOT_OK(raw.Append(bytes.Get(locations[p].offset, locations[p].compressed_page_size)->data(),
                                       locations[p].compressed_page_size));
        pending.rows += PageRows(*col.index[k], p, rg->num_rows());
      }
      stored = std::make_shared<arrow::Buffer>(raw.data(), raw.length());
    }
    const int64_t chunk_start = out.length();
    auto copied = CopyPages(stored->data(), stored->size(), codec, decompress, *descr, &out);
    if (!copied.ok()) {
      return arrow::Status::IOError("data file '", file.path, "': row group ", rgs[k], " column ", col.leaf, ": ",
                                    copied.status().message());
    }
    if (chunk->has_dictionary_page()) {
      // The dictionary page is the first page copied; the data pages follow it.
      if (copied->dictionary_bytes <= 0) {
        return arrow::Status::IOError("data file '", file.path, "': row group ", rgs[k], " column ", col.leaf,
                                      ": no dictionary page where the footer says");
      }
      pending.dict_offset = chunk_start;
      pending.data_offset = chunk_start + copied->dictionary_bytes;
    } else if (pending.data_offset == 0) {
      pending.data_offset = chunk_start;
    }

    // The page headers must agree with the index (or, for whole chunks, with the footer): the
    // copy's value count comes from them.
    const std::vector<int32_t>& counts = copied->values;
    if (col.whole) {
      int64_t values = 0;
      for (int32_t v : counts) values += v;
      if (values != chunk->num_values() || (flat && values != rg->num_rows())) {
        return arrow::Status::IOError("data file '", file.path, "': row group ", rgs[k], " column ", col.leaf,
                                      ": pages hold ", values, " values, the footer says ", chunk->num_values());
      }
      pending.values += values;
      total_rows += rg->num_rows();
    } else if (counts.size() != col.pages[k].size()) {
      return arrow::Status::IOError("data file '", file.path, "': row group ", rgs[k], " column ", col.leaf,
                                    ": offset index does not match the pages");
    }
    for (size_t i = 0; !col.whole && i < counts.size(); ++i) {
      int64_t want = PageRows(*col.index[k], col.pages[k][i], rg->num_rows());
      int64_t got = flat ? counts[i] : copied->rows[i].value_or(want);
      if (got != want) {
        return arrow::Status::IOError("data file '", file.path, "': row group ", rgs[k], " column ", col.leaf,
                                      ": page holds ", got, " rows, offset index says ", want);
      }
      pending.values += counts[i];
      total_rows += want;
    }
    for (const auto& st : chunk->encoding_stats()) {
      (st.page_type == parquet::PageType::DICTIONARY_PAGE ? pending.dict_stats : pending.data_stats)[st.encoding] +=
          st.count;
    }
  }
  flush();
  ARROW_ASSIGN_OR_RAISE(auto kv, ArrowSchemaMetadata(file.arrow_schema->field(col.field)));
  std::shared_ptr<parquet::FileMetaData> copy_md = builder->Finish(kv);
  ARROW_ASSIGN_OR_RAISE(auto copy, out.Finish());

  parquet::ReaderProperties reader_props(arrow::default_memory_pool());
  // CRCs were checked on the stored bytes by CopyPages; decompressed copies carry none.
  parquet::ArrowReaderProperties arrow_props;
  arrow_props.set_use_threads(false);
  parquet::arrow::FileReaderBuilder reader_builder;
  ARROW_RETURN_NOT_OK(reader_builder.Open(std::make_shared<arrow::io::BufferReader>(copy), reader_props, copy_md));
  reader_builder.properties(arrow_props);
  ARROW_ASSIGN_OR_RAISE(auto reader, reader_builder.Build());
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Table> table, reader->ReadTable());
  if (table->num_rows() != total_rows || table->num_columns() != 1) {
    return arrow::Status::IOError("data file '", file.path, "': pages of column ", col.leaf, " gave ",
                                  table->num_rows(), " rows for ", total_rows);
  }
  return table->column(0);
}

arrow::Result<std::shared_ptr<arrow::Array>> TakeArray(const std::shared_ptr<arrow::ChunkedArray>& values,
                                                       const std::vector<int64_t>& indices) {
  arrow::Int64Builder b;
  ARROW_RETURN_NOT_OK(b.AppendValues(indices));
  ARROW_ASSIGN_OR_RAISE(auto idx, b.Finish());
  ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(arrow::Datum(values), arrow::Datum(idx)));
  auto chunked = taken.chunked_array();
  if (chunked->num_chunks() == 1) return chunked->chunk(0);
  return arrow::Concatenate(chunked->chunks());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Offset indexes

arrow::Status OffsetIndexCache::LoadRegion(const OpenedFile& file, arrow::io::RandomAccessFile* input) {
  loaded_ = true;
  const parquet::FileMetaData& md = *file.metadata;
  const int rgs = md.num_row_groups(), cols = md.num_columns();
  if (rgs == 0 || cols == 0) return arrow::Status::OK();
  // Arrow's writer puts every offset index together, row group by row group, column by column:
  // the first chunk's index starts the region and the last one's ends it. Indexes elsewhere
  // (other writers) are read one by one in Get().
  auto first = md.RowGroup(0)->ColumnChunk(0)->GetOffsetIndexLocation();
  auto last = md.RowGroup(rgs - 1)->ColumnChunk(cols - 1)->GetOffsetIndexLocation();
  if (!first || !last) return arrow::Status::OK();
  int64_t begin = first->offset, end = last->offset + last->length;
  ARROW_ASSIGN_OR_RAISE(int64_t size, input->GetSize());
  if (begin < 0 || end <= begin || end > size || end - begin > kMaxIndexRegion) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(region_, input->ReadAt(begin, end - begin));
  if (region_->size() != end - begin) region_.reset();
  region_offset_ = begin;
  return arrow::Status::OK();
}

std::shared_ptr<parquet::OffsetIndex> OffsetIndexCache::Get(const OpenedFile& file, arrow::io::RandomAccessFile* input,
                                                            int row_group, int column) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t key = (static_cast<int64_t>(row_group) << 32) | static_cast<uint32_t>(column);
  auto found = parsed_.find(key);
  if (found != parsed_.end()) return found->second;
  std::shared_ptr<parquet::OffsetIndex> index;
  try {
    if (!loaded_ && !LoadRegion(file, input).ok()) region_.reset();
    auto rg = file.metadata->RowGroup(row_group);
    auto chunk = rg->ColumnChunk(column);
    auto location = chunk->GetOffsetIndexLocation();
    if (location && location->offset >= 0 && location->length > 0) {
      std::shared_ptr<arrow::Buffer> bytes;
      if (region_ && location->offset >= region_offset_ &&
          location->offset + location->length <= region_offset_ + region_->size()) {
        bytes = arrow::SliceBuffer(region_, location->offset - region_offset_, location->length);
      } else {
        auto read = input->ReadAt(location->offset, location->length);
        if (read.ok() && (*read)->size() == location->length) bytes = *read;
      }
      if (bytes) {
        parquet::ReaderProperties props;
        std::shared_ptr<parquet::OffsetIndex> parsed = parquet::OffsetIndex::Make(bytes->data(), bytes->size(), props);
        if (DescribesChunk(*parsed, *chunk, rg->num_rows())) index = std::move(parsed);
      }
    }
  } catch (const std::exception&) {
    index.reset();  // unreadable index: whole row groups are read instead
  }
  parsed_.emplace(key, index);
  return index;
}

int64_t OffsetIndexCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t total = region_ ? region_->size() : 0;
  for (const auto& [key, index] : parsed_) total += 64 + (index ? 24 * index->page_locations().size() : 0);
  return total;
}

// ---------------------------------------------------------------------------------------------
// Take

arrow::Result<std::shared_ptr<arrow::RecordBatch>> TakeFromFile(const OpenedFile& file,
                                                                const std::vector<std::string>& columns,
                                                                const std::vector<RowInGroup>& rows,
                                                                const arrow::io::CacheOptions& io) {
  const parquet::FileMetaData& md = *file.metadata;
  std::vector<int> rgs;
  for (const auto& r : rows) rgs.push_back(r.row_group);
  std::sort(rgs.begin(), rgs.end());
  rgs.erase(std::unique(rgs.begin(), rgs.end()), rgs.end());
  auto pos_of = [&](int rg) { return static_cast<size_t>(std::lower_bound(rgs.begin(), rgs.end(), rg) - rgs.begin()); };

  ARROW_ASSIGN_OR_RAISE(auto input, file.OpenInput());
  const bool may_page = file.key_retriever == nullptr && !md.is_encryption_algorithm_set();

  // Which columns go page by page, and which by whole row groups.
  std::vector<int> fields;
  std::vector<PagedColumn> paged;
  std::vector<int> whole;  // fields
  try {
    for (const auto& name : columns) {
      int field = file.arrow_schema->GetFieldIndex(name);
      if (field < 0) continue;
      fields.push_back(field);
      std::vector<int> leaves = file.LeafColumns({name});
      PagedColumn col;
      col.field = field;
      bool ok = may_page && leaves.size() == 1;
      if (ok) col.leaf = leaves[0];
      for (size_t k = 0; ok && k < rgs.size(); ++k) {
        auto chunk = md.RowGroup(rgs[k])->ColumnChunk(col.leaf);
        // Encrypted chunks bind pages to their position; the copy records one codec per column.
        if (chunk->crypto_metadata() != nullptr ||
            chunk->compression() != md.RowGroup(rgs[0])->ColumnChunk(col.leaf)->compression()) {
          ok = false;
          break;
        }
        auto index = file.offset_indexes->Get(file, input.get(), rgs[k], col.leaf);
        if (!index) ok = false;
        col.index.push_back(std::move(index));
      }
      if (!ok) {
        whole.push_back(field);
        continue;
      }
      col.pages.resize(rgs.size());
      for (const auto& r : rows) {
        size_t k = pos_of(r.row_group);
        col.pages[k].push_back(PageOf(*col.index[k], r.row));
      }
      for (auto& p : col.pages) {
        std::sort(p.begin(), p.end());
        p.erase(std::unique(p.begin(), p.end()), p.end());
      }
      paged.push_back(std::move(col));
    }
  } catch (const std::exception& e) {
    return arrow::Status::IOError("data file '", file.path, "': ", e.what());
  }

  std::map<int, std::shared_ptr<arrow::Array>> taken;  // field -> rows asked

  if (!paged.empty()) {
    CoalescedReads bytes;
    for (const auto& col : paged) {
      for (size_t k = 0; k < rgs.size(); ++k) {
        const auto& locations = col.index[k]->page_locations();
        auto chunk = md.RowGroup(rgs[k])->ColumnChunk(col.leaf);
        if (chunk->has_dictionary_page()) {
          bytes.Add(chunk->dictionary_page_offset(), locations[0].offset - chunk->dictionary_page_offset());
        }
        for (int p : col.pages[k]) bytes.Add(locations[p].offset, locations[p].compressed_page_size);
      }
    }
    auto read = bytes.Read(input.get(), io);
    if (!read.ok()) return read.WithMessage("cannot read data file '", file.path, "': ", read.message());
    for (const auto& col : paged) {
      std::shared_ptr<arrow::ChunkedArray> values;
      try {
        auto result = ReadPages(file, col, rgs, bytes);
        if (!result.ok()) {
          return result.status().WithMessage("cannot read data file '", file.path, "': ", result.status().message());
        }
        values = *result;
      } catch (const std::exception& e) {
        return arrow::Status::IOError("cannot read data file '", file.path, "': ", e.what());
      }
      // Position of each row in the copy: earlier row groups' selected rows, earlier selected
      // pages of its row group, then its place in its page.
      std::vector<int64_t> rg_base(rgs.size() + 1, 0);
      std::vector<std::vector<int64_t>> page_base(rgs.size());
      for (size_t k = 0; k < rgs.size(); ++k) {
        int64_t rg_rows = md.RowGroup(rgs[k])->num_rows();
        int64_t at = 0;
        for (int p : col.pages[k]) {
          page_base[k].push_back(at);
          at += PageRows(*col.index[k], p, rg_rows);
        }
        rg_base[k + 1] = rg_base[k] + at;
      }
      std::vector<int64_t> indices;
      indices.reserve(rows.size());
      for (const auto& r : rows) {
        size_t k = pos_of(r.row_group);
        int p = PageOf(*col.index[k], r.row);
        size_t slot = static_cast<size_t>(std::lower_bound(col.pages[k].begin(), col.pages[k].end(), p) -
                                          col.pages[k].begin());
        indices.push_back(rg_base[k] + page_base[k][slot] +
                          (r.row - col.index[k]->page_locations()[p].first_row_index));
      }
      ARROW_ASSIGN_OR_RAISE(taken[col.field], TakeArray(values, indices));
    }
  }

  if (!whole.empty()) {
    std::vector<std::string> names;
    for (int f : whole) names.push_back(file.arrow_schema->field(f)->name());
    ARROW_ASSIGN_OR_RAISE(auto reader, file.NewReader(/*pre_buffer=*/true, /*use_threads=*/false, 0));
    auto read = reader->ReadRowGroups(rgs, file.LeafColumns(names));
    if (!read.ok()) {
      return read.status().WithMessage("cannot read data file '", file.path, "': ", read.status().message());
    }
    std::shared_ptr<arrow::Table> table = *read;
    std::vector<int64_t> rg_base(rgs.size() + 1, 0);
    for (size_t k = 0; k < rgs.size(); ++k) rg_base[k + 1] = rg_base[k] + md.RowGroup(rgs[k])->num_rows();
    if (table->num_rows() != rg_base.back()) {
      return arrow::Status::IOError("data file '", file.path, "' returned ", table->num_rows(), " rows for ",
                                    rg_base.back(), " rows of row groups");
    }
    std::vector<int64_t> indices;
    indices.reserve(rows.size());
    for (const auto& r : rows) indices.push_back(rg_base[pos_of(r.row_group)] + r.row);
    for (size_t i = 0; i < whole.size(); ++i) {
      int idx = table->schema()->GetFieldIndex(names[i]);
      if (idx < 0) return arrow::Status::IOError("data file '", file.path, "' lost column '", names[i], "'");
      ARROW_ASSIGN_OR_RAISE(taken[whole[i]], TakeArray(table->column(idx), indices));
    }
  }

  arrow::FieldVector out_fields;
  arrow::ArrayVector out_columns;
  for (int f : fields) {
    out_fields.push_back(file.arrow_schema->field(f));
    out_columns.push_back(taken[f]);
  }
  return arrow::RecordBatch::Make(arrow::schema(out_fields), static_cast<int64_t>(rows.size()), std::move(out_columns));
}

// ---------------------------------------------------------------------------------------------
// Whole row groups

arrow::Result<std::shared_ptr<arrow::Table>> ReadRowGroupsByPages(const OpenedFile& file,
                                                                  const std::vector<std::string>& columns,
                                                                  const std::vector<int>& rgs,
                                                                  const arrow::io::CacheOptions& io) {
  const parquet::FileMetaData& md = *file.metadata;
  if (rgs.empty() || file.key_retriever != nullptr || md.is_encryption_algorithm_set()) return nullptr;
  std::vector<PagedColumn> cols;
  CoalescedReads bytes;
  try {
    for (const auto& name : columns) {
      int field = file.arrow_schema->GetFieldIndex(name);
      if (field < 0) continue;
      std::vector<int> leaves = file.LeafColumns({name});
      if (leaves.size() != 1) return nullptr;
      PagedColumn col;
      col.field = field;
      col.leaf = leaves[0];
      col.whole = true;
      for (int rg : rgs) {
        auto chunk = md.RowGroup(rg)->ColumnChunk(col.leaf);
        // Only ZSTD gains (Arrow's codec makes a context per page); the rest reads through Arrow.
        if (chunk->crypto_metadata() != nullptr || !CanDecompressPages(chunk->compression())) return nullptr;
        const int64_t start = ChunkStart(*chunk), size = chunk->total_compressed_size();
        if (start < 4 || size <= 0 || start > std::numeric_limits<int64_t>::max() - size) {
          return arrow::Status::IOError("data file '", file.path, "': row group ", rg, " column ", col.leaf,
                                        ": invalid column chunk range");
        }
        bytes.Add(start, size);
      }
      cols.push_back(std::move(col));
    }
  } catch (const std::exception& e) {
    return arrow::Status::IOError("data file '", file.path, "': ", e.what());
  }
  if (cols.empty()) return nullptr;
  ARROW_ASSIGN_OR_RAISE(auto input, file.OpenInput());
  auto read = bytes.Read(input.get(), io);
  if (!read.ok()) return read.WithMessage("cannot read data file '", file.path, "': ", read.message());
  arrow::FieldVector fields;
  arrow::ChunkedArrayVector values;
  for (const auto& col : cols) {
    std::shared_ptr<arrow::ChunkedArray> column;
    try {
      auto result = ReadPages(file, col, rgs, bytes);
      if (!result.ok()) {
        return result.status().WithMessage("cannot read data file '", file.path, "': ", result.status().message());
      }
      column = *result;
    } catch (const std::exception& e) {
      return arrow::Status::IOError("cannot read data file '", file.path, "': ", e.what());
    }
    fields.push_back(file.arrow_schema->field(col.field));
    values.push_back(std::move(column));
  }
  return arrow::Table::Make(arrow::schema(fields), std::move(values));
}

}  // namespace loon
