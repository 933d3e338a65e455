// Create-only uploads to object stores, sent with libcurl because Arrow's filesystems cannot send
// preconditions. One request publishes the whole object, so it appears complete or not at all,
// and the store itself refuses it when the key exists: there is no check-then-write anywhere.
//
//   S3 (aws, MinIO, ...)  PUT with `If-None-Match: *`; 412 (or 409 for a concurrent conditional
//                         write in flight) = the key exists. Signed by curl (CURLOPT_AWS_SIGV4).
//   Aliyun OSS            PUT with `x-oss-forbid-overwrite: true` (409 FileAlreadyExists).
//   Tencent COS           PUT with `x-cos-forbid-overwrite: true`.
//   GCS with HMAC keys    XML API PUT with `x-goog-if-generation-match: 0` (SigV4 by curl).
//   GCS native            JSON API multipart upload with `ifGenerationMatch=0` (anonymous only:
//                         with OAuth credentials it is refused with code 9).
//   Azure Blob            Put Blob with `If-None-Match: *` (409 BlobAlreadyExists), SharedKey
//                         signature (HMAC-SHA256 over the canonical request, OpenSSL) — only with
//                         an account key; other Azure credentials are refused with code 9.
//   Huawei OBS            has no create-only write: refused with code 9 rather than risking two
//                         committers overwriting one version.
// The key exists -> CodedError(kAwsConflict). Other failures carry the code of their cause
// (403 -> 105, 404 -> 104, 429 -> 109, 5xx -> 110, refused/unresolvable -> 107, timeout -> 108)
// and name the endpoint, bucket and key. A request is never retried here: after a timeout the
// object may or may not exist, and only the caller can decide (the codes 107/108/110 say "retry").
#pragma once

#include <arrow/status.h>

#include <cstdint>
#include <memory>
#include <string>

#include "filesystem/remote_config.h"

namespace loon::fs {

class ConditionalPut {
 public:
  virtual ~ConditionalPut() = default;
  // Stores `size` bytes at `key` (relative to the bucket) iff no object is there.
  virtual arrow::Status PutIfAbsent(const std::string& key, const uint8_t* data, int64_t size) = 0;
};

// The publisher for `c`'s store; stores without a create-only write get a publisher that refuses
// with code 9 naming the reason.
std::unique_ptr<ConditionalPut> MakeConditionalPut(const RemoteConfig& c);

// One GET of the endpoint's root, bounded like every request here: OK on any HTTP answer, else
// 107 (refused, unresolvable) or 108 (no answer within fs.request_timeout_ms). Arrow's GCS and
// Azure filesystems have no timeout options (a silent endpoint held a call for minutes), so those
// stores are probed once per filesystem instance before use.
arrow::Status ProbeEndpoint(const RemoteConfig& c);

}  // namespace loon::fs
