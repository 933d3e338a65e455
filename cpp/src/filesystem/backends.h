// Arrow's own object-store filesystems (from the pinned pyarrow: S3FileSystem in libarrow_s3,
// GcsFileSystem and AzureFileSystem in libarrow) configured from a RemoteConfig.
//
// How the `fs.*` keys map (the README's "Object stores" section lists the same):
//   S3    region (empty: us-east-1; GCS XML API: auto), endpoint_override = fs.address (none for s3.amazonaws.com),
//         scheme from the address or fs.use_ssl, force_virtual_addressing = fs.use_virtual_host,
//         connect and request timeouts = fs.request_timeout_ms, tls_ca_file_path = fs.ssl_ca_cert,
//         fs.background_writes, credentials: fs.use_iam (+ fs.role_arn/session_name/external_id/
//         load_frequency: assume-role) > access keys > anonymous. Arrow's standard retry strategy
//         (3 attempts) bounds every request.
//   GCS   anonymous (fs.gcp_native_without_auth) > fs.gcp_credential_json > default credentials,
//         optionally impersonating fs.gcp_target_service_account; endpoint_override and scheme
//         from fs.address; retries limited to 3 x fs.request_timeout_ms.
//   Azure account = fs.access_key_id, key = fs.access_key_value (SharedKey); without a key,
//         a client secret / managed identity / default credential (https only: the Azure SDK
//         refuses token credentials over http by throwing, which would abort the process).
#pragma once

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <memory>

#include "filesystem/remote_config.h"

namespace loon::fs {

// The Arrow filesystem of `c` (paths inside it are "<bucket>/<key>").
arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeArrowFileSystem(const RemoteConfig& c);

// Credentials the S3 client resolved for `c` (access key, secret, session token), used to sign
// the conditional publish requests the same way the filesystem signs its own.
struct S3Credentials {
  std::string access_key, secret_key, session_token;
};
arrow::Result<S3Credentials> ResolveS3Credentials(const RemoteConfig& c);

}  // namespace loon::fs
