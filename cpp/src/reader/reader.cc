#include "reader/reader.h"

#include <arrow/array/builder_primitive.h>
#include <arrow/array/util.h>
#include <arrow/compute/api.h>
#include <arrow/compute/expression.h>
#include <arrow/filesystem/filesystem.h>
#include <arrow/io/caching.h>
#include <arrow/table.h>
#include <arrow/util/future.h>
#include <arrow/util/key_value_metadata.h>
#include <arrow/util/secure_string.h>
#include <arrow/util/thread_pool.h>
#include <parquet/arrow/schema.h>
#include <parquet/encryption/encryption.h>
#include <parquet/exception.h>
#include <parquet/properties.h>
#include <parquet/statistics.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include "common/metadata_cache.h"
#include "common/status.h"
#include "common/thread_pool.h"
#include "exttable/provider_reader.h"
#include "filesystem/fs.h"
#include "fiu/fault.h"
#include "milvus-storage/ffi_fiu.h"
#include "reader/file_integrity.h"
#include "reader/predicate.h"

namespace loon {

namespace cp = arrow::compute;

namespace {

void EnsureComputeInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { (void)cp::Initialize(); });
}

size_t HardwareThreads() { return std::max<unsigned>(1, std::thread::hardware_concurrency()); }

// Persistent threads for reading in parallel (layouts, take, get_chunks) when no singleton pool
// is set. ParallelFor starts fresh threads per call, and each new thread gets a fresh allocator
// heap: everything it decoded landed on newly faulted pages (the kernel zeroing them was 14% of
// a get_chunks profile).
arrow::internal::ThreadPool* ReadPool() {
  static std::shared_ptr<arrow::internal::ThreadPool> pool = [] {
    auto made = arrow::internal::ThreadPool::MakeEternal(static_cast<int>(std::max<size_t>(4, HardwareThreads())));
    return made.ok() ? *made : nullptr;
  }();
  return pool.get();
}

// ParallelFor's contract (fn(0..n-1), at most EffectiveParallelism(parallelism) at once, first
// error returned, the rest skipped) on ReadPool. The calling thread takes items too and waits only
// for items already started, so nesting (a scan opening group layouts that open files) cannot
// deadlock on a busy pool. With a singleton pool, ParallelFor runs the items on it as before.
arrow::Status ParallelRead(size_t n, size_t parallelism, const std::function<arrow::Status(size_t)>& fn) {
  size_t workers = std::min(n, EffectiveParallelism(parallelism));
  arrow::internal::ThreadPool* pool = ReadPool();
  if (workers <= 1 || SingletonPoolSize() > 0 || pool == nullptr) return ParallelFor(n, parallelism, fn);
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    size_t next = 0;
    size_t active = 0;
    bool failed = false;
    arrow::Status first_error;
  };
  auto state = std::make_shared<State>();
  // Helpers may start after this call returned: they then find no item and never touch `fn`.
  auto run = [state, n, &fn]() {
    while (true) {
      size_t i = 0;
      {
        std::lock_guard<std::mutex> lock(state->mu);
        if (state->failed || state->next >= n) return;
        i = state->next++;
        ++state->active;
      }
      arrow::Status st;
      try {
        st = fn(i);
      } catch (const std::exception& e) {
        st = arrow::Status::UnknownError("exception in worker: ", e.what());
      }
      {
        std::lock_guard<std::mutex> lock(state->mu);
        --state->active;
        if (!st.ok() && !state->failed) {
          state->failed = true;
          state->first_error = st;
        }
      }
      state->cv.notify_all();
    }
  };
  for (size_t w = 1; w < workers; ++w) {
    if (!pool->Spawn(run).ok()) break;  // shutting down: this thread does the rest
  }
  run();
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->active == 0; });
  return state->first_error;
}

// Runs each task at once on the calling thread. Local files read through it: Arrow's pre-buffer
// reads each column chunk with ReadAsync, which by default hands the read to the IO pool and
// waits (two thread switches per chunk: an id-only scan of 515 row groups switched ~1,200 times).
// A local pread needs no thread of its own; object stores keep the IO pool (latency, parallelism).
class InlineExecutor : public arrow::internal::Executor {
 public:
  int GetCapacity() override { return 1; }

 protected:
  arrow::Status SpawnReal(arrow::internal::TaskHints, arrow::internal::FnOnce<void()> task, arrow::StopToken,
                          StopCallback&&) override {
    std::move(task)();
    return arrow::Status::OK();
  }
};

// Local disk, possibly under loon's and a sub-tree's wrappers.
bool IsLocal(const arrow::fs::FileSystem& fs) {
  if (fs.type_name() == "local") return true;
  if (const auto* loon_fs = dynamic_cast<const fs::LoonFileSystem*>(&fs)) {
    return loon_fs->base() && IsLocal(*loon_fs->base());
  }
  if (const auto* sub = dynamic_cast<const arrow::fs::SubTreeFileSystem*>(&fs)) {
    return sub->base_fs() && IsLocal(*sub->base_fs());
  }
  return false;
}

// Bridges parquet's key retriever to the C callback; copies the key at once (the callback owns it).
class CallbackKeyRetriever : public parquet::DecryptionKeyRetriever {
 public:
  explicit CallbackKeyRetriever(KeyRetrieverFn fn) : fn_(fn) {}
  arrow::util::SecureString GetKey(const std::string& key_metadata) override {
    const char* key = fn_(key_metadata.c_str());
    if (key == nullptr) throw parquet::ParquetException("no decryption key for key metadata '" + key_metadata + "'");
    return arrow::util::SecureString(std::string(key));
  }

 private:
  KeyRetrieverFn fn_;
};

void CollectLeaves(const parquet::arrow::SchemaField& field, std::vector<int>* out) {
  if (field.is_leaf()) {
    out->push_back(field.column_index);
    return;
  }
  for (const auto& child : field.children) CollectLeaves(child, out);
}

// Read coalescing of the reader.parquet.prebuffer.* keys (0 = Arrow's defaults).
arrow::io::CacheOptions CoalescingOptions(const Properties& props) {
  arrow::io::CacheOptions io = arrow::io::CacheOptions::Defaults();
  int64_t hole = props.GetInt("reader.parquet.prebuffer.hole_size_limit");
  int64_t range = props.GetInt("reader.parquet.prebuffer.range_size_limit");
  if (hole > 0) io.hole_size_limit = hole;
  if (range > 0) io.range_size_limit = range;
  return io;
}

// Reorders `batch` to `names` (absent names skipped) and casts to the logical schema's types.
arrow::Result<std::shared_ptr<arrow::RecordBatch>> Normalize(const std::shared_ptr<arrow::RecordBatch>& batch,
                                                             const std::vector<std::string>& names,
                                                             const arrow::Schema& logical) {
  arrow::FieldVector fields;
  arrow::ArrayVector cols;
  for (const auto& name : names) {
    int idx = batch->schema()->GetFieldIndex(name);
    if (idx < 0) continue;
    std::shared_ptr<arrow::Array> col = batch->column(idx);
    auto field = batch->schema()->field(idx);
    int lidx = logical.GetFieldIndex(name);
    if (lidx >= 0) {
      auto want = logical.field(lidx);
      if (!want->type()->Equals(*col->type())) {
        ARROW_ASSIGN_OR_RAISE(auto cast, cp::Cast(*col, want->type()));
        col = std::move(cast);
      }
      field = want;
    }
    fields.push_back(field);
    cols.push_back(std::move(col));
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), batch->num_rows(), std::move(cols));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Files and layouts

arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenedFile::OpenInput() const {
  if (size >= 0) {
    // The recorded size spares a stat (and a round trip on object stores).
    arrow::fs::FileInfo info(path, arrow::fs::FileType::File);
    info.set_size(size);
    return fs->OpenInputFile(info);
  }
  return fs->OpenInputFile(path);
}

arrow::Result<std::shared_ptr<parquet::arrow::FileReader>> OpenedFile::NewReader(bool pre_buffer, bool use_threads,
                                                                                int64_t batch_size) const {
  ARROW_ASSIGN_OR_RAISE(auto input, OpenInput());
  parquet::ArrowReaderProperties arrow_props;
  arrow_props.set_pre_buffer(pre_buffer);
  arrow_props.set_use_threads(use_threads);
  arrow_props.set_cache_options(arrow::io::CacheOptions::LazyDefaults());
  if (IsLocal(*fs)) {
    static InlineExecutor inline_io;
    arrow_props.set_io_context(arrow::io::IOContext(arrow::default_memory_pool(), &inline_io));
  }
  if (batch_size > 0) arrow_props.set_batch_size(batch_size);
  parquet::arrow::FileReaderBuilder builder;
  // `footer_key` is set only for files encrypted without key metadata (writer.enc.meta empty):
  // parquet then cannot consult the retriever, so we ask it for the key of "" ourselves.
  auto open = [&](const std::string* footer_key) -> arrow::Status {
    parquet::ReaderProperties reader_props(arrow::default_memory_pool());
    reader_props.set_page_checksum_verification(true);  // pages written without a CRC are not checked
    if (key_retriever != nullptr) {
      parquet::FileDecryptionProperties::Builder b;
      b.key_retriever(std::make_shared<CallbackKeyRetriever>(key_retriever))->plaintext_files_allowed();
      if (footer_key != nullptr) b.footer_key(arrow::util::SecureString(std::string(*footer_key)));
      reader_props.file_decryption_properties(b.build());
    }
    // Reuse the parsed footer unless decryption is involved (the decryptor comes from parsing it).
    return builder.Open(input, reader_props, key_retriever == nullptr ? metadata : nullptr);
  };
  auto st = open(nullptr);
  if (!st.ok() && key_retriever != nullptr && st.message().find("No footer key or key metadata") != std::string::npos) {
    const char* key = key_retriever("");
    if (key == nullptr) return arrow::Status::IOError("no decryption key for key metadata ''");
    std::string footer_key(key);  // copied at once: the callback owns the returned bytes
    st = open(&footer_key);  // positional reads only, so the same input serves the retry
  }
  ARROW_RETURN_NOT_OK(st);
  builder.properties(arrow_props);
  ARROW_ASSIGN_OR_RAISE(auto reader, builder.Build());
  return std::shared_ptr<parquet::arrow::FileReader>(std::move(reader));
}

std::vector<int> OpenedFile::LeafColumns(const std::vector<std::string>& names) const {
  std::vector<int> leaves;
  for (const auto& name : names) {
    int idx = arrow_schema->GetFieldIndex(name);
    if (idx < 0) continue;
    CollectLeaves(manifest->schema_fields[idx], &leaves);
  }
  return leaves;
}

arrow::Result<std::shared_ptr<OpenedFile>> OpenDataFile(const Properties& props, const ColumnGroupFile& file,
                                                        KeyRetrieverFn key_retriever) {
  ARROW_ASSIGN_OR_RAISE(auto resolved, fs::Resolve(props, file.path));
  auto of = std::make_shared<OpenedFile>();
  of->fs = resolved.fs;
  of->path = resolved.path;
  of->key_retriever = key_retriever;
  auto it = file.properties.find("file_size");
  if (it != file.properties.end()) {
    try {
      of->size = std::stoll(it->second);
    } catch (...) {
      of->size = -1;
    }
  }
  // Footers of files read without decryption are shared through the metadata cache, keyed on
  // what the filesystem says about the file now (one stat instead of reading the footer).
  std::string cache_key;
  if (key_retriever == nullptr && props.GetBool("reader.metadata_cache.enable")) {
    auto info = resolved.fs->GetFileInfo(resolved.path);
    if (info.ok()) cache_key = FileCacheKey("footer", *resolved.fs, *info);
    if (!cache_key.empty()) {
      // What the manifest entry claims is part of the key: an entry recording another size or
      // footer checksum is verified against the file, not answered from an entry that passed.
      auto crc = file.properties.find(kFooterCrcProperty);
      cache_key += "\n" + std::to_string(of->size) + "\n" + (crc != file.properties.end() ? crc->second : "");
      if (auto cached = MetadataCache::Instance().Find<OpenedFile>(cache_key)) {
        auto hit = std::make_shared<OpenedFile>(*cached);
        hit->fs = of->fs;
        hit->path = of->path;
        hit->size = of->size;
        return hit;
      }
    }
  }
  // A footer with a recorded checksum is verified before Parquet trusts it (and then reused).
  auto footer = ReadVerifiedFooter(*of->fs, of->path, of->size, file, /*parse=*/key_retriever == nullptr);
  if (!footer.ok()) {  // an object store's GET error does not name the key
    return footer.status().WithMessage("cannot open data file '", file.path, "': ", footer.status().message());
  }
  of->metadata = *footer;
  std::shared_ptr<parquet::arrow::FileReader> reader;
  auto opened = of->NewReader(false, false, 0);
  if (!opened.ok()) {
    return opened.status().WithMessage("cannot open data file '", file.path, "': ", opened.status().message());
  }
  reader = *opened;
  of->metadata = reader->parquet_reader()->metadata();
  ARROW_RETURN_NOT_OK(reader->GetSchema(&of->arrow_schema));
  // Built from the footer alone, so `reader` (and with it the open file) is released on return: a
  // layout must not pin every data file of a dataset open (one descriptor per file made a scan of a
  // few thousand files fail with EMFILE). Reads reopen files one at a time with NewReader.
  // Made in place: a SchemaManifest holds pointers into itself.
  auto manifest = std::make_shared<parquet::arrow::SchemaManifest>();
  ARROW_RETURN_NOT_OK(parquet::arrow::SchemaManifest::Make(of->metadata->schema(), of->metadata->key_value_metadata(),
                                                           reader->properties(), manifest.get()));
  of->manifest = std::move(manifest);
  int64_t offset = 0;
  for (int rg = 0; rg < of->metadata->num_row_groups(); ++rg) {
    of->row_group_offsets.push_back(offset);
    offset += of->metadata->RowGroup(rg)->num_rows();
  }
  of->row_group_memory.assign(of->metadata->num_row_groups(), -1);
  auto kv = of->metadata->key_value_metadata();
  if (kv) {
    auto rgm = kv->Get("row_group_metadata");
    if (rgm.ok()) {
      std::vector<int64_t> mem;
      std::string s = *rgm;
      size_t start = 0;
      while (start < s.size()) {
        size_t end = s.find(';', start);
        if (end == std::string::npos) end = s.size();
        std::string entry = s.substr(start, end - start);
        try {
          mem.push_back(std::stoll(entry.substr(0, entry.find('|'))));
        } catch (...) {
          mem.clear();
          break;
        }
        start = end + 1;
      }
      if (mem.size() == of->row_group_memory.size()) of->row_group_memory = mem;
    }
  }
  if (!cache_key.empty()) {
    auto entry = std::make_shared<OpenedFile>(*of);
    entry->fs.reset();  // the caller's handle; each hit gets its own
    // Parsed footers take a few times their serialized size; the offset indexes are added on use.
    int64_t charge = 4 * static_cast<int64_t>(of->metadata->size()) + 4096;
    try {
      const int rgs = of->metadata->num_row_groups(), cols = of->metadata->num_columns();
      if (rgs > 0 && cols > 0) {
        auto first = of->metadata->RowGroup(0)->ColumnChunk(0)->GetOffsetIndexLocation();
        auto last = of->metadata->RowGroup(rgs - 1)->ColumnChunk(cols - 1)->GetOffsetIndexLocation();
        if (first && last && last->offset > first->offset) charge += 2 * (last->offset + last->length - first->offset);
      }
    } catch (const std::exception&) {
    }
    MetadataCache::Instance().Insert<OpenedFile>(cache_key, std::move(entry), charge);
  }
  return of;
}

size_t GroupLayout::ChunkOf(int64_t row) const {
  auto it = std::upper_bound(chunks.begin(), chunks.end(), row,
                             [](int64_t r, const Chunk& c) { return r < c.group_start; });
  return static_cast<size_t>(it - chunks.begin()) - 1;
}

arrow::Result<std::shared_ptr<GroupLayout>> OpenGroupLayout(const Properties& props, const ColumnGroup& group,
                                                            KeyRetrieverFn key_retriever, size_t parallelism) {
  if (group.format != "parquet") return exttable::OpenProviderLayout(props, group, parallelism);
  auto layout = std::make_shared<GroupLayout>();
  layout->group = &group;
  layout->files.resize(group.files.size());
  ARROW_RETURN_NOT_OK(ParallelRead(group.files.size(), parallelism, [&](size_t i) -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(layout->files[i], OpenDataFile(props, group.files[i], key_retriever));
    return arrow::Status::OK();
  }));
  for (size_t fi = 0; fi < group.files.size(); ++fi) {
    const OpenedFile& f = *layout->files[fi];
    ARROW_RETURN_NOT_OK(CheckFileAgainstManifest(group, group.files[fi], f));
    int64_t file_rows = f.metadata->num_rows();
    int64_t start = group.files[fi].start_index;
    int64_t end = group.files[fi].end_index;
    if (start < 0 && end < 0) {
      start = 0;
      end = file_rows;
    }
    if (start < 0 || end < start || end > file_rows) {
      return arrow::Status::Invalid("file '", group.files[fi].path, "' has ", file_rows, " rows, range [", start,
                                    ", ", end, ") is invalid");
    }
    for (int rg = 0; rg < f.metadata->num_row_groups(); ++rg) {
      int64_t rg_rows = f.metadata->RowGroup(rg)->num_rows();
      int64_t rg_begin = f.row_group_offsets[rg];
      int64_t a = std::max(rg_begin, start), b = std::min(rg_begin + rg_rows, end);
      if (a >= b) continue;
      Chunk c;
      c.file = static_cast<int>(fi);
      c.row_group = rg;
      c.skip = a - rg_begin;
      c.rows = b - a;
      c.rg_rows = rg_rows;
      c.group_start = layout->total_rows;
      int64_t mem = f.row_group_memory[rg] >= 0 ? f.row_group_memory[rg] : f.metadata->RowGroup(rg)->total_byte_size();
      c.memory = c.rows == rg_rows ? mem : static_cast<int64_t>(static_cast<double>(mem) * c.rows / rg_rows);
      layout->chunks.push_back(c);
      layout->total_rows += c.rows;
    }
  }
  return layout;
}

arrow::Result<std::shared_ptr<arrow::RecordBatch>> ReadChunk(const GroupLayout& layout, size_t chunk,
                                                             const std::vector<std::string>& columns,
                                                             const arrow::Schema& logical_schema, bool use_threads) {
  LOON_RETURN_ON_FAULT(loon_fiukey_column_group_read_fail);
  if (layout.provider) {
    ARROW_ASSIGN_OR_RAISE(auto pieces, exttable::ReadProviderChunks(layout, {chunk}, columns, logical_schema));
    return pieces[0];
  }
  const Chunk& c = layout.chunks[chunk];
  const OpenedFile& file = *layout.files[c.file];
  ARROW_ASSIGN_OR_RAISE(auto reader, file.NewReader(/*pre_buffer=*/true, use_threads, 0));
  auto read = reader->ReadRowGroup(c.row_group, file.LeafColumns(columns));
  if (!read.ok()) {
    return read.status().WithMessage("cannot read data file '", file.path, "': ", read.status().message());
  }
  std::shared_ptr<arrow::Table> table = std::move(read).ValueUnsafe();
  if (c.skip != 0 || c.rows != table->num_rows()) table = table->Slice(c.skip, c.rows);
  ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
  return Normalize(batch, columns, logical_schema);
}

// ---------------------------------------------------------------------------------------------
// Scan

namespace {

// A scan reads its chunks in units: consecutive selected chunks of one file holding about this
// much decoded data (at least one chunk). One ReadRowGroups call per unit decodes its columns in
// parallel on Arrow's CPU pool. Per-row-group futures (Arrow's record batch generator) cost ~5
// thread hand-offs per 1 MiB row group; on a loaded machine each hand-off waits for a core, and
// the scan fell to 0.8x pyarrow.read_table (which reads a whole file per column task).
constexpr int64_t kScanUnitBytes = 4 << 20;
// Unit readers per group scan: they mostly wait for the CPU pool, a few keep it busy.
constexpr size_t kMaxScanWorkers = 4;
// Decoded data a scan may hold ahead of its consumer, in units (at least 2, as many as workers + 1):
// files with big row groups (one unit each) keep two in flight, as Arrow's read-ahead of two row
// groups did.
constexpr int64_t kScanAheadBytes = 16 << 20;

// Reads the units of one group scan ahead of its consumer on a few threads of its own (not on
// the CPU pool, where blocking on nested decode tasks could starve it). At most `window` units
// are read ahead; destruction stops and joins the threads.
class GroupPrefetcher {
 public:
  struct Unit {
    int file = 0;
    std::vector<size_t> chunks;  // indices into layout->chunks, ascending
    int64_t bytes = 0;           // estimated decoded bytes of the projected columns
  };
  // A unit's rows as batches, each over consecutive group rows from `start` (chunks that follow
  // each other in the group share one piece: fewer, bigger batches for narrow projections).
  struct Piece {
    std::shared_ptr<arrow::RecordBatch> batch;
    int64_t start = 0;
  };
  using Pieces = std::vector<Piece>;

  GroupPrefetcher(std::shared_ptr<GroupLayout> layout, std::vector<std::string> columns,
                  std::shared_ptr<arrow::Schema> logical, std::vector<Unit> units, size_t workers,
                  int64_t max_piece_rows)
      : layout_(std::move(layout)),
        columns_(std::move(columns)),
        logical_(std::move(logical)),
        units_(std::move(units)),
        workers_(std::max<size_t>(1, workers)),
        window_(Window(units_, *layout_, workers_)),
        max_piece_rows_(std::max<int64_t>(1, max_piece_rows)),
        results_(units_.size()) {}

  GroupPrefetcher(const GroupPrefetcher&) = delete;
  GroupPrefetcher& operator=(const GroupPrefetcher&) = delete;

  ~GroupPrefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  size_t size() const { return units_.size(); }
  const Unit& unit(size_t u) const { return units_[u]; }

  static size_t Window(const std::vector<Unit>& units, const GroupLayout& layout, size_t workers) {
    int64_t bytes = 0;
    size_t chunks = 0;
    for (const Unit& unit : units) {
      bytes += std::max<int64_t>(1, unit.bytes);
      chunks += unit.chunks.size();
    }
    if (units.empty() || chunks == 0) return 2;
    int64_t per_unit = std::max<int64_t>(1, bytes / static_cast<int64_t>(units.size()));
    return std::clamp<size_t>(static_cast<size_t>(kScanAheadBytes / per_unit), 2, workers + 1);
  }

  // The pieces of unit `u`; units are asked for in order, each once.
  arrow::Result<Pieces> Get(size_t u) {
    std::unique_lock<std::mutex> lock(mu_);
    if (threads_.empty()) {
      size_t n = std::min(workers_, units_.size());
      try {
        for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { Work(); });
      } catch (const std::system_error& e) {  // out of threads: carry on with those started
        if (threads_.empty()) return arrow::Status::IOError("cannot start a scan thread: ", e.what());
      }
    }
    cv_.wait(lock, [&] { return results_[u].has_value(); });
    arrow::Result<Pieces> out = std::move(*results_[u]);
    results_[u].reset();
    consumed_ = u + 1;
    lock.unlock();
    cv_.notify_all();
    return out;
  }

 private:
  void Work() {
    std::shared_ptr<parquet::arrow::FileReader> reader;  // reused while units stay in one file
    int reader_file = -1;
    while (true) {
      size_t u = 0;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || failed_ || next_ >= units_.size() || next_ < consumed_ + window_; });
        if (stop_ || failed_ || next_ >= units_.size()) return;
        u = next_++;
      }
      arrow::Result<Pieces> result = arrow::Status::UnknownError("unit not read");
      try {
        result = ReadUnit(units_[u], &reader, &reader_file);
      } catch (const std::exception& e) {
        result = arrow::Status::UnknownError("exception while reading a column group: ", e.what());
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!result.ok()) failed_ = true;  // later units are not needed: the consumer stops here
        results_[u] = std::move(result);
      }
      cv_.notify_all();
    }
  }

  arrow::Result<Pieces> ReadUnit(const Unit& unit, std::shared_ptr<parquet::arrow::FileReader>* reader,
                                 int* reader_file) const {
    Pieces pieces;
    if (layout_->provider) {
      ARROW_ASSIGN_OR_RAISE(auto batches, exttable::ReadProviderChunks(*layout_, unit.chunks, columns_, *logical_));
      for (size_t i = 0; i < batches.size() && i < unit.chunks.size(); ++i) {
        pieces.push_back({std::move(batches[i]), layout_->chunks[unit.chunks[i]].group_start});
      }
      return pieces;
    }
    const OpenedFile& file = *layout_->files[unit.file];
    const std::vector<int> leaves = file.LeafColumns(columns_);
    if (*reader_file != unit.file) {
      reader->reset();
      // Arrow decodes columns in parallel; one leaf column gains nothing but hand-offs.
      ARROW_ASSIGN_OR_RAISE(*reader, file.NewReader(/*pre_buffer=*/true, /*use_threads=*/leaves.size() > 1, 0));
      *reader_file = unit.file;
    }
    std::vector<int> rgs;
    int64_t rows = 0;
    for (size_t c : unit.chunks) {
      rgs.push_back(layout_->chunks[c].row_group);
      rows += layout_->chunks[c].rg_rows;
    }
    // ZSTD chunks are decompressed by the page path (one context per thread, see page_take.h).
    ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Table> table,
                          ReadRowGroupsByPages(file, columns_, rgs, arrow::io::CacheOptions::Defaults()));
    if (!table) {
      auto read = (*reader)->ReadRowGroups(rgs, leaves);
      if (!read.ok()) {  // e.g. a page CRC mismatch: say which file
        return read.status().WithMessage("cannot read data file '", file.path, "': ", read.status().message());
      }
      table = std::move(read).ValueUnsafe();
    }
    if (table->num_rows() != rows) {
      return arrow::Status::IOError("data file '", file.path, "' returned ", table->num_rows(), " rows for ", rows,
                                    " rows of row groups");
    }
    // Runs of chunks that follow each other both in the table read and in the group, cut at
    // about max_piece_rows_ (a piece is combined into one batch: bigger ones would only be copied
    // to be sliced again).
    // Columns that came back in several arrays would be copied to merge: then one piece per chunk.
    bool single = true;
    for (const auto& column : table->columns()) single = single && column->num_chunks() <= 1;
    const int64_t piece_rows = single ? max_piece_rows_ : 1;
    int64_t offset = 0;
    size_t i = 0;
    while (i < unit.chunks.size()) {
      const Chunk& first = layout_->chunks[unit.chunks[i]];
      int64_t from = offset + first.skip, rows = first.rows;
      offset += first.rg_rows;
      size_t j = i + 1;
      while (j < unit.chunks.size() && rows < piece_rows) {
        const Chunk& prev = layout_->chunks[unit.chunks[j - 1]];
        const Chunk& next = layout_->chunks[unit.chunks[j]];
        if (next.skip != 0 || prev.skip + prev.rows != prev.rg_rows ||
            next.group_start != prev.group_start + prev.rows) {
          break;
        }
        rows += next.rows;
        offset += next.rg_rows;
        ++j;
      }
      // Zero-copy unless the run spans columns that came back in several pieces.
      ARROW_ASSIGN_OR_RAISE(auto batch, table->Slice(from, rows)->CombineChunksToBatch());
      ARROW_ASSIGN_OR_RAISE(batch, Normalize(batch, columns_, *logical_));
      pieces.push_back({std::move(batch), first.group_start});
      i = j;
    }
    return pieces;
  }

  const std::shared_ptr<GroupLayout> layout_;
  const std::vector<std::string> columns_;
  const std::shared_ptr<arrow::Schema> logical_;
  const std::vector<Unit> units_;
  const size_t workers_;
  const size_t window_;
  const int64_t max_piece_rows_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::vector<std::optional<arrow::Result<Pieces>>> results_;
  size_t next_ = 0;      // next unit a worker starts
  size_t consumed_ = 0;  // units handed to the consumer
  bool stop_ = false;
  bool failed_ = false;
};

// Streams the selected chunks of one group in row order; `cur` holds consecutive group rows
// (one or more whole chunks, see GroupPrefetcher::Piece).
struct GroupScan {
  std::shared_ptr<GroupLayout> layout;
  std::vector<std::string> columns;
  std::shared_ptr<arrow::Schema> logical;
  std::vector<std::vector<size_t>> file_chunks;  // selected chunks per file
  size_t workers = 2;
  int64_t max_rows = 8192;  // rows per piece to aim at (the scan's batch size)

  std::unique_ptr<GroupPrefetcher> prefetch;
  size_t next_unit = 0;
  GroupPrefetcher::Pieces pieces;
  size_t next_piece = 0;
  std::shared_ptr<arrow::RecordBatch> cur;
  int64_t cur_start = 0;

  // Share of a file's decoded bytes that the projected columns hold (from its first row group's
  // uncompressed column sizes): units are sized by what they decode, so a narrow projection reads
  // many row groups per unit instead of paying a unit's fixed cost for a few KiB.
  double ProjectedShare(size_t f) const {
    if (layout->provider || f >= layout->files.size() || !layout->files[f]) return 1.0;
    const OpenedFile& file = *layout->files[f];
    try {
      if (file.metadata->num_row_groups() == 0) return 1.0;
      auto rg = file.metadata->RowGroup(0);
      std::vector<int> leaves = file.LeafColumns(columns);
      int64_t projected = 0, total = 0;
      for (int c = 0; c < rg->num_columns(); ++c) {
        int64_t size = std::max<int64_t>(0, rg->ColumnChunk(c)->total_uncompressed_size());
        total += size;
        if (std::find(leaves.begin(), leaves.end(), c) != leaves.end()) projected += size;
      }
      if (total <= 0 || projected <= 0) return 1.0;
      return std::min(1.0, static_cast<double>(projected) / static_cast<double>(total));
    } catch (const std::exception&) {
      return 1.0;
    }
  }

  void Plan(int64_t max_rows) {
    std::vector<GroupPrefetcher::Unit> units;
    for (size_t f = 0; f < file_chunks.size(); ++f) {
      if (file_chunks[f].empty()) continue;
      const double share = ProjectedShare(f);
      for (size_t c : file_chunks[f]) {
        if (units.empty() || units.back().file != static_cast<int>(f) || units.back().bytes >= kScanUnitBytes) {
          units.push_back({static_cast<int>(f), {}, 0});
        }
        units.back().chunks.push_back(c);
        units.back().bytes +=
            std::max<int64_t>(1, static_cast<int64_t>(share * static_cast<double>(layout->chunks[c].memory)));
      }
    }
    prefetch = std::make_unique<GroupPrefetcher>(layout, columns, logical, std::move(units),
                                                 std::min(workers, kMaxScanWorkers), max_rows);
  }

  // Loads the next piece's batch into `cur`; false at the end.
  arrow::Result<bool> Next() {
    if (!prefetch) Plan(max_rows);
    while (true) {
      if (next_piece < pieces.size()) {
        LOON_RETURN_ON_FAULT(loon_fiukey_column_group_read_fail);
        cur = std::move(pieces[next_piece].batch);
        cur_start = pieces[next_piece].start;
        ++next_piece;
        return true;
      }
      if (next_unit >= prefetch->size()) {
        pieces.clear();
        return false;
      }
      LOON_RETURN_ON_FAULT(loon_fiukey_column_group_read_fail);
      ARROW_ASSIGN_OR_RAISE(pieces, prefetch->Get(next_unit));
      ++next_unit;
      next_piece = 0;
    }
  }

  // Positions `cur` on group row `pos`; returns rows available from there.
  arrow::Result<int64_t> Seek(int64_t pos) {
    while (!cur || cur_start + cur->num_rows() <= pos) {
      ARROW_ASSIGN_OR_RAISE(bool more, Next());
      if (!more) return arrow::Status::Invalid("column group ended before row ", pos);
    }
    if (pos < cur_start) return arrow::Status::Invalid("scan position ", pos, " was skipped");
    return cur_start + cur->num_rows() - pos;
  }
};

struct ColumnSource {
  int group = -1;  // index into scans, -1 = all-null column
  int column = 0;  // position in that group's batch
};

class ScanReader : public arrow::RecordBatchReader {
 public:
  std::shared_ptr<arrow::Schema> out_schema;   // projection
  std::shared_ptr<arrow::Schema> read_schema;  // projection + predicate columns
  std::vector<ColumnSource> sources;           // per read_schema field
  std::vector<GroupScan> scans;
  std::vector<std::pair<int64_t, int64_t>> segments;  // row ranges to read
  std::optional<BoundPredicate> predicate;  // bound to read_schema
  int64_t max_rows = 8192;
  size_t seg = 0;
  int64_t pos = 0;
  std::shared_ptr<ReaderState> keep_alive;

  std::shared_ptr<arrow::Schema> schema() const override { return out_schema; }

  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    while (true) {
      if (seg >= segments.size()) {
        *out = nullptr;
        scans.clear();  // release files early
        return arrow::Status::OK();
      }
      auto [s, e] = segments[seg];
      if (pos < s) pos = s;
      if (pos >= e) {
        ++seg;
        continue;
      }
      int64_t n = std::min(e - pos, max_rows);
      for (auto& gs : scans) {
        ARROW_ASSIGN_OR_RAISE(int64_t avail, gs.Seek(pos));
        n = std::min(n, avail);
      }
      arrow::ArrayVector cols;
      cols.reserve(sources.size());
      for (size_t i = 0; i < sources.size(); ++i) {
        const ColumnSource& src = sources[i];
        if (src.group < 0) {
          ARROW_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(read_schema->field(i)->type(), n));
          cols.push_back(std::move(nulls));
        } else {
          GroupScan& gs = scans[src.group];
          if (src.column < 0 || src.column >= gs.cur->num_columns()) {
            // E.g. a data file whose schema repeats a column name: the name cannot be resolved.
            return arrow::Status::IOError("column '", read_schema->field(i)->name(),
                                          "' cannot be read from its column group (absent or ambiguous in the data file)");
          }
          auto col = gs.cur->column(src.column);
          int64_t off = pos - gs.cur_start;
          cols.push_back(off == 0 && n == col->length() ? col : col->Slice(off, n));
        }
      }
      pos += n;
      auto batch = arrow::RecordBatch::Make(read_schema, n, std::move(cols));
      if (predicate) {
        ARROW_ASSIGN_OR_RAISE(auto mask, predicate->Evaluate(batch));
        if (mask.is_scalar()) {
          // Constant predicate: keep all rows only when it is a valid true.
          const auto& sc = *mask.scalar();
          bool keep = sc.is_valid && sc.type->id() == arrow::Type::BOOL &&
                      static_cast<const arrow::BooleanScalar&>(sc).value;
          if (!keep) continue;
        } else {
          ARROW_ASSIGN_OR_RAISE(auto filtered, cp::Filter(batch, mask));
          batch = filtered.record_batch();
          if (batch->num_rows() == 0) continue;
        }
      }
      if (read_schema->num_fields() != out_schema->num_fields()) {
        arrow::ArrayVector outs(batch->columns().begin(), batch->columns().begin() + out_schema->num_fields());
        batch = arrow::RecordBatch::Make(out_schema, batch->num_rows(), std::move(outs));
      }
      *out = std::move(batch);
      return arrow::Status::OK();
    }
  }
};

// Guarantee about a row group's values from its Parquet statistics (as Arrow's dataset does).
cp::Expression StatsGuarantee(const OpenedFile& file, int row_group, const std::vector<std::string>& columns,
                              const arrow::Schema& logical) {
  std::vector<cp::Expression> parts;
  try {
    auto rg = file.metadata->RowGroup(row_group);
    for (const auto& name : columns) {
      int fidx = file.arrow_schema->GetFieldIndex(name);
      int lidx = logical.GetFieldIndex(name);
      if (fidx < 0 || lidx < 0) continue;
      const auto& field = file.manifest->schema_fields[fidx];
      if (!field.is_leaf()) continue;
      auto chunk = rg->ColumnChunk(field.column_index);
      auto stats = chunk->statistics();
      if (!stats) continue;
      auto ref = cp::field_ref(name);
      int64_t rows = rg->num_rows();
      if (stats->HasNullCount() && stats->null_count() == rows) {
        parts.push_back(cp::is_null(ref));
        continue;
      }
      if (!stats->HasMinMax()) continue;
      std::shared_ptr<arrow::Scalar> mn, mx;
      if (!parquet::arrow::StatisticsAsScalars(*stats, &mn, &mx).ok()) continue;
      auto type = logical.field(lidx)->type();
      if (!mn->type->Equals(*type)) {
        auto cmn = mn->CastTo(type);
        auto cmx = mx->CastTo(type);
        if (!cmn.ok() || !cmx.ok()) continue;
        mn = *cmn;
        mx = *cmx;
      }
      auto range = cp::and_(cp::greater_equal(ref, cp::literal(mn)), cp::less_equal(ref, cp::literal(mx)));
      if (stats->HasNullCount() && stats->null_count() == 0) {
        parts.push_back(range);
      } else {
        parts.push_back(cp::or_(range, cp::is_null(ref)));
      }
    }
  } catch (const std::exception&) {
    return cp::literal(true);
  }
  if (parts.empty()) return cp::literal(true);
  return cp::and_(parts);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reader

arrow::Result<std::shared_ptr<GroupLayout>> ReaderState::Layout(int group, size_t parallelism) {
  KeyRetrieverFn kr = key_retriever.load();
  if (!props.GetBool("reader.metadata_cache.enable")) return OpenGroupLayout(props, groups[group], kr, parallelism);
  {
    std::lock_guard<std::mutex> lock(layouts_mu);
    if (kr != layouts_key_retriever) {
      layouts.clear();
      layouts_key_retriever = kr;
    }
    auto it = layouts.find(group);
    if (it != layouts.end()) return it->second;
  }
  ARROW_ASSIGN_OR_RAISE(auto layout, OpenGroupLayout(props, groups[group], kr, parallelism));
  std::lock_guard<std::mutex> lock(layouts_mu);
  if (kr == layouts_key_retriever) layouts.emplace(group, layout);
  return layout;
}

arrow::Result<std::shared_ptr<Reader>> Reader::Make(ColumnGroupList groups, std::shared_ptr<arrow::Schema> schema,
                                                    std::vector<std::string> projection, Properties props) {
  EnsureComputeInitialized();
  for (int i = 0; i < schema->num_fields(); ++i) {
    if (schema->GetFieldIndex(schema->field(i)->name()) < 0) {
      return arrow::Status::Invalid("duplicate column name '", schema->field(i)->name(), "' in the reader schema");
    }
  }
  auto state = std::make_shared<ReaderState>();
  state->groups = std::move(groups);
  state->schema = std::move(schema);
  if (projection.empty()) {
    for (const auto& f : state->schema->fields()) projection.push_back(f->name());
  }
  state->projection = std::move(projection);
  state->props = std::move(props);
  return std::shared_ptr<Reader>(new Reader(std::move(state)));
}

arrow::Result<std::shared_ptr<arrow::Schema>> Reader::ProjectedSchema(const std::vector<std::string>& names) const {
  arrow::FieldVector fields;
  for (const auto& name : names) {
    int idx = state_->schema->GetFieldIndex(name);
    if (idx < 0) return arrow::Status::Invalid("projected column '", name, "' is not a field of the reader schema");
    fields.push_back(state_->schema->field(idx));
  }
  return arrow::schema(fields);
}

namespace {

// Which group serves each needed column, and the columns each involved group must read.
struct GroupPlan {
  std::vector<int> group_of;                        // per needed column: group index or -1
  std::map<int, std::vector<std::string>> columns;  // group index -> its needed columns
};

GroupPlan PlanGroups(const ColumnGroupList& groups, const std::vector<std::string>& needed) {
  GroupPlan plan;
  for (const auto& name : needed) {
    int owner = -1;
    for (size_t g = 0; g < groups.size() && owner < 0; ++g) {
      const auto& cols = groups[g].columns;
      if (std::find(cols.begin(), cols.end(), name) != cols.end()) owner = static_cast<int>(g);
    }
    plan.group_of.push_back(owner);
    if (owner >= 0) {
      auto& list = plan.columns[owner];
      if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
    }
  }
  return plan;
}

// Rows of the dataset: all involved groups must agree; without one, the first group decides.
arrow::Result<int64_t> DatasetRows(const ColumnGroupList& groups, const GroupPlan& plan) {
  int64_t rows = -1;
  for (const auto& [g, cols] : plan.columns) {
    int64_t r = groups[g].total_rows();
    if (rows >= 0 && r != rows) {
      return arrow::Status::Invalid("column groups have different row counts (", rows, " vs ", r, ")");
    }
    rows = r;
  }
  if (rows < 0) rows = groups.empty() ? 0 : groups[0].total_rows();
  return rows;
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> Reader::Scan(const std::string& predicate_text) const {
  const ReaderState& st = *state_;
  auto reader = std::make_shared<ScanReader>();
  reader->keep_alive = state_;
  reader->max_rows = std::max<int64_t>(1, st.props.GetInt("reader.record_batch_max_rows"));
  if (st.groups.empty()) {
    reader->out_schema = reader->read_schema = st.schema;
    return reader;
  }
  ARROW_ASSIGN_OR_RAISE(reader->out_schema, ProjectedSchema(st.projection));
  std::vector<std::string> needed = st.projection;
  std::optional<ParsedPredicate> parsed;
  if (!predicate_text.empty()) {
    ARROW_ASSIGN_OR_RAISE(parsed, ParsePredicate(predicate_text, *st.schema));
    for (const auto& c : parsed->columns) {
      if (std::find(needed.begin(), needed.end(), c) == needed.end()) needed.push_back(c);
    }
  }
  ARROW_ASSIGN_OR_RAISE(reader->read_schema, ProjectedSchema(needed));
  if (parsed) {
    ARROW_ASSIGN_OR_RAISE(reader->predicate, BoundPredicate::Bind(parsed->root, reader->read_schema));
  }
  GroupPlan plan = PlanGroups(st.groups, needed);
  ARROW_ASSIGN_OR_RAISE(int64_t total, DatasetRows(st.groups, plan));
  ARROW_RETURN_NOT_OK(
      CheckColumnsWithoutGroup(st.props, st.groups, *st.schema, needed, plan.group_of, st.key_retriever.load()));

  // Open every involved group's footers (concurrently) to learn its chunks.
  size_t parallelism = EffectiveParallelism(HardwareThreads());
  std::vector<int> group_ids;
  for (const auto& [g, cols] : plan.columns) group_ids.push_back(g);
  std::vector<std::shared_ptr<GroupLayout>> layouts(group_ids.size());
  ARROW_RETURN_NOT_OK(ParallelRead(group_ids.size(), parallelism, [&](size_t i) -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(layouts[i], state_->Layout(group_ids[i], parallelism));
    return arrow::Status::OK();
  }));

  // Row ranges whose row groups the statistics rule out.
  std::vector<std::pair<int64_t, int64_t>> skipped;
  if (reader->predicate) {
    for (size_t i = 0; i < group_ids.size(); ++i) {
      const auto& cols = plan.columns[group_ids[i]];
      std::vector<std::string> pred_cols;
      for (const auto& c : parsed->columns) {
        if (std::find(cols.begin(), cols.end(), c) != cols.end()) pred_cols.push_back(c);
      }
      if (pred_cols.empty() || layouts[i]->provider) continue;  // no statistics from providers
      for (const Chunk& c : layouts[i]->chunks) {
        auto guarantee = StatsGuarantee(*layouts[i]->files[c.file], c.row_group, pred_cols, *st.schema);
        if (reader->predicate->MayMatch(guarantee)) continue;
        skipped.emplace_back(c.group_start, c.group_start + c.rows);
      }
    }
  }
  std::sort(skipped.begin(), skipped.end());
  int64_t at = 0;
  for (const auto& [a, b] : skipped) {
    if (a > at) reader->segments.emplace_back(at, a);
    at = std::max(at, b);
  }
  if (at < total) reader->segments.emplace_back(at, total);

  for (size_t i = 0; i < group_ids.size(); ++i) {
    GroupScan gs;
    gs.layout = layouts[i];
    gs.columns = plan.columns[group_ids[i]];
    gs.logical = st.schema;
    gs.workers = std::max<size_t>(2, parallelism);
    gs.max_rows = reader->max_rows;
    gs.file_chunks.resize(gs.layout->files.size());
    size_t seg = 0;
    for (size_t ci = 0; ci < gs.layout->chunks.size(); ++ci) {
      const Chunk& c = gs.layout->chunks[ci];
      int64_t a = c.group_start, b = c.group_start + c.rows;
      while (seg < reader->segments.size() && reader->segments[seg].second <= a) ++seg;
      if (seg < reader->segments.size() && reader->segments[seg].first < b) gs.file_chunks[c.file].push_back(ci);
    }
    reader->scans.push_back(std::move(gs));
  }
  for (size_t i = 0; i < needed.size(); ++i) {
    ColumnSource src;
    if (plan.group_of[i] >= 0) {
      auto it = std::find(group_ids.begin(), group_ids.end(), plan.group_of[i]);
      src.group = static_cast<int>(it - group_ids.begin());
      const auto& cols = plan.columns[plan.group_of[i]];
      src.column = static_cast<int>(std::find(cols.begin(), cols.end(), needed[i]) - cols.begin());
    }
    reader->sources.push_back(src);
  }
  return reader;
}

arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> Reader::Take(
    const std::vector<int64_t>& rows, size_t parallelism, const std::vector<std::string>& projection) const {
  const ReaderState& st = *state_;
  const std::vector<std::string>& names = projection.empty() ? st.projection : projection;
  ARROW_ASSIGN_OR_RAISE(auto out_schema, ProjectedSchema(names));
  GroupPlan plan = PlanGroups(st.groups, names);
  ARROW_ASSIGN_OR_RAISE(int64_t total, DatasetRows(st.groups, plan));
  ARROW_RETURN_NOT_OK(
      CheckColumnsWithoutGroup(st.props, st.groups, *st.schema, names, plan.group_of, st.key_retriever.load()));
  for (int64_t r : rows) {
    if (r < 0 || r >= total) return arrow::Status::Invalid("row index ", r, " out of range [0, ", total, ")");
  }
  LOON_RETURN_ON_FAULT(loon_fiukey_take_rows_fail);
  if (rows.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto empty, arrow::RecordBatch::MakeEmpty(out_schema));
    return std::vector<std::shared_ptr<arrow::RecordBatch>>{std::move(empty)};
  }
  size_t workers = EffectiveParallelism(parallelism);
  std::vector<int> group_ids;
  for (const auto& [g, cols] : plan.columns) group_ids.push_back(g);
  std::vector<std::shared_ptr<GroupLayout>> layouts(group_ids.size());
  ARROW_RETURN_NOT_OK(ParallelRead(group_ids.size(), workers, [&](size_t i) -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(layouts[i], state_->Layout(group_ids[i], workers));
    return arrow::Status::OK();
  }));

  // Tasks: the rows of one file of one group, split into up to `workers` runs of row groups so
  // that a take from one big file still uses the workers. A task reads only the pages holding
  // its rows (page_take.h) and keeps just those rows. Groups read through a format provider get
  // one task per file when the provider has random access (one take call however many chunks
  // the rows fall in), else one task per chunk, which the provider serves.
  struct Task {
    size_t group;
    int file = -1;                       // Parquet: file of the layout
    std::vector<RowInGroup> local;       // ... and its rows, in the order asked
    size_t chunk = 0;                    // provider: chunk of the layout (file >= 0: by file)
    std::vector<int64_t> chunk_rows;     // ... and its chunk- (file-) relative rows, in the order asked
  };
  std::vector<Task> tasks;
  std::vector<std::vector<size_t>> row_task(group_ids.size());   // per group, per asked row: its task
  std::vector<std::vector<int64_t>> row_slot(group_ids.size());  // ... and its position in that task
  for (size_t i = 0; i < group_ids.size(); ++i) {
    const GroupLayout& layout = *layouts[i];
    row_task[i].reserve(rows.size());
    row_slot[i].reserve(rows.size());
    if (layout.provider) {
      const bool by_file = exttable::ProviderTakes(layout);
      std::map<size_t, size_t> slot;  // chunk (or file) -> task
      for (int64_t r : rows) {
        size_t c = layout.ChunkOf(r);
        const Chunk& chunk = layout.chunks[c];
        size_t key = by_file ? static_cast<size_t>(chunk.file) : c;
        auto [it, fresh] = slot.emplace(key, tasks.size());
        if (fresh) tasks.push_back({i, by_file ? chunk.file : -1, {}, c, {}});
        Task& task = tasks[it->second];
        row_task[i].push_back(it->second);
        row_slot[i].push_back(static_cast<int64_t>(task.chunk_rows.size()));
        task.chunk_rows.push_back(by_file ? chunk.skip + (r - chunk.group_start) : r - chunk.group_start);
      }
      continue;
    }
    // Row groups touched per file, to cut each file's row groups into `workers` runs.
    std::map<int, std::set<int>> touched;
    std::vector<std::pair<int, RowInGroup>> where(rows.size());
    for (size_t k = 0; k < rows.size(); ++k) {
      const Chunk& c = layout.chunks[layout.ChunkOf(rows[k])];
      where[k] = {c.file, RowInGroup{c.row_group, c.skip + (rows[k] - c.group_start)}};
      touched[c.file].insert(c.row_group);
    }
    std::map<std::pair<int, int>, size_t> slot;  // (file, run) -> task
    std::map<int, std::vector<int>> run_starts;  // file -> first row group of each run
    for (const auto& [file, rgs] : touched) {
      std::vector<int> sorted(rgs.begin(), rgs.end());
      size_t runs = std::min(sorted.size(), workers);
      auto& starts = run_starts[file];
      for (size_t r = 0; r < runs; ++r) starts.push_back(sorted[r * sorted.size() / runs]);
    }
    for (size_t k = 0; k < rows.size(); ++k) {
      auto [file, at] = where[k];
      const auto& starts = run_starts[file];
      int run = static_cast<int>(std::upper_bound(starts.begin(), starts.end(), at.row_group) - starts.begin()) - 1;
      auto [it, fresh] = slot.emplace(std::make_pair(file, run), tasks.size());
      if (fresh) tasks.push_back({i, file, {}, 0, {}});
      Task& task = tasks[it->second];
      row_task[i].push_back(it->second);
      row_slot[i].push_back(static_cast<int64_t>(task.local.size()));
      task.local.push_back(at);
    }
  }
  arrow::io::CacheOptions io = CoalescingOptions(st.props);
  std::vector<std::shared_ptr<arrow::RecordBatch>> picked(tasks.size());
  ARROW_RETURN_NOT_OK(ParallelRead(tasks.size(), workers, [&](size_t t) -> arrow::Status {
    LOON_RETURN_ON_FAULT(loon_fiukey_column_group_read_fail);
    const Task& task = tasks[t];
    size_t i = task.group;
    if (layouts[i]->provider) {  // only the rows asked, not the whole chunk
      if (task.file >= 0) {
        ARROW_ASSIGN_OR_RAISE(picked[t], exttable::TakeProviderFileRows(*layouts[i], task.file, task.chunk_rows,
                                                                        plan.columns[group_ids[i]], *st.schema));
      } else {
        ARROW_ASSIGN_OR_RAISE(picked[t], exttable::TakeProviderRows(*layouts[i], task.chunk, task.chunk_rows,
                                                                    plan.columns[group_ids[i]], *st.schema));
      }
      return arrow::Status::OK();
    }
    ARROW_ASSIGN_OR_RAISE(auto batch, TakeFromFile(*layouts[i]->files[task.file], plan.columns[group_ids[i]],
                                                   task.local, io));
    ARROW_ASSIGN_OR_RAISE(picked[t], Normalize(batch, plan.columns[group_ids[i]], *st.schema));
    return arrow::Status::OK();
  }));

  std::map<std::string, std::shared_ptr<arrow::Array>> taken;
  for (size_t i = 0; i < group_ids.size(); ++i) {
    // This group's picked rows, task after task; then put them in the order asked (a no-op for
    // ascending indices without duplicates, the common case).
    std::vector<std::shared_ptr<arrow::RecordBatch>> pieces;
    std::vector<int64_t> base(tasks.size(), 0);
    int64_t offset = 0;
    for (size_t t = 0; t < tasks.size(); ++t) {
      if (tasks[t].group != i) continue;
      base[t] = offset;
      offset += picked[t]->num_rows();
      pieces.push_back(picked[t]);
    }
    std::shared_ptr<arrow::RecordBatch> combined;
    if (pieces.size() == 1) {
      combined = pieces[0];
    } else {
      ARROW_ASSIGN_OR_RAISE(combined, arrow::ConcatenateRecordBatches(pieces));
    }
    std::vector<int64_t> order(rows.size());
    bool identity = true;
    for (size_t k = 0; k < rows.size(); ++k) {
      order[k] = base[row_task[i][k]] + row_slot[i][k];
      identity = identity && order[k] == static_cast<int64_t>(k);
    }
    if (!identity) {
      arrow::Int64Builder idx;
      ARROW_RETURN_NOT_OK(idx.AppendValues(order));
      ARROW_ASSIGN_OR_RAISE(auto indices, idx.Finish());
      ARROW_ASSIGN_OR_RAISE(auto result, cp::Take(combined, indices));
      combined = result.record_batch();
    }
    for (int c = 0; c < combined->num_columns(); ++c) taken[combined->schema()->field(c)->name()] = combined->column(c);
  }
  arrow::ArrayVector cols;
  for (const auto& f : out_schema->fields()) {
    auto it = taken.find(f->name());
    if (it != taken.end()) {
      cols.push_back(it->second);
    } else {
      ARROW_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(f->type(), static_cast<int64_t>(rows.size())));
      cols.push_back(std::move(nulls));
    }
  }
  return std::vector<std::shared_ptr<arrow::RecordBatch>>{
      arrow::RecordBatch::Make(out_schema, static_cast<int64_t>(rows.size()), std::move(cols))};
}

arrow::Result<std::unique_ptr<ChunkReader>> Reader::GetChunkReader(int64_t group_index,
                                                                   const std::vector<std::string>& projection) const {
  const ReaderState& st = *state_;
  if (group_index < 0 || group_index >= static_cast<int64_t>(st.groups.size())) {
    return arrow::Status::Invalid("column group index ", group_index, " out of range [0, ", st.groups.size(), ")");
  }
  const ColumnGroup& group = st.groups[group_index];
  const std::vector<std::string>& names = projection.empty() ? st.projection : projection;
  std::vector<std::string> columns;
  for (const auto& name : names) {
    if (std::find(group.columns.begin(), group.columns.end(), name) != group.columns.end() &&
        std::find(columns.begin(), columns.end(), name) == columns.end()) {
      columns.push_back(name);
    }
  }
  if (columns.empty()) return arrow::Status::Invalid("column group ", group_index, " holds none of the projected columns");
  ARROW_ASSIGN_OR_RAISE(auto layout, state_->Layout(static_cast<int>(group_index), EffectiveParallelism(HardwareThreads())));
  return std::make_unique<ChunkReader>(state_, std::move(layout), std::move(columns));
}

// ---------------------------------------------------------------------------------------------
// Chunk reader

std::shared_ptr<arrow::Schema> ChunkReader::schema() const {
  arrow::FieldVector fields;
  for (const auto& name : columns_) {
    int idx = state_->schema->GetFieldIndex(name);
    if (idx >= 0) {
      fields.push_back(state_->schema->field(idx));
    } else if (!layout_->files.empty() && layout_->files[0]) {
      auto f = layout_->files[0]->arrow_schema->GetFieldByName(name);
      if (f) fields.push_back(f);
    }
  }
  return arrow::schema(fields);
}

arrow::Result<std::vector<int64_t>> ChunkReader::ChunkIndices(const int64_t* rows, size_t n) const {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (size_t i = 0; i < n; ++i) {
    if (rows[i] < 0 || rows[i] >= layout_->total_rows) {
      return arrow::Status::Invalid("row index ", rows[i], " out of range [0, ", layout_->total_rows, ")");
    }
    int64_t c = static_cast<int64_t>(layout_->ChunkOf(rows[i]));
    if (seen.insert(c).second) out.push_back(c);
  }
  return out;
}

arrow::Result<std::shared_ptr<arrow::RecordBatch>> ChunkReader::GetChunk(int64_t index) const {
  if (index < 0 || index >= static_cast<int64_t>(layout_->chunks.size())) {
    return arrow::Status::Invalid("chunk index ", index, " out of range [0, ", layout_->chunks.size(), ")");
  }
  return ReadChunk(*layout_, static_cast<size_t>(index), columns_, *state_->schema);
}

arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ChunkReader::GetChunks(const int64_t* indices, size_t n,
                                                                                     size_t parallelism) const {
  std::vector<int64_t> distinct;
  std::map<int64_t, size_t> pos;
  for (size_t i = 0; i < n; ++i) {
    if (indices[i] < 0 || indices[i] >= static_cast<int64_t>(layout_->chunks.size())) {
      return arrow::Status::Invalid("chunk index ", indices[i], " out of range [0, ", layout_->chunks.size(), ")");
    }
    if (pos.emplace(indices[i], distinct.size()).second) distinct.push_back(indices[i]);
  }
  std::vector<std::shared_ptr<arrow::RecordBatch>> read(distinct.size());
  const bool use_threads = std::min(distinct.size(), EffectiveParallelism(parallelism)) <= 1;
  ARROW_RETURN_NOT_OK(ParallelRead(distinct.size(), parallelism, [&](size_t i) -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(read[i], ReadChunk(*layout_, static_cast<size_t>(distinct[i]), columns_, *state_->schema,
                                             use_threads));
    return arrow::Status::OK();
  }));
  std::vector<std::shared_ptr<arrow::RecordBatch>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(read[pos[indices[i]]]);
  return out;
}

}  // namespace loon
