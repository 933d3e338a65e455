// LoonFileSystem over an object store (S3 and S3-compatibles, GCS, Azure Blob), rooted at the
// bucket (`fs.bucket_name`; for Azure the container): paths are keys inside it.
//
// On top of the Arrow filesystem it adds:
//   - create-only writes (OpenOutputStreamCreateOnly, hence PutIfAbsent and the manifest commit):
//     the bytes are buffered and published at Close() by one conditional request
//     (conditional_put.h); an existing key gives kAwsConflict;
//   - error codes by cause (access denied 105, missing bucket 104, network 107, timeout 108,
//     throttling 109, 5xx 110; a missing key keeps its ENOENT -> 12) and messages naming the
//     provider, endpoint and bucket;
//   - on S3: multipart uploads with parts of exactly fs.multi_part_upload_size bytes (counted in
//     the multi_part_upload_* metrics) and the s3fs.* fault points:
//       s3fs.create_upload.fail    opening an output stream (every upload starts there)
//       s3fs.writer.write.fail     each Write
//       s3fs.part_upload.fail      each part handed to the upload (the last one at Close)
//       s3fs.writer.flush.fail     each Flush
//       s3fs.writer.close.fail     Close, before anything is published
//       s3fs.complete_upload.fail  Close, after the last part, before completion
//       s3fs.reader.read.fail      sequential reads; s3fs.reader.readat.fail positional reads
//     A failed Close aborts the upload, so a failed write never leaves an object behind.
#pragma once

#include <atomic>
#include <memory>

#include "filesystem/conditional_put.h"
#include "filesystem/fs.h"
#include "filesystem/remote_config.h"

namespace loon::fs {

class ObjectStoreFileSystem : public LoonFileSystem {
 public:
  // `store_fs` is Arrow's filesystem of the whole store (paths "<bucket>/<key>").
  ObjectStoreFileSystem(std::shared_ptr<const RemoteConfig> config, std::shared_ptr<arrow::fs::FileSystem> store_fs);

  arrow::Result<std::shared_ptr<arrow::io::OutputStream>> OpenOutputStreamCreateOnly(
      const std::string& path, const std::shared_ptr<const arrow::KeyValueMetadata>& metadata) override;
  arrow::Result<std::shared_ptr<const arrow::KeyValueMetadata>> ReadMetadata(const std::string& path) override;
  arrow::Status CreateDir(const std::string& path, bool recursive) override;

  const RemoteConfig& config() const { return *config_; }

  // Code 104 naming the bucket when it does not exist (MakeObjectStoreFileSystem asks once per
  // instance, before any operation).
  arrow::Status CheckBucket();

 protected:
  arrow::Status MapError(arrow::Status st) const override;
  std::shared_ptr<arrow::io::OutputStream> AdaptOutput(std::shared_ptr<arrow::io::OutputStream> raw) override;
  std::shared_ptr<arrow::io::RandomAccessFile> AdaptInput(std::shared_ptr<arrow::io::RandomAccessFile> raw) override;
  std::shared_ptr<arrow::io::InputStream> AdaptInput(std::shared_ptr<arrow::io::InputStream> raw) override;
  bool CreatesParentDirs() const override;
  arrow::Status BeforeOutputOpen() override;

 private:
  arrow::Status EnsureBucket();

  std::shared_ptr<const RemoteConfig> config_;
  std::shared_ptr<arrow::fs::FileSystem> store_fs_;
  std::shared_ptr<ConditionalPut> put_;
  std::atomic<bool> bucket_seen_{false};
};

// The object-store filesystem of `c`. GCS and Azure endpoints are probed first (ProbeEndpoint:
// an unreachable or silent endpoint fails here, bounded by fs.request_timeout_ms), then the bucket
// (CheckBucket: a missing one is code 104 here); a bad credential shows at the first operation.
arrow::Result<std::shared_ptr<LoonFileSystem>> MakeObjectStoreFileSystem(const RemoteConfig& c);

// Attaches the code of the failure's cause and the store's description to a status from Arrow.
arrow::Status MapRemoteError(const RemoteConfig& c, arrow::Status st);

}  // namespace loon::fs
