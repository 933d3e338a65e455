// Filesystem resolution from `fs.*` properties (README "Backends" and "External tables"; ".." paths: README "Compatibility"). Every engine module gets its
// arrow::fs::FileSystem here; paths given to it are fs-root-relative ("/x" means "<root>/x").
//
// Every filesystem handed out is a LoonFileSystem: an arrow::fs::FileSystem wrapping the real
// backend that (a) counts operations into one shared Metrics object (ffi_c.h 3.8 metrics), (b) evaluates the
// fs.* fault points (fs.open_output.fail, fs.open_input.fail, fs.write.fail, fs.short_write.fail)
// and (c) offers the two create-only primitives the commit protocol needs.
//
// Backends: local disk (LocalLoonFileSystem below: O_EXCL and temp-file + link(), see
// manifest/commit.h) and object stores (object_store.h: S3 and S3-compatibles, GCS, Azure, with
// conditional PUTs for the create-only primitives). A backend customises the hooks below
// (MapError, AdaptOutput/AdaptInput, CreatesParentDirs, BeforeOutputOpen) and the create-only
// primitives; counting and the fs.* fault points stay here.
//
// Fault point placement: fs.open_input.fail fires in OpenInputFile(path) / OpenInputStream(path)
// only; OpenInputFile(FileInfo) with a known size (engine-written data files opened with their
// recorded file_size) does not evaluate it, mirroring upstream.
#pragma once

#include <arrow/buffer.h>
#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/properties.h"
#include "milvus-storage/ffi_c.h"

namespace loon::fs {

// Per-instance counters (ffi_c.h 3.8 metrics), shared by every handle/stream of one cached instance.
struct Metrics {
  std::atomic<int64_t> read_count{0};
  std::atomic<int64_t> write_count{0};
  std::atomic<int64_t> read_bytes{0};
  std::atomic<int64_t> write_bytes{0};
  std::atomic<int64_t> get_file_info_count{0};
  std::atomic<int64_t> create_dir_count{0};
  std::atomic<int64_t> delete_dir_count{0};
  std::atomic<int64_t> delete_file_count{0};
  std::atomic<int64_t> move_count{0};
  std::atomic<int64_t> copy_file_count{0};
  std::atomic<int64_t> failed_count{0};
  std::atomic<int64_t> multi_part_upload_created{0};
  std::atomic<int64_t> multi_part_upload_finished{0};

  void Snapshot(LoonFilesystemMetricsSnapshot* out) const;
  void Reset();
};

class LoonFileSystem : public arrow::fs::FileSystem {
 public:
  LoonFileSystem(std::shared_ptr<arrow::fs::FileSystem> base, std::string description);

  std::string type_name() const override { return "loon"; }
  bool Equals(const arrow::fs::FileSystem& other) const override { return this == &other; }

  using arrow::fs::FileSystem::GetFileInfo;
  arrow::Result<arrow::fs::FileInfo> GetFileInfo(const std::string& path) override;
  arrow::Result<arrow::fs::FileInfoVector> GetFileInfo(const arrow::fs::FileSelector& select) override;
  arrow::Status CreateDir(const std::string& path, bool recursive) override;
  arrow::Status DeleteDir(const std::string& path) override;
  arrow::Status DeleteDirContents(const std::string& path, bool missing_dir_ok) override;
  arrow::Status DeleteRootDirContents() override;
  arrow::Status DeleteFile(const std::string& path) override;
  arrow::Status Move(const std::string& src, const std::string& dest) override;
  arrow::Status CopyFile(const std::string& src, const std::string& dest) override;
  arrow::Result<std::shared_ptr<arrow::io::InputStream>> OpenInputStream(const std::string& path) override;
  arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenInputFile(const std::string& path) override;
  arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenInputFile(
      const arrow::fs::FileInfo& info) override;
  arrow::Result<std::shared_ptr<arrow::io::OutputStream>> OpenOutputStream(
      const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>& metadata) override;
  arrow::Result<std::shared_ptr<arrow::io::OutputStream>> OpenAppendStream(
      const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>& metadata) override;

  // Output stream that fails (kAwsConflict = 102) if `path` exists: locally at open, on object
  // stores at Close(). Backends without create-only support return NotImplemented (-> code 3).
  virtual arrow::Result<std::shared_ptr<arrow::io::OutputStream>> OpenOutputStreamCreateOnly(
      const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>& metadata);

  // Atomically publishes `data` at `path` iff nothing is there yet: readers see either no file or
  // the complete file. Losing the race gives CodedError(kAwsConflict).
  virtual arrow::Status PutIfAbsent(const std::string& path, const std::shared_ptr<arrow::Buffer>& data);

  // File metadata (object stores); local files have none.
  virtual arrow::Result<std::shared_ptr<const arrow::KeyValueMetadata>> ReadMetadata(const std::string& path);

  Metrics& metrics() { return *metrics_; }
  const std::shared_ptr<arrow::fs::FileSystem>& base() const { return base_; }
  const std::string& description() const { return description_; }

 protected:
  // Counts a failure and passes the status through MapError.
  arrow::Status Track(arrow::Status st);
  template <typename T>
  arrow::Result<T> Track(arrow::Result<T> r) {
    if (r.ok()) return r;
    metrics_->failed_count++;
    return MapError(r.status());
  }

  // Backend hooks. MapError attaches the backend's error code and context to a failure;
  // AdaptOutput/AdaptInput wrap the backend's raw streams (inside the counting wrappers);
  // CreatesParentDirs says whether plain writes create parent directories first;
  // BeforeOutputOpen runs before every plain output open (backend fault points).
  virtual arrow::Status MapError(arrow::Status st) const { return st; }
  virtual std::shared_ptr<arrow::io::OutputStream> AdaptOutput(std::shared_ptr<arrow::io::OutputStream> raw) {
    return raw;
  }
  virtual std::shared_ptr<arrow::io::RandomAccessFile> AdaptInput(std::shared_ptr<arrow::io::RandomAccessFile> raw) {
    return raw;
  }
  virtual std::shared_ptr<arrow::io::InputStream> AdaptInput(std::shared_ptr<arrow::io::InputStream> raw) {
    return raw;
  }
  virtual bool CreatesParentDirs() const { return true; }
  virtual arrow::Status BeforeOutputOpen() { return arrow::Status::OK(); }
  std::shared_ptr<arrow::io::OutputStream> WrapOutput(std::shared_ptr<arrow::io::OutputStream> raw);

  std::shared_ptr<arrow::fs::FileSystem> base_;
  std::shared_ptr<Metrics> metrics_;
  std::string description_;
};

// The filesystem selected by the `fs.*` keys of `props` (process-wide LRU cache of 16 instances
// keyed by the whole `fs.*` configuration; equal configurations share one instance and its
// metrics). `fs.storage_type=remote` gives an ObjectStoreFileSystem (object_store.h).
arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> GetFileSystem(const Properties& props);
arrow::Result<std::shared_ptr<LoonFileSystem>> GetLoonFileSystem(const Properties& props);
// Empties the cache (loon_close_filesystems); instances in use stay alive through their owners.
void ClearFileSystemCache();

struct ResolvedPath {
  std::shared_ptr<arrow::fs::FileSystem> fs;
  std::string path;  // path inside `fs`
};

// Resolves `path`: a URI (scheme://address/bucket/key) goes to the matching `extfs.<alias>.*`
// filesystem, anything else to GetFileSystem(props) with the leading '/' dropped.
arrow::Result<ResolvedPath> Resolve(const Properties& props, const std::string& path);

// Downcast of a filesystem returned above (never null for them).
std::shared_ptr<LoonFileSystem> AsLoon(const std::shared_ptr<arrow::fs::FileSystem>& fs);

// Drops leading slashes so the path stays inside the filesystem root.
std::string NormalizePath(const std::string& path);
// NormalizePath, refusing a ".." segment (it would leave the filesystem root, README "Compatibility": ".." paths).
arrow::Result<std::string> RootRelative(const std::string& path);
// Joins two path parts with exactly one '/'.
std::string JoinPath(const std::string& a, const std::string& b);
// True when `path` has a URI scheme ("s3://...", "local:///...").
bool HasScheme(const std::string& path);
// Random canonical lowercase UUID v4 (36 characters).
std::string NewUuid();

}  // namespace loon::fs
