#include "exttable/provider_reader.h"

#include <arrow/array/builder_primitive.h>
#include <arrow/compute/api.h>
#include <arrow/table.h>

#include <algorithm>

#include "common/status.h"
#include "common/thread_pool.h"
#include "fiu/fault.h"
#include "milvus-storage/ffi_fiu.h"

namespace loon::exttable {

namespace {

// Decoded bytes per value of a type, for chunk memory estimates: exact for fixed-width types;
// variable-width values count their offset plus an assumed 16 bytes of data.
double BytesPerValue(const arrow::DataType& type) {
  constexpr double kVarData = 16.0;
  switch (type.id()) {
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return 4 + kVarData;
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY:
      return 8 + kVarData;
    case arrow::Type::STRING_VIEW:
    case arrow::Type::BINARY_VIEW:
      return 16 + kVarData;
    case arrow::Type::FIXED_SIZE_LIST: {
      const auto& list = static_cast<const arrow::FixedSizeListType&>(type);
      return list.list_size() * BytesPerValue(*list.value_type());
    }
    case arrow::Type::LIST:
    case arrow::Type::LARGE_LIST:
      return 8 + 4 * BytesPerValue(*type.field(0)->type());  // assumed 4 items per list
    case arrow::Type::STRUCT: {
      double total = 0;
      for (const auto& f : type.fields()) total += BytesPerValue(*f->type());
      return total;
    }
    default:
      break;
  }
  int bits = type.bit_width();
  return bits > 0 ? bits / 8.0 : 8.0;
}

double BytesPerRow(const arrow::Schema& schema, const std::vector<std::string>& columns) {
  double total = 0;
  for (const auto& name : columns) {
    auto field = schema.GetFieldByName(name);
    if (field) total += BytesPerValue(*field->type()) + 0.125;  // + validity bit
  }
  return total;
}

std::string Describe(const ProviderFile& file) { return "'" + file.path + "'"; }

// `batch` reduced to `columns` (in that order) and cast to the types of `logical`.
arrow::Result<std::shared_ptr<arrow::RecordBatch>> Conform(const std::shared_ptr<arrow::RecordBatch>& batch,
                                                           const std::vector<std::string>& columns,
                                                           const arrow::Schema& logical, const ProviderFile& file) {
  arrow::FieldVector fields;
  arrow::ArrayVector arrays;
  for (const auto& name : columns) {
    int idx = batch->schema()->GetFieldIndex(name);
    if (idx < 0) {
      return CodedError(kArrow, "the stream of " + Describe(file) + " has no column '" + name + "' (it holds " +
                                    batch->schema()->ToString() + ")");
    }
    std::shared_ptr<arrow::Array> array = batch->column(idx);
    std::shared_ptr<arrow::Field> field = batch->schema()->field(idx);
    if (auto want = logical.GetFieldByName(name)) {
      if (!want->type()->Equals(*array->type())) {
        auto cast = arrow::compute::Cast(*array, want->type());
        if (!cast.ok()) {
          return CodedError(kArrow, "column '" + name + "' of " + Describe(file) + " is " +
                                        array->type()->ToString() + ", which does not convert to the schema's " +
                                        want->type()->ToString() + ": " + cast.status().message());
        }
        array = *cast;
      }
      field = want;
    }
    fields.push_back(field);
    arrays.push_back(std::move(array));
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), batch->num_rows(), std::move(arrays));
}

// Exactly `want` rows of `reader` (a provider stream of `file`; `asked` says which, for messages),
// each batch checked and conformed; the reader is closed.
arrow::Result<std::shared_ptr<arrow::Table>> Drain(const ProviderGroup& pg, const ProviderFile& file,
                                                   const std::shared_ptr<arrow::RecordBatchReader>& reader,
                                                   int64_t want, const std::string& asked,
                                                   const std::vector<std::string>& columns,
                                                   const arrow::Schema& logical) {
  int64_t got = 0;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  while (got < want) {
    std::shared_ptr<arrow::RecordBatch> batch;
    auto st = reader->ReadNext(&batch);
    if (!st.ok()) {
      (void)reader->Close();
      return CodedError(kArrow, "format provider '" + pg.provider->format() + "' failed while streaming " +
                                    Describe(file) + ": " + st.message());
    }
    if (batch == nullptr) {
      (void)reader->Close();
      return CodedError(kArrow, "the stream of " + Describe(file) + " ended after " + std::to_string(got) + " of " +
                                    std::to_string(want) + " rows (" + asked + " asked)");
    }
    got += batch->num_rows();
    if (got > want) {
      (void)reader->Close();
      return CodedError(kArrow, "the stream of " + Describe(file) + " yielded more than the " +
                                    std::to_string(want) + " rows asked (" + asked + ")");
    }
    auto conformed = Conform(batch, columns, logical, file);
    if (!conformed.ok()) {
      (void)reader->Close();
      return conformed.status();
    }
    batches.push_back(std::move(*conformed));
  }
  (void)reader->Close();
  if (batches.empty()) {
    arrow::FieldVector fields;
    for (const auto& name : columns) {
      auto f = logical.GetFieldByName(name);
      fields.push_back(f ? f : arrow::field(name, arrow::null()));
    }
    return arrow::Table::MakeEmpty(arrow::schema(fields));
  }
  return arrow::Table::FromRecordBatches(batches[0]->schema(), batches);
}

// Rows [start, end) of one file through the provider's stream, checked and conformed.
arrow::Result<std::shared_ptr<arrow::Table>> ReadRange(const ProviderGroup& pg, const ProviderFile& file,
                                                       int64_t start, int64_t end,
                                                       const std::vector<std::string>& columns,
                                                       const arrow::Schema& logical) {
  ARROW_ASSIGN_OR_RAISE(auto reader,
                        pg.provider->Open(file.location, file.fragment_id, columns, start, end, pg.props));
  std::string asked = "rows [" + std::to_string(start) + ", " + std::to_string(end) + ")";
  return Drain(pg, file, reader, end - start, asked, columns, logical);
}

// `rows` (ascending, unique) of one file through the provider's take, checked and conformed.
arrow::Result<std::shared_ptr<arrow::Table>> TakeRows(const ProviderGroup& pg, const ProviderFile& file,
                                                      const std::vector<int64_t>& rows,
                                                      const std::vector<std::string>& columns,
                                                      const arrow::Schema& logical) {
  ARROW_ASSIGN_OR_RAISE(auto reader, pg.provider->Take(file.location, file.fragment_id, columns, rows, pg.props));
  std::string asked = std::to_string(rows.size()) + " rows from row " + std::to_string(rows.front()) + " to " +
                      std::to_string(rows.back());
  return Drain(pg, file, reader, static_cast<int64_t>(rows.size()), asked, columns, logical);
}

}  // namespace

arrow::Result<std::shared_ptr<GroupLayout>> OpenProviderLayout(const Properties& props, const ColumnGroup& group,
                                                               size_t parallelism) {
  auto pg = std::make_shared<ProviderGroup>();
  pg->provider = FindProvider(group.format);
  if (!pg->provider) {
    return arrow::Status::NotImplemented("column group format '", group.format,
                                         "' is not readable by this engine (no format provider is registered for it)");
  }
  pg->props = props;
  const int64_t slice = std::max<int64_t>(1, props.GetInt("reader.logical_chunk_rows"));
  const size_t n = group.files.size();
  pg->files.resize(n);
  std::vector<int64_t> rows(n, -1);
  std::vector<std::shared_ptr<arrow::Schema>> schemas(n);
  ARROW_RETURN_NOT_OK(ParallelFor(n, parallelism, [&](size_t i) -> arrow::Status {
    const ColumnGroupFile& f = group.files[i];
    ProviderFile& pf = pg->files[i];
    pf.path = f.path;
    ARROW_ASSIGN_OR_RAISE(auto split, SplitFragment(f.path));
    pf.fragment_id = split.second;
    ARROW_ASSIGN_OR_RAISE(auto resolved, fs::Resolve(props, split.first));
    ARROW_ASSIGN_OR_RAISE(pf.location, LocateForProvider(resolved));
    ARROW_ASSIGN_OR_RAISE(rows[i], pg->provider->Describe(pf.location, pf.fragment_id, props, &schemas[i]));
    return arrow::Status::OK();
  }));

  auto layout = std::make_shared<GroupLayout>();
  layout->group = &group;
  layout->files.resize(n);  // no Parquet footers: the provider side is in `provider`
  for (size_t fi = 0; fi < n; ++fi) {
    int64_t start = group.files[fi].start_index;
    int64_t end = group.files[fi].end_index;
    if (start < 0 && end < 0) {
      start = 0;
      end = rows[fi];
    }
    if (start < 0 || end < start || end > rows[fi]) {
      return arrow::Status::Invalid("file '", group.files[fi].path, "' has ", rows[fi], " rows, range [", start, ", ",
                                    end, ") is invalid");
    }
    const double row_bytes = BytesPerRow(*schemas[fi], group.columns);
    for (int64_t a = start, k = 0; a < end; a += slice, ++k) {
      Chunk c;
      c.file = static_cast<int>(fi);
      c.row_group = static_cast<int>(k);
      c.skip = a;  // first row of the chunk inside the file
      c.rows = std::min(slice, end - a);
      c.rg_rows = c.rows;
      c.group_start = layout->total_rows;
      c.memory = std::max<int64_t>(1, static_cast<int64_t>(row_bytes * static_cast<double>(c.rows)));
      layout->chunks.push_back(c);
      layout->total_rows += c.rows;
    }
  }
  layout->provider = std::move(pg);
  return layout;
}

arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ReadProviderChunks(
    const GroupLayout& layout, const std::vector<size_t>& chunks, const std::vector<std::string>& columns,
    const arrow::Schema& logical) {
  const ProviderGroup& pg = *layout.provider;
  std::vector<std::shared_ptr<arrow::RecordBatch>> out;
  out.reserve(chunks.size());
  size_t i = 0;
  while (i < chunks.size()) {
    // A run of chunks of one file without gaps is read through one stream.
    const Chunk& first = layout.chunks[chunks[i]];
    size_t j = i + 1;
    int64_t end = first.skip + first.rows;
    while (j < chunks.size()) {
      const Chunk& c = layout.chunks[chunks[j]];
      if (c.file != first.file || c.skip != end) break;
      end += c.rows;
      ++j;
    }
    ARROW_ASSIGN_OR_RAISE(auto table, ReadRange(pg, pg.files[first.file], first.skip, end, columns, logical));
    for (size_t k = i; k < j; ++k) {
      const Chunk& c = layout.chunks[chunks[k]];
      ARROW_ASSIGN_OR_RAISE(auto batch, table->Slice(c.skip - first.skip, c.rows)->CombineChunksToBatch());
      out.push_back(std::move(batch));
    }
    i = j;
  }
  return out;
}

bool ProviderTakes(const GroupLayout& layout) { return layout.provider && layout.provider->provider->takes(); }

arrow::Result<std::shared_ptr<arrow::RecordBatch>> TakeProviderFileRows(const GroupLayout& layout, int file,
                                                                        const std::vector<int64_t>& in_file,
                                                                        const std::vector<std::string>& columns,
                                                                        const arrow::Schema& logical) {
  LOON_RETURN_ON_FAULT(loon_fiukey_column_group_read_fail);
  if (in_file.empty()) return arrow::Status::Invalid("take: no rows of file ", file);
  const ProviderGroup& pg = *layout.provider;
  // Only the distinct rows asked, ascending; then put in the order asked.
  std::vector<int64_t> distinct(in_file.begin(), in_file.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  ARROW_ASSIGN_OR_RAISE(auto table, TakeRows(pg, pg.files[file], distinct, columns, logical));
  ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
  arrow::Int64Builder indices;
  ARROW_RETURN_NOT_OK(indices.Reserve(static_cast<int64_t>(in_file.size())));
  for (int64_t row : in_file) {
    indices.UnsafeAppend(std::lower_bound(distinct.begin(), distinct.end(), row) - distinct.begin());
  }
  ARROW_ASSIGN_OR_RAISE(auto idx, indices.Finish());
  ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch, idx));
  return taken.record_batch();
}

arrow::Result<std::shared_ptr<arrow::RecordBatch>> TakeProviderRows(const GroupLayout& layout, size_t chunk,
                                                                    const std::vector<int64_t>& local,
                                                                    const std::vector<std::string>& columns,
                                                                    const arrow::Schema& logical) {
  LOON_RETURN_ON_FAULT(loon_fiukey_column_group_read_fail);
  const Chunk& c = layout.chunks[chunk];
  auto [lo, hi] = std::minmax_element(local.begin(), local.end());
  if (local.empty() || *lo < 0 || *hi >= c.rows) return arrow::Status::Invalid("take: row outside chunk ", chunk);
  if (ProviderTakes(layout)) {
    std::vector<int64_t> in_file;
    in_file.reserve(local.size());
    for (int64_t row : local) in_file.push_back(c.skip + row);
    return TakeProviderFileRows(layout, c.file, in_file, columns, logical);
  }
  const ProviderGroup& pg = *layout.provider;
  ARROW_ASSIGN_OR_RAISE(auto table, ReadRange(pg, pg.files[c.file], c.skip + *lo, c.skip + *hi + 1, columns, logical));
  ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
  arrow::Int64Builder indices;
  ARROW_RETURN_NOT_OK(indices.Reserve(static_cast<int64_t>(local.size())));
  for (int64_t row : local) indices.UnsafeAppend(row - *lo);
  ARROW_ASSIGN_OR_RAISE(auto idx, indices.Finish());
  ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch, idx));
  return taken.record_batch();
}

}  // namespace loon::exttable
