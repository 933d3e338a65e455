// The `fs.*` keys of a `fs.storage_type=remote` configuration, parsed and checked once.
//
// Protocols: `fs.cloud_provider` aws, aliyun, tencent and huawei speak S3; azure speaks Azure Blob;
// gcp speaks native GCS (JSON API) unless HMAC keys are given (`fs.access_key_id` set and neither
// `fs.gcp_native_without_auth` nor `fs.gcp_credential_json`), in which case it uses GCS's
// S3-compatible XML API at `fs.address` like any S3 store. Native GCS credentials, first match:
// `fs.gcp_native_without_auth` (anonymous), `fs.gcp_credential_json` (service account),
// `fs.access_key_value` without `fs.access_key_id` (an OAuth 2.0 access token, sent as a bearer
// token), else Google's default credentials (ADC).
//
// `fs.address` is "host", "host:port" or "http(s)://host[:port]" (a trailing '/' is allowed); a
// scheme in the address wins over `fs.use_ssl`. Anything else (a path, spaces, a bad port, an
// unknown scheme) is refused with code 7 naming the value.
#pragma once

#include <arrow/result.h>

#include <cstdint>
#include <string>

#include "common/properties.h"

namespace loon::fs {

enum class Protocol { kS3, kGcs, kAzure };

struct RemoteConfig {
  std::string cloud_provider;  // aws, aliyun, tencent, huawei, gcp, azure
  Protocol protocol = Protocol::kS3;
  std::string scheme;  // "http" or "https"
  std::string host;    // "host" or "host:port", no scheme
  bool address_given = false;
  std::string bucket;
  std::string access_key_id;
  std::string access_key_value;
  std::string region;
  bool use_virtual_host = false;
  bool use_iam = false;
  std::string role_arn, session_name, external_id;
  int32_t load_frequency = 900;
  std::string ssl_ca_cert;
  int64_t request_timeout_ms = 3000;
  int64_t multipart_size = 10485760;
  bool background_writes = true;
  std::string log_level;
  bool gcp_native_without_auth = false;
  std::string gcp_credential_json;
  std::string gcp_target_service_account;
  std::string azure_client_id, azure_tenant_id;

  // "scheme://host".
  std::string Endpoint() const;
  // Human context for error messages: "<provider> endpoint <url> bucket '<b>'" (no secrets).
  std::string Describe() const;
  // Native GCS authenticated by an OAuth access token (`fs.access_key_value`, see above).
  bool GcsAccessToken() const {
    return protocol == Protocol::kGcs && !gcp_native_without_auth && gcp_credential_json.empty() &&
           !access_key_value.empty();
  }
  // Azure: true when the account is addressed in the path (emulators: IP, localhost or a port).
  bool AzurePathStyle() const;
  // Azure: the service domain of a public endpoint ("core.windows.net" for "acct.blob.core.windows.net").
  std::string AzureDomain() const;
  // Azure blob host, e.g. "acct.blob.core.windows.net" or "127.0.0.1:10000".
  std::string AzureBlobHost() const;
};

arrow::Result<RemoteConfig> ParseRemoteConfig(const Properties& props);

// Cache key of a configuration: every `fs.*` key with its effective value (secrets included, so
// two configurations differing only in credentials never share an instance).
std::string ConfigKey(const Properties& props);

}  // namespace loon::fs
