#include "filesystem/object_store.h"

#include <arrow/buffer_builder.h>
#include <arrow/filesystem/s3fs.h>
#include <arrow/util/io_util.h>

#include <cerrno>
#include <initializer_list>
#include <mutex>
#include <vector>

#include "common/status.h"
#include "filesystem/backends.h"
#include "fiu/fault.h"
#include "milvus-storage/ffi_fiu.h"

namespace loon::fs {

namespace {

bool Contains(const std::string& s, std::initializer_list<const char*> needles) {
  for (const char* n : needles) {
    if (s.find(n) != std::string::npos) return true;
  }
  return false;
}

// The code of a failure from Arrow's S3 (AWS SDK), GCS (google-cloud-cpp) or Azure filesystem,
// recognised by the error names those libraries put in their messages; 0 when none matches.
int Classify(const std::string& m) {
  if (Contains(m, {"REQUEST_TIMEOUT", "RequestTimeout", "Timeout was reached", "curlCode: 28", "DEADLINE_EXCEEDED",
                   "timed out"})) {
    return kTransientTimeout;
  }
  if (Contains(m, {"ACCESS_DENIED", "AccessDenied", "InvalidAccessKeyId", "INVALID_ACCESS_KEY_ID",
                   "SignatureDoesNotMatch", "SIGNATURE_DOES_NOT_MATCH", "HTTP status 403", "AuthenticationFailed",
                   "AuthorizationFailure", "PERMISSION_DENIED", "UNAUTHENTICATED", "403 Server failed to authenticate",
                   "InvalidAuthenticationInfo"})) {
    return kAwsAccessDenied;
  }
  // A missing object (its bucket exists): reads of a known size skip the HEAD request that
  // would have said "Path does not exist", so the GET's error names it.
  if (Contains(m, {"NO_SUCH_KEY", "NoSuchKey", "BlobNotFound", "RESOURCE_NOT_FOUND during GetObject"})) {
    return kFileNotFound;
  }
  // Arrow's GCS filesystem tries to create a missing bucket when creating directories; no
  // project id is configured, so reaching bucket creation means the bucket does not exist.
  if (Contains(m, {"NO_SUCH_BUCKET", "gcloud-cpp.source.function=CreateBucket", "NoSuchBucket", "ContainerNotFound", "container does not exist",
                   "bucket does not exist", "Bucket not found", "NOT_FOUND"}) ||
      (m.find("Bucket '") != std::string::npos && m.find("not found") != std::string::npos)) {
    return kAwsNotFound;
  }
  if (Contains(m, {"NETWORK_CONNECTION", "Couldn't connect", "curlCode: 7", "curlCode: 6", "Connection refused",
                   "Failed to connect", "Could not connect", "Fail to get a new connection", "Could not resolve", "Couldn't resolve", "UNAVAILABLE", "Unable to connect"})) {
    return kTransientNetwork;
  }
  if (Contains(m, {"SLOW_DOWN", "SlowDown", "THROTTLING", "Throttling", "RESOURCE_EXHAUSTED", "TooManyRequests",
                   "HTTP status 429", "ServerBusy"})) {
    return kTransientThrottling;
  }
  if (Contains(m, {"SERVICE_UNAVAILABLE", "INTERNAL_FAILURE", "InternalError", "HTTP status 5"})) {
    return kTransientService;
  }
  if (Contains(m, {"NO_SUCH_UPLOAD", "NoSuchUpload"})) return kAwsNoSuchUpload;
  return 0;
}

// Holds `stream` until the process ends, never destroying it (reachable, so not a leak report).
void KeepForever(std::shared_ptr<arrow::io::OutputStream> stream) {
  static auto* kept = new std::vector<std::shared_ptr<arrow::io::OutputStream>>();
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  kept->push_back(std::move(stream));
}

// Output stream of an object-store upload: error codes, and on S3 exact part sizes, the s3fs.*
// fault points and the multipart metrics.
class ObjectOutputStream : public arrow::io::OutputStream {
 public:
  ObjectOutputStream(std::shared_ptr<arrow::io::OutputStream> raw, std::shared_ptr<const RemoteConfig> config,
                     std::shared_ptr<Metrics> metrics)
      : raw_(std::move(raw)), config_(std::move(config)), metrics_(std::move(metrics)) {
    s3_ = config_->protocol == Protocol::kS3;
  }

  // Arrow's streams complete their upload when destroyed open; a stream dropped without Close()
  // (or after a failure) must not publish a partial object: it is aborted (on S3 the multipart
  // upload and its parts are deleted).
  ~ObjectOutputStream() override {
    if (!closed_) (void)AbortRaw();
  }

  arrow::Status Write(const void* data, int64_t nbytes) override {
    if (closed_) return arrow::Status::Invalid("write to a closed stream");
    return Guard(DoWrite(data, nbytes));
  }

  arrow::Status Flush() override {
    if (closed_) return arrow::Status::Invalid("flush of a closed stream");
    if (s3_ && fault::ShouldFail(loon_fiukey_s3fs_writer_flush_fail)) {
      return Guard(arrow::Status::IOError("injected fault: s3fs.writer.flush.fail"));
    }
    return Guard(Map(raw_->Flush()));
  }

  arrow::Status Close() override {
    // After a failure, Close repeats it: callers that see only Close's status (a Parquet writer
    // whose buffered write failed) still learn the cause.
    if (closed_) return failed_ ? failure_.WithMessage("the upload failed and was aborted: ", failure_.message())
                                : arrow::Status::OK();
    arrow::Status st = s3_ ? FinishS3() : arrow::Status::OK();
    if (st.ok()) st = Map(raw_->Close());
    if (!st.ok()) return Guard(st);
    closed_ = true;
    if (parts_sent_ > 0) metrics_->multi_part_upload_finished++;
    return st;
  }

  arrow::Status Abort() override {
    closed_ = true;
    return AbortRaw();
  }
  arrow::Result<int64_t> Tell() const override {
    if (s3_) return position_;
    return raw_->Tell();
  }
  bool closed() const override { return closed_ || raw_->closed(); }

 private:
  arrow::Status Map(arrow::Status st) const { return MapRemoteError(*config_, std::move(st)); }

  // Once the AWS SDK is finalized (process exit, possibly by another library's exit handler)
  // Abort fails, and the raw stream's destructor would then wait forever for its background part
  // uploads: the stream is kept alive instead, and the incomplete upload stays on the store
  // (README: the bucket's AbortIncompleteMultipartUpload rule removes it).
  arrow::Status AbortRaw() {
    if (s3_ && arrow::fs::IsS3Finalized()) {
      KeepForever(raw_);
      return arrow::Status::Invalid("the S3 client library is finalized: the upload is left incomplete");
    }
    return raw_->Abort();
  }

  // A failure aborts the upload: the stream is finished and nothing gets published.
  arrow::Status Guard(arrow::Status st) {
    if (!st.ok() && !closed_) {
      closed_ = true;
      failed_ = true;
      failure_ = st;
      (void)AbortRaw();
    }
    return st;
  }

  arrow::Status DoWrite(const void* data, int64_t nbytes) {
    if (!s3_) return Map(raw_->Write(data, nbytes));
    LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_writer_write_fail);
    ARROW_RETURN_NOT_OK(buffer_.Append(data, nbytes));
    position_ += nbytes;
    while (buffer_.length() >= config_->multipart_size) ARROW_RETURN_NOT_OK(SendPart(config_->multipart_size));
    return arrow::Status::OK();
  }

  // Hands the first `n` buffered bytes to Arrow's upload as one part.
  arrow::Status SendPart(int64_t n) {
    LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_part_upload_fail);
    if (parts_sent_ == 0) metrics_->multi_part_upload_created++;
    ARROW_ASSIGN_OR_RAISE(auto all, buffer_.Finish());
    ARROW_RETURN_NOT_OK(Map(raw_->Write(all->data(), n)));
    ++parts_sent_;
    return buffer_.Append(all->data() + n, all->size() - n);
  }

  arrow::Status FinishS3() {
    LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_writer_close_fail);
    if (buffer_.length() > 0 || parts_sent_ == 0) {
      LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_part_upload_fail);
      ARROW_RETURN_NOT_OK(Map(raw_->Write(buffer_.data(), buffer_.length())));
      buffer_.Reset();
    }
    LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_complete_upload_fail);
    return arrow::Status::OK();
  }

  std::shared_ptr<arrow::io::OutputStream> raw_;
  std::shared_ptr<const RemoteConfig> config_;
  std::shared_ptr<Metrics> metrics_;
  bool s3_ = false;
  bool closed_ = false;
  bool failed_ = false;
  arrow::Status failure_;  // the first failure (failed_)
  arrow::BufferBuilder buffer_;
  int64_t position_ = 0;
  int64_t parts_sent_ = 0;
};

// Buffers a create-only object and publishes it in one conditional request at Close().
class ConditionalOutputStream : public arrow::io::OutputStream {
 public:
  ConditionalOutputStream(std::string key, std::shared_ptr<ConditionalPut> put)
      : key_(std::move(key)), put_(std::move(put)) {}

  arrow::Status Write(const void* data, int64_t nbytes) override {
    if (closed_) return arrow::Status::Invalid("write to a closed stream");
    return buffer_.Append(data, nbytes);
  }
  arrow::Status Flush() override { return arrow::Status::OK(); }
  arrow::Status Close() override {
    if (closed_) return arrow::Status::OK();
    closed_ = true;
    return put_->PutIfAbsent(key_, buffer_.data(), buffer_.length());
  }
  arrow::Status Abort() override {
    closed_ = true;
    buffer_.Reset();
    return arrow::Status::OK();
  }
  arrow::Result<int64_t> Tell() const override { return buffer_.length(); }
  bool closed() const override { return closed_; }

 private:
  std::string key_;
  std::shared_ptr<ConditionalPut> put_;
  arrow::BufferBuilder buffer_;
  bool closed_ = false;
};

// Input file with error codes and, on S3, the s3fs.reader.* fault points.
class ObjectInputFile : public arrow::io::RandomAccessFile {
 public:
  ObjectInputFile(std::shared_ptr<arrow::io::RandomAccessFile> raw, std::shared_ptr<const RemoteConfig> config)
      : raw_(std::move(raw)), config_(std::move(config)), s3_(config_->protocol == Protocol::kS3) {}

  arrow::Status Close() override { return raw_->Close(); }
  bool closed() const override { return raw_->closed(); }
  arrow::Result<int64_t> Tell() const override { return raw_->Tell(); }
  arrow::Status Seek(int64_t position) override { return raw_->Seek(position); }
  arrow::Result<int64_t> GetSize() override { return Map(raw_->GetSize()); }
  arrow::Result<std::shared_ptr<const arrow::KeyValueMetadata>> ReadMetadata() override { return raw_->ReadMetadata(); }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    if (s3_) LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_reader_read_fail);
    return Map(raw_->Read(nbytes, out));
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    if (s3_) LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_reader_read_fail);
    return Map(raw_->Read(nbytes));
  }
  // A zero-byte read sends no request: GCS answers a range read of an empty object with
  // 416 (OUT_OF_RANGE), where a local file reads nothing.
  arrow::Result<int64_t> ReadAt(int64_t position, int64_t nbytes, void* out) override {
    if (s3_) LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_reader_readat_fail);
    if (nbytes == 0) {
      ARROW_RETURN_NOT_OK(CheckEmptyRead(position));
      return 0;
    }
    return Map(raw_->ReadAt(position, nbytes, out));
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> ReadAt(int64_t position, int64_t nbytes) override {
    if (s3_) LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_reader_readat_fail);
    if (nbytes == 0) {
      ARROW_RETURN_NOT_OK(CheckEmptyRead(position));
      return std::make_shared<arrow::Buffer>(nullptr, 0);
    }
    return Map(raw_->ReadAt(position, nbytes));
  }

 private:
  template <typename T>
  arrow::Result<T> Map(arrow::Result<T> r) const {
    if (r.ok()) return r;
    return MapRemoteError(*config_, r.status());
  }

  // An empty read is valid from position 0 up to the end of the file, as on local files.
  arrow::Status CheckEmptyRead(int64_t position) {
    if (position < 0) return arrow::Status::Invalid("negative read position ", position);
    ARROW_ASSIGN_OR_RAISE(int64_t size, Map(raw_->GetSize()));
    if (position > size) return arrow::Status::IOError("read position ", position, " is past the end (", size, " bytes)");
    return arrow::Status::OK();
  }

  std::shared_ptr<arrow::io::RandomAccessFile> raw_;
  std::shared_ptr<const RemoteConfig> config_;
  bool s3_;
};

class ObjectInputStream : public arrow::io::InputStream {
 public:
  ObjectInputStream(std::shared_ptr<arrow::io::InputStream> raw, std::shared_ptr<const RemoteConfig> config)
      : raw_(std::move(raw)), config_(std::move(config)), s3_(config_->protocol == Protocol::kS3) {}

  arrow::Status Close() override { return raw_->Close(); }
  bool closed() const override { return raw_->closed(); }
  arrow::Result<int64_t> Tell() const override { return raw_->Tell(); }
  arrow::Result<std::shared_ptr<const arrow::KeyValueMetadata>> ReadMetadata() override { return raw_->ReadMetadata(); }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    if (s3_) LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_reader_read_fail);
    auto r = raw_->Read(nbytes, out);
    if (!r.ok()) return MapRemoteError(*config_, r.status());
    return r;
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    if (s3_) LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_reader_read_fail);
    auto r = raw_->Read(nbytes);
    if (!r.ok()) return MapRemoteError(*config_, r.status());
    return r;
  }

 private:
  std::shared_ptr<arrow::io::InputStream> raw_;
  std::shared_ptr<const RemoteConfig> config_;
  bool s3_;
};

}  // namespace

arrow::Status MapRemoteError(const RemoteConfig& c, arrow::Status st) {
  if (st.ok() || CodeOf(st) != 0) return st;
  std::string context = " [" + c.Describe() + "]";
  std::string msg = st.message();
  if (msg.find(context) == std::string::npos) msg += context;
  if (arrow::internal::ErrnoFromStatus(st) == ENOENT) return st.WithMessage(msg);  // a missing key: code 12
  // Arrow's GCS filesystem refuses a directory below an existing object (as Azure's does, with
  // ENOTDIR): the same reason a local filesystem gives.
  if (st.message().find("conflicts with an existing file") != std::string::npos) {
    return arrow::internal::IOErrorFromErrno(ENOTDIR, msg);
  }
  int code = Classify(st.message());
  if (code == 0) return st.WithMessage(msg);
  return CodedError(code, msg);
}

ObjectStoreFileSystem::ObjectStoreFileSystem(std::shared_ptr<const RemoteConfig> config,
                                             std::shared_ptr<arrow::fs::FileSystem> store_fs)
    : LoonFileSystem(std::make_shared<arrow::fs::SubTreeFileSystem>(config->bucket, store_fs), config->Describe()),
      config_(std::move(config)),
      store_fs_(std::move(store_fs)),
      put_(MakeConditionalPut(*config_)) {}

arrow::Result<std::shared_ptr<arrow::io::OutputStream>> ObjectStoreFileSystem::OpenOutputStreamCreateOnly(
    const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>&) {
  if (fault::ShouldFail(loon_fiukey_fs_open_output_fail)) {
    metrics_->failed_count++;
    return arrow::Status::IOError("injected fault: fs.open_output.fail");
  }
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  if (rel.empty()) return Track(arrow::Status::Invalid("create-only write needs a key, got '", path, "'"));
  metrics_->write_count++;
  return WrapOutput(std::make_shared<ConditionalOutputStream>(rel, put_));
}

arrow::Result<std::shared_ptr<const arrow::KeyValueMetadata>> ObjectStoreFileSystem::ReadMetadata(
    const std::string& path) {
  if (fault::ShouldFail(loon_fiukey_fs_open_input_fail)) {
    metrics_->failed_count++;
    return arrow::Status::IOError("injected fault: fs.open_input.fail");
  }
  ARROW_ASSIGN_OR_RAISE(std::string rel, Track(RootRelative(path)));
  ARROW_ASSIGN_OR_RAISE(auto stream, Track(base_->OpenInputStream(rel)));
  auto meta = Track(stream->ReadMetadata());
  (void)stream->Close();
  return meta;
}

arrow::Status ObjectStoreFileSystem::MapError(arrow::Status st) const {
  return MapRemoteError(*config_, std::move(st));
}

std::shared_ptr<arrow::io::OutputStream> ObjectStoreFileSystem::AdaptOutput(
    std::shared_ptr<arrow::io::OutputStream> raw) {
  return std::make_shared<ObjectOutputStream>(std::move(raw), config_, metrics_);
}

std::shared_ptr<arrow::io::RandomAccessFile> ObjectStoreFileSystem::AdaptInput(
    std::shared_ptr<arrow::io::RandomAccessFile> raw) {
  return std::make_shared<ObjectInputFile>(std::move(raw), config_);
}

std::shared_ptr<arrow::io::InputStream> ObjectStoreFileSystem::AdaptInput(std::shared_ptr<arrow::io::InputStream> raw) {
  return std::make_shared<ObjectInputStream>(std::move(raw), config_);
}

// GCS lists only objects and "dir/" markers, never prefixes (Arrow's GcsFileSystem), so parents
// get markers there to keep directories visible; S3 and Azure list prefixes.
bool ObjectStoreFileSystem::CreatesParentDirs() const { return config_->protocol == Protocol::kGcs; }

arrow::Status ObjectStoreFileSystem::BeforeOutputOpen() {
  if (config_->protocol == Protocol::kS3) LOON_RETURN_ON_FAULT(loon_fiukey_s3fs_create_upload_fail);
  if (CreatesParentDirs()) return EnsureBucket();
  return arrow::Status::OK();
}

// Arrow's Azure and GCS filesystems create a missing container/bucket when asked to create a
// directory in it; the engine never creates buckets, so directory creation checks first (once per
// instance: a bucket is not expected to vanish while in use).
arrow::Status ObjectStoreFileSystem::EnsureBucket() {
  if (bucket_seen_.load()) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(auto info, Track(store_fs_->GetFileInfo(config_->bucket)));
  if (info.type() == arrow::fs::FileType::NotFound) {
    metrics_->failed_count++;
    return CodedError(kAwsNotFound, "bucket '" + config_->bucket + "' does not exist [" + config_->Describe() + "]");
  }
  bucket_seen_.store(true);
  return arrow::Status::OK();
}

// Without this check a missing bucket would read as an empty store: listings come back empty,
// every key "does not exist" and a dataset has no version. Only the store's "no such bucket"
// fails here; when the check itself fails (credentials that may use objects but not look at the
// bucket, an unreachable endpoint) the operations report their own errors, with their context.
arrow::Status ObjectStoreFileSystem::CheckBucket() {
  auto info = store_fs_->GetFileInfo(config_->bucket);
  if (!info.ok()) return arrow::Status::OK();
  if (info->type() == arrow::fs::FileType::NotFound) {
    return CodedError(kAwsNotFound, "bucket '" + config_->bucket + "' does not exist [" + config_->Describe() + "]");
  }
  bucket_seen_.store(true);
  return arrow::Status::OK();
}

arrow::Status ObjectStoreFileSystem::CreateDir(const std::string& path, bool recursive) {
  ARROW_RETURN_NOT_OK(EnsureBucket());
  return LoonFileSystem::CreateDir(path, recursive);
}

arrow::Result<std::shared_ptr<LoonFileSystem>> MakeObjectStoreFileSystem(const RemoteConfig& c) {
  auto config = std::make_shared<const RemoteConfig>(c);
  auto made = MakeArrowFileSystem(c);  // checks the credentials' form (code 7) before any request
  if (!made.ok()) return MapRemoteError(c, made.status());
  if (c.protocol != Protocol::kS3) ARROW_RETURN_NOT_OK(ProbeEndpoint(c));  // S3 has its own timeouts
  auto fs = std::make_shared<ObjectStoreFileSystem>(config, *made);
  ARROW_RETURN_NOT_OK(fs->CheckBucket());
  return std::static_pointer_cast<LoonFileSystem>(fs);
}

}  // namespace loon::fs
