#include "filesystem/fs.h"

#include <arrow/filesystem/localfs.h>
#include <arrow/filesystem/path_util.h>
#include <arrow/io/file.h>
#include <arrow/io/interfaces.h>
#include <arrow/util/io_util.h>
#include <arrow/util/key_value_metadata.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <random>

#include "common/status.h"
#include "filesystem/object_store.h"
#include "filesystem/remote_config.h"
#include "fiu/fault.h"
#include "milvus-storage/ffi_fiu.h"

namespace loon::fs {

std::string NormalizePath(const std::string& path) {
  size_t start = path.find_first_not_of('/');
  return start == std::string::npos ? std::string() : path.substr(start);
}

arrow::Result<std::string> RootRelative(const std::string& path) {
  std::string rel = NormalizePath(path);
  for (const auto& part : arrow::fs::internal::SplitAbstractPath(rel)) {
    if (part == "..") return arrow::Status::Invalid("path escapes the filesystem root: '", path, "'");
  }
  return rel;
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  std::string left = a;
  while (!left.empty() && left.back() == '/') left.pop_back();
  return left + "/" + NormalizePath(b);
}

bool HasScheme(const std::string& path) {
  size_t pos = path.find("://");
  if (pos == std::string::npos || pos == 0) return false;
  for (size_t i = 0; i < pos; ++i) {
    char c = path[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string NewUuid() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

void Metrics::Snapshot(LoonFilesystemMetricsSnapshot* out) const {
  out->read_count = read_count.load();
  out->write_count = write_count.load();
  out->read_bytes = read_bytes.load();
  out->write_bytes = write_bytes.load();
  out->get_file_info_count = get_file_info_count.load();
  out->create_dir_count = create_dir_count.load();
  out->delete_dir_count = delete_dir_count.load();
  out->delete_file_count = delete_file_count.load();
  out->move_count = move_count.load();
  out->copy_file_count = copy_file_count.load();
  out->failed_count = failed_count.load();
  out->multi_part_upload_created = multi_part_upload_created.load();
  out->multi_part_upload_finished = multi_part_upload_finished.load();
}

void Metrics::Reset() {
  for (auto* c : {&read_count, &write_count, &read_bytes, &write_bytes, &get_file_info_count,
                  &create_dir_count, &delete_dir_count, &delete_file_count, &move_count, &copy_file_count,
                  &failed_count, &multi_part_upload_created, &multi_part_upload_finished}) {
    c->store(0);
  }
}

namespace {

// Counts bytes written and evaluates the write fault points on every write.
class CountingOutputStream : public arrow::io::OutputStream {
 public:
  CountingOutputStream(std::shared_ptr<arrow::io::OutputStream> raw, std::shared_ptr<Metrics> metrics)
      : raw_(std::move(raw)), metrics_(std::move(metrics)) {}

  arrow::Status Write(const void* data, int64_t nbytes) override {
    if (fault::ShouldFail(loon_fiukey_fs_write_fail)) return Fail("injected fault: fs.write.fail");
    if (fault::ShouldFail(loon_fiukey_fs_short_write_fail)) {
      // Stores only half the bytes, then reports the failure (a torn write).
      int64_t half = nbytes / 2;
      if (half > 0 && raw_->Write(data, half).ok()) metrics_->write_bytes += half;
      return Fail("injected fault: fs.short_write.fail");
    }
    arrow::Status st = raw_->Write(data, nbytes);
    if (!st.ok()) return Fail(st);
    metrics_->write_bytes += nbytes;
    return st;
  }
  arrow::Status Write(const std::shared_ptr<arrow::Buffer>& data) override {
    return Write(data->data(), data->size());
  }
  arrow::Status Flush() override { return Check(raw_->Flush()); }
  arrow::Status Close() override { return Check(raw_->Close()); }
  arrow::Status Abort() override { return raw_->Abort(); }
  arrow::Result<int64_t> Tell() const override { return raw_->Tell(); }
  bool closed() const override { return raw_->closed(); }

 private:
  arrow::Status Fail(const std::string& msg) { return Fail(arrow::Status::IOError(msg)); }
  arrow::Status Fail(arrow::Status st) {
    metrics_->failed_count++;
    return st;
  }
  arrow::Status Check(arrow::Status st) { return st.ok() ? st : Fail(std::move(st)); }

  std::shared_ptr<arrow::io::OutputStream> raw_;
  std::shared_ptr<Metrics> metrics_;
};

// Records the outcome of one read: a failure, or a read that returned bytes (EOF reads are not counted).
void CountRead(Metrics& m, const arrow::Status& st, int64_t nbytes) {
  if (!st.ok()) {
    m.failed_count++;
  } else if (nbytes > 0) {
    m.read_count++;
    m.read_bytes += nbytes;
  }
}
arrow::Result<int64_t> CountRead(Metrics& m, arrow::Result<int64_t> r) {
  CountRead(m, r.status(), r.ok() ? *r : 0);
  return r;
}
arrow::Result<std::shared_ptr<arrow::Buffer>> CountRead(Metrics& m, arrow::Result<std::shared_ptr<arrow::Buffer>> r) {
  CountRead(m, r.status(), r.ok() ? (*r)->size() : 0);
  return r;
}

// Counts reads that returned bytes; positional reads are thread-safe like the wrapped file.
class CountingInputFile : public arrow::io::RandomAccessFile {
 public:
  CountingInputFile(std::shared_ptr<arrow::io::RandomAccessFile> raw, std::shared_ptr<Metrics> metrics)
      : raw_(std::move(raw)), metrics_(std::move(metrics)) {}

  arrow::Status Close() override { return raw_->Close(); }
  bool closed() const override { return raw_->closed(); }
  arrow::Result<int64_t> Tell() const override { return raw_->Tell(); }
  arrow::Status Seek(int64_t position) override { return raw_->Seek(position); }
  arrow::Result<int64_t> GetSize() override { return raw_->GetSize(); }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override { return CountRead(*metrics_, raw_->Read(nbytes, out)); }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    return CountRead(*metrics_, raw_->Read(nbytes));
  }
  arrow::Result<int64_t> ReadAt(int64_t position, int64_t nbytes, void* out) override {
    return CountRead(*metrics_, raw_->ReadAt(position, nbytes, out));
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> ReadAt(int64_t position, int64_t nbytes) override {
    return CountRead(*metrics_, raw_->ReadAt(position, nbytes));
  }

 private:
  std::shared_ptr<arrow::io::RandomAccessFile> raw_;
  std::shared_ptr<Metrics> metrics_;
};

class CountingInputStream : public arrow::io::InputStream {
 public:
  CountingInputStream(std::shared_ptr<arrow::io::InputStream> raw, std::shared_ptr<Metrics> metrics)
      : raw_(std::move(raw)), metrics_(std::move(metrics)) {}

  arrow::Status Close() override { return raw_->Close(); }
  bool closed() const override { return raw_->closed(); }
  arrow::Result<int64_t> Tell() const override { return raw_->Tell(); }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    return CountRead(*metrics_, raw_->Read(nbytes, out));
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    return CountRead(*metrics_, raw_->Read(nbytes));
  }

 private:
  std::shared_ptr<arrow::io::InputStream> raw_;
  std::shared_ptr<Metrics> metrics_;
};

arrow::Status ErrnoError(int err, const std::string& what) {
  if (err == EEXIST) return CodedError(kAwsConflict, what + ": " + std::strerror(err));
  return arrow::internal::IOErrorFromErrno(err, what);
}

// Local disk rooted at an absolute directory: create-only opens with O_EXCL, atomic publish with
// a temp file + link().
class LocalLoonFileSystem : public LoonFileSystem {
 public:
  explicit LocalLoonFileSystem(std::string root)
      : LoonFileSystem(std::make_shared<arrow::fs::SubTreeFileSystem>(
                           root, std::make_shared<arrow::fs::LocalFileSystem>()),
                       "local:" + root),
        root_(std::move(root)) {}

  arrow::Result<std::shared_ptr<arrow::io::OutputStream>> OpenOutputStreamCreateOnly(
      const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>&) override {
    ARROW_ASSIGN_OR_RAISE(auto opened, OpenExclusive(path));
    return opened.second;
  }

  arrow::Status PutIfAbsent(const std::string& path, const std::shared_ptr<arrow::Buffer>& data) override {
    ARROW_ASSIGN_OR_RAISE(std::string abs, Absolute(path));
    auto [parent, name] = arrow::fs::internal::GetAbstractPathParent(fs::NormalizePath(path));
    std::string tmp = JoinPath(parent, "." + name + "." + NewUuid() + ".tmp");
    ARROW_ASSIGN_OR_RAISE(std::string tmp_abs, Absolute(tmp));

    // 1. Write and fsync a uniquely named temp file (never matched as a version by readers).
    {
      ARROW_ASSIGN_OR_RAISE(auto opened, OpenExclusive(tmp));
      auto& [file, out] = opened;
      arrow::Status st = out->Write(data->data(), data->size());
      if (st.ok()) st = out->Flush();
      if (st.ok() && ::fsync(file->file_descriptor()) != 0) st = ErrnoError(errno, "fsync '" + tmp + "'");
      arrow::Status close_st = out->Close();
      if (st.ok()) st = close_st;
      if (!st.ok()) {
        ::unlink(tmp_abs.c_str());
        return st;
      }
    }
    // 2. Publish create-only: link() fails with EEXIST if the version exists (lost race).
    arrow::Status st;
    if (::link(tmp_abs.c_str(), abs.c_str()) != 0) {
      int err = errno;
      if (err == EPERM || err == EXDEV || err == ENOTSUP || err == ENOSYS || err == EMLINK) {
        // Filesystems without hard links: renameat2(RENAME_NOREPLACE) is also exclusive.
        if (::syscall(SYS_renameat2, AT_FDCWD, tmp_abs.c_str(), AT_FDCWD, abs.c_str(), 1u /*NOREPLACE*/) != 0) {
          st = ErrnoError(errno, "publish '" + path + "'");
        }
      } else {
        st = ErrnoError(err, "publish '" + path + "'");
      }
    }
    // 3. The temp name goes away in every case.
    ::unlink(tmp_abs.c_str());
    if (st.ok()) SyncDir(parent);
    if (!st.ok() && CodeOf(st) != kAwsConflict) metrics_->failed_count++;
    return st;
  }

 private:
  arrow::Result<std::string> Absolute(const std::string& path) const {
    ARROW_ASSIGN_OR_RAISE(std::string rel, RootRelative(path));
    return JoinPath(root_, rel);
  }

  void EnsureParent(const std::string& path) {
    std::string parent = arrow::fs::internal::GetAbstractPathParent(fs::NormalizePath(path)).first;
    if (!parent.empty()) (void)base_->CreateDir(parent, true);
  }

  // O_EXCL open wrapped in a counting stream; also returns the raw stream for fsync.
  arrow::Result<std::pair<std::shared_ptr<arrow::io::FileOutputStream>, std::shared_ptr<arrow::io::OutputStream>>>
  OpenExclusive(const std::string& path) {
    if (fault::ShouldFail(loon_fiukey_fs_open_output_fail)) {
      metrics_->failed_count++;
      return arrow::Status::IOError("injected fault: fs.open_output.fail");
    }
    ARROW_ASSIGN_OR_RAISE(std::string abs, Absolute(path));
    EnsureParent(path);
    int fd = ::open(abs.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      metrics_->failed_count++;
      return ErrnoError(errno, "create-only open of '" + path + "'");
    }
    metrics_->write_count++;
    auto raw = arrow::io::FileOutputStream::Open(fd);
    if (!raw.ok()) {
      ::close(fd);
      return Track(raw.status());
    }
    return std::make_pair(*raw, WrapOutput(*raw));
  }

  void SyncDir(const std::string& rel_dir) {
    auto abs = Absolute(rel_dir);
    if (!abs.ok()) return;
    int dfd = ::open(abs->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

  std::string root_;
};

}  // namespace

// ---- LoonFileSystem: counting + fault injection around the backend ------------------------

LoonFileSystem::LoonFileSystem(std::shared_ptr<arrow::fs::FileSystem> base, std::string description)
    : arrow::fs::FileSystem(base->io_context()),
      base_(std::move(base)),
      metrics_(std::make_shared<Metrics>()),
      description_(std::move(description)) {}

arrow::Status LoonFileSystem::Track(arrow::Status st) {
  if (st.ok()) return st;
  metrics_->failed_count++;
  return MapError(std::move(st));
}

std::shared_ptr<arrow::io::OutputStream> LoonFileSystem::WrapOutput(std::shared_ptr<arrow::io::OutputStream> raw) {
  return std::make_shared<CountingOutputStream>(std::move(raw), metrics_);
}

arrow::Result<arrow::fs::FileInfo> LoonFileSystem::GetFileInfo(const std::string& path) {
  metrics_->get_file_info_count++;
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  return Track(base_->GetFileInfo(rel));
}

arrow::Result<arrow::fs::FileInfoVector> LoonFileSystem::GetFileInfo(const arrow::fs::FileSelector& select) {
  metrics_->get_file_info_count++;
  arrow::fs::FileSelector sel = select;
  ARROW_ASSIGN_OR_RAISE(sel.base_dir, Track(RootRelative(select.base_dir)));
  auto listing = base_->GetFileInfo(sel);
  // Arrow's local listing fails with ENOENT when the directory appears between its opendir and its
  // own existence check (another process creating it); listed again, the directory is there.
  for (int retry = 0; retry < 3 && sel.allow_not_found && !listing.ok() &&
                      arrow::internal::ErrnoFromStatus(listing.status()) == ENOENT;
       ++retry) {
    listing = base_->GetFileInfo(sel);
  }
  return Track(std::move(listing));
}

arrow::Status LoonFileSystem::CreateDir(const std::string& path, bool recursive) {
  metrics_->create_dir_count++;
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  arrow::Status st = Track(base_->CreateDir(rel, recursive));
  // Object stores name only the object in the way, not the directory that was asked for.
  if (!st.ok() && st.message().find(rel) == std::string::npos) {
    return st.WithMessage("cannot create directory '", rel, "': ", st.message());
  }
  return st;
}

arrow::Status LoonFileSystem::DeleteDir(const std::string& path) {
  metrics_->delete_dir_count++;
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  return Track(base_->DeleteDir(rel));
}

arrow::Status LoonFileSystem::DeleteDirContents(const std::string& path, bool missing_dir_ok) {
  metrics_->delete_dir_count++;
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  return Track(base_->DeleteDirContents(rel, missing_dir_ok));
}

arrow::Status LoonFileSystem::DeleteRootDirContents() {
  metrics_->delete_dir_count++;
  return Track(base_->DeleteRootDirContents());
}

arrow::Status LoonFileSystem::DeleteFile(const std::string& path) {
  metrics_->delete_file_count++;
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  return Track(base_->DeleteFile(rel));
}

arrow::Status LoonFileSystem::Move(const std::string& src, const std::string& dest) {
  metrics_->move_count++;
  ARROW_ASSIGN_OR_RAISE(std::string from, Track(RootRelative(src)));
  ARROW_ASSIGN_OR_RAISE(std::string to, Track(RootRelative(dest)));
  return Track(base_->Move(from, to));
}

arrow::Status LoonFileSystem::CopyFile(const std::string& src, const std::string& dest) {
  metrics_->copy_file_count++;
  ARROW_ASSIGN_OR_RAISE(std::string from, Track(RootRelative(src)));
  ARROW_ASSIGN_OR_RAISE(std::string to, Track(RootRelative(dest)));
  return Track(base_->CopyFile(from, to));
}

arrow::Result<std::shared_ptr<arrow::io::InputStream>> LoonFileSystem::OpenInputStream(const std::string& path) {
  if (fault::ShouldFail(loon_fiukey_fs_open_input_fail)) {
    metrics_->failed_count++;
    return arrow::Status::IOError("injected fault: fs.open_input.fail");
  }
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  ARROW_ASSIGN_OR_RAISE(auto raw, Track(base_->OpenInputStream(rel)));
  return std::make_shared<CountingInputStream>(AdaptInput(std::move(raw)), metrics_);
}

arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> LoonFileSystem::OpenInputFile(const std::string& path) {
  if (fault::ShouldFail(loon_fiukey_fs_open_input_fail)) {
    metrics_->failed_count++;
    return arrow::Status::IOError("injected fault: fs.open_input.fail");
  }
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  ARROW_ASSIGN_OR_RAISE(auto raw, Track(base_->OpenInputFile(rel)));
  return std::make_shared<CountingInputFile>(AdaptInput(std::move(raw)), metrics_);
}

arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> LoonFileSystem::OpenInputFile(
    const arrow::fs::FileInfo& info) {
  // A caller that knows the size skips the metadata lookup (and, as upstream, the open fault).
  arrow::fs::FileInfo inner = info;
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(info.path())));
  inner.set_path(rel);
  ARROW_ASSIGN_OR_RAISE(auto raw, Track(base_->OpenInputFile(inner)));
  return std::make_shared<CountingInputFile>(AdaptInput(std::move(raw)), metrics_);
}

arrow::Result<std::shared_ptr<arrow::io::OutputStream>> LoonFileSystem::OpenOutputStream(
    const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>& metadata) {
  if (fault::ShouldFail(loon_fiukey_fs_open_output_fail)) {
    metrics_->failed_count++;
    return arrow::Status::IOError("injected fault: fs.open_output.fail");
  }
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  ARROW_RETURN_NOT_OK(Track(BeforeOutputOpen()));
  // Object stores have no directories; make local behave the same by creating parents.
  std::string parent = arrow::fs::internal::GetAbstractPathParent(rel).first;
  if (!parent.empty() && CreatesParentDirs()) (void)base_->CreateDir(parent, true);
  ARROW_ASSIGN_OR_RAISE(auto raw, Track(base_->OpenOutputStream(rel, metadata)));
  metrics_->write_count++;
  return WrapOutput(AdaptOutput(std::move(raw)));
}

arrow::Result<std::shared_ptr<arrow::io::OutputStream>> LoonFileSystem::OpenAppendStream(
    const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>& metadata) {
  if (fault::ShouldFail(loon_fiukey_fs_open_output_fail)) {
    metrics_->failed_count++;
    return arrow::Status::IOError("injected fault: fs.open_output.fail");
  }
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  ARROW_ASSIGN_OR_RAISE(auto raw, Track(base_->OpenAppendStream(rel, metadata)));
  metrics_->write_count++;
  return WrapOutput(AdaptOutput(std::move(raw)));
}

arrow::Result<std::shared_ptr<arrow::io::OutputStream>> LoonFileSystem::OpenOutputStreamCreateOnly(
    const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>&) {
  return arrow::Status::NotImplemented("create-only writes are not supported by ", description_);
}

arrow::Status LoonFileSystem::PutIfAbsent(const std::string& path, const std::shared_ptr<arrow::Buffer>& data) {
  ARROW_ASSIGN_OR_RAISE(auto out, OpenOutputStreamCreateOnly(path, nullptr));
  ARROW_RETURN_NOT_OK(out->Write(data->data(), data->size()));
  return out->Close();  // object stores: the conditional upload completes (or conflicts) here
}

arrow::Result<std::shared_ptr<const arrow::KeyValueMetadata>> LoonFileSystem::ReadMetadata(const std::string&) {
  if (fault::ShouldFail(loon_fiukey_fs_open_input_fail)) {
    metrics_->failed_count++;
    return arrow::Status::IOError("injected fault: fs.open_input.fail");
  }
  return std::shared_ptr<const arrow::KeyValueMetadata>();
}

// ---- cache and resolution -------------------------------------------------------------------

namespace {

constexpr size_t kCacheCapacity = 16;

struct Cache {
  std::mutex mutex;
  std::list<std::pair<std::string, std::shared_ptr<LoonFileSystem>>> lru;  // front = most recent
};

Cache& GlobalCache() {
  static Cache* cache = new Cache();  // leaked on purpose: usable during static destruction
  return *cache;
}

arrow::Result<std::string> LocalRoot(const std::string& root_path) {
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(root_path.empty() ? "." : root_path, ec);
  if (ec) return arrow::Status::IOError("cannot resolve root path '", root_path, "': ", ec.message());
  std::string s = root.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

arrow::Status PrepareLocalRoot(const std::string& root) {
  std::error_code ec;
  if (std::filesystem::exists(root, ec) && !std::filesystem::is_directory(root, ec)) {
    return CodedError(kArrow, "fs.root_path '" + root + "' exists and is not a directory");
  }
  std::filesystem::create_directories(root, ec);
  if (ec) return CodedError(kArrow, "cannot create root path '" + root + "': " + ec.message());
  return arrow::Status::OK();
}

std::shared_ptr<LoonFileSystem> CacheLookup(Cache& cache, const std::string& key) {
  for (auto it = cache.lru.begin(); it != cache.lru.end(); ++it) {
    if (it->first == key) {
      cache.lru.splice(cache.lru.begin(), cache.lru, it);
      return it->second;
    }
  }
  return nullptr;
}

void CacheInsert(Cache& cache, const std::string& key, std::shared_ptr<LoonFileSystem> fs) {
  cache.lru.emplace_front(key, std::move(fs));
  if (cache.lru.size() > kCacheCapacity) cache.lru.pop_back();
}

arrow::Result<std::shared_ptr<LoonFileSystem>> GetRemoteFileSystem(const Properties& props) {
  std::string key = "remote|" + ConfigKey(props);
  Cache& cache = GlobalCache();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (auto fs = CacheLookup(cache, key)) return fs;
  }
  // Built outside the lock (it probes the endpoint and bucket); a concurrent twin of the same key is dropped.
  ARROW_ASSIGN_OR_RAISE(RemoteConfig config, ParseRemoteConfig(props));
  ARROW_ASSIGN_OR_RAISE(auto made, MakeObjectStoreFileSystem(config));
  std::lock_guard<std::mutex> lock(cache.mutex);
  if (auto fs = CacheLookup(cache, key)) return fs;
  CacheInsert(cache, key, made);
  return made;
}

}  // namespace

arrow::Result<std::shared_ptr<LoonFileSystem>> GetLoonFileSystem(const Properties& props) {
  std::string type = props.GetString("fs.storage_type");
  if (type == "remote") return GetRemoteFileSystem(props);
  if (type != "local") {
    return CodedError(kInvalidProperties, "fs.storage_type '" + type + "' is not one of local, remote");
  }
  ARROW_ASSIGN_OR_RAISE(std::string root, LocalRoot(props.GetString("fs.root_path")));
  std::string key = "local|" + root;
  Cache& cache = GlobalCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  // The root may have been removed meanwhile (test clean-up); it is (re)created on every lookup.
  ARROW_RETURN_NOT_OK(PrepareLocalRoot(root));
  if (auto fs = CacheLookup(cache, key)) return fs;
  auto fs = std::make_shared<LocalLoonFileSystem>(root);
  CacheInsert(cache, key, fs);
  return std::static_pointer_cast<LoonFileSystem>(fs);
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> GetFileSystem(const Properties& props) {
  ARROW_ASSIGN_OR_RAISE(auto fs, GetLoonFileSystem(props));
  return std::static_pointer_cast<arrow::fs::FileSystem>(fs);
}

void ClearFileSystemCache() {
  Cache& cache = GlobalCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  cache.lru.clear();
}

std::shared_ptr<LoonFileSystem> AsLoon(const std::shared_ptr<arrow::fs::FileSystem>& fs) {
  return std::dynamic_pointer_cast<LoonFileSystem>(fs);
}

namespace {

std::string NormalizeAddress(std::string address) {
  size_t pos = address.find("://");
  if (pos != std::string::npos) address = address.substr(pos + 3);
  while (!address.empty() && address.back() == '/') address.pop_back();
  return address;
}

}  // namespace

arrow::Result<ResolvedPath> Resolve(const Properties& props, const std::string& path) {
  if (!HasScheme(path)) {
    ARROW_ASSIGN_OR_RAISE(auto fs, GetFileSystem(props));
    return ResolvedPath{fs, fs::NormalizePath(path)};
  }
  // scheme://address/bucket/key
  size_t sep = path.find("://");
  std::string rest = path.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string address = slash == std::string::npos ? rest : rest.substr(0, slash);
  std::string after = slash == std::string::npos ? "" : rest.substr(slash + 1);
  size_t bslash = after.find('/');
  std::string bucket = bslash == std::string::npos ? after : after.substr(0, bslash);
  std::string key = bslash == std::string::npos ? "" : after.substr(bslash + 1);
  size_t query = key.find('?');  // lance fragments carry "?fragment_id=<n>"
  if (query != std::string::npos) key = key.substr(0, query);

  std::map<std::string, std::map<std::string, std::string>> aliases;
  for (const auto& [k, v] : props.WithPrefix("extfs.")) {
    size_t dot = k.find('.');
    if (dot == std::string::npos || dot == 0) continue;
    aliases[k.substr(0, dot)]["fs." + k.substr(dot + 1)] = v;
  }
  for (auto& [alias, values] : aliases) {
    auto bit = values.find("fs.bucket_name");
    if (bit == values.end() || bit->second != bucket) continue;
    if (!address.empty()) {
      auto ait = values.find("fs.address");
      if (ait == values.end() || NormalizeAddress(ait->second) != NormalizeAddress(address)) continue;
    }
    ARROW_ASSIGN_OR_RAISE(auto ext_props, Properties::FromMap(values));
    ARROW_ASSIGN_OR_RAISE(auto fs, GetFileSystem(ext_props));
    return ResolvedPath{fs, fs::NormalizePath(key)};
  }
  return CodedError(kArrow, "no extfs.* configuration matches '" + path + "'");
}

}  // namespace loon::fs
