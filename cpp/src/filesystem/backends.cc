#include "filesystem/backends.h"

#include <arrow/filesystem/azurefs.h>
#include <arrow/filesystem/gcsfs.h>
#include <arrow/filesystem/s3fs.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>

#include "common/status.h"

namespace loon::fs {

namespace {

arrow::fs::S3LogLevel S3Level(const std::string& level) {
  using L = arrow::fs::S3LogLevel;
  if (level == "off") return L::Off;
  if (level == "error") return L::Error;
  if (level == "warn") return L::Warn;
  if (level == "info") return L::Info;
  if (level == "debug") return L::Debug;
  if (level == "trace") return L::Trace;
  return L::Fatal;
}

// The AWS SDK is initialised once per process (the first configuration's fs.log_level wins) and
// finalised at exit (FinalizeS3AtExit); filesystems still alive then fail cleanly instead of
// touching a torn-down SDK.
arrow::Status EnsureS3(const std::string& log_level) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  if (arrow::fs::IsS3Finalized()) {
    return CodedError(kAwsNonRetryable, "the S3 client library was already finalized (process exiting)");
  }
  if (arrow::fs::IsS3Initialized()) return arrow::Status::OK();
  arrow::fs::S3GlobalOptions options = arrow::fs::S3GlobalOptions::Defaults();
  options.log_level = S3Level(log_level);
  return arrow::fs::InitializeS3(options);
}

// Finalizes the AWS SDK at exit. Registered after the first S3 filesystem exists: Arrow creates its
// client finalizer (a function-local static) with that first client, and exit handlers run in
// reverse order of registration, so this one runs while the finalizer is still alive.
void FinalizeS3AtExit() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit([] {
      try {
        (void)arrow::fs::EnsureS3Finalized();
      } catch (...) {
      }
    });
  });
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

arrow::Result<arrow::fs::S3Options> S3OptionsOf(const RemoteConfig& c) {
  arrow::fs::S3Options o;
  if (c.use_iam) {
    if (!c.role_arn.empty()) {
      o.ConfigureAssumeRoleCredentials(c.role_arn, c.session_name, c.external_id, c.load_frequency);
    } else {
      o.ConfigureDefaultCredentials();
    }
  } else if (!c.access_key_id.empty()) {
    o.ConfigureAccessKey(c.access_key_id, c.access_key_value);
  } else {
    o.ConfigureAnonymousCredentials();
  }
  o.region = !c.region.empty() ? c.region : (c.cloud_provider == "gcp" ? "auto" : "us-east-1");
  if (!(c.cloud_provider == "aws" && c.host == "s3.amazonaws.com")) o.endpoint_override = c.host;
  o.scheme = c.scheme;
  o.force_virtual_addressing = c.use_virtual_host;
  o.connect_timeout = Seconds(c.request_timeout_ms);
  o.request_timeout = Seconds(c.request_timeout_ms);
  o.background_writes = c.background_writes;
  o.tls_ca_file_path = c.ssl_ca_cert;
  o.retry_strategy = arrow::fs::S3RetryStrategy::GetAwsStandardRetryStrategy(3);
  return o;
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeS3(const RemoteConfig& c) {
  ARROW_RETURN_NOT_OK(EnsureS3(c.log_level));
  ARROW_ASSIGN_OR_RAISE(auto options, S3OptionsOf(c));
  ARROW_ASSIGN_OR_RAISE(auto fs, arrow::fs::S3FileSystem::Make(options));
  FinalizeS3AtExit();
  return std::static_pointer_cast<arrow::fs::FileSystem>(fs);
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeGcs(const RemoteConfig& c) {
  arrow::fs::GcsOptions o;
  if (c.gcp_native_without_auth) {
    o = arrow::fs::GcsOptions::Anonymous();
  } else if (!c.gcp_credential_json.empty()) {
    o = arrow::fs::GcsOptions::FromServiceAccountCredentials(c.gcp_credential_json);
  } else if (c.GcsAccessToken()) {
    // The caller owns the token's lifetime (Google's tokens last about an hour): the expiry given
    // here only keeps the client from refreshing it, which it cannot do.
    o = arrow::fs::GcsOptions::FromAccessToken(c.access_key_value,
                                               std::chrono::system_clock::now() + std::chrono::hours(24 * 365));
  } else {
    o = arrow::fs::GcsOptions::Defaults();
  }
  if (!c.gcp_target_service_account.empty()) {
    auto base = o.credentials;
    auto impersonated = arrow::fs::GcsOptions::FromImpersonatedServiceAccount(base, c.gcp_target_service_account);
    o.credentials = impersonated.credentials;
  }
  o.scheme = c.scheme;
  if (c.host != "storage.googleapis.com") o.endpoint_override = c.host;
  o.retry_limit_seconds = std::max(1.0, 3 * Seconds(c.request_timeout_ms));
  ARROW_ASSIGN_OR_RAISE(auto fs, arrow::fs::GcsFileSystem::Make(o));
  return std::static_pointer_cast<arrow::fs::FileSystem>(fs);
}

bool IsBase64Key(const std::string& key) {
  if (key.empty() || key.size() % 4 != 0) return false;
  std::string out(key.size(), '\0');
  return EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                         reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size())) >= 0;
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeAzure(const RemoteConfig& c) {
  arrow::fs::AzureOptions o;
  o.account_name = c.access_key_id;
  if (c.AzurePathStyle()) {
    o.blob_storage_authority = c.host;
    o.dfs_storage_authority = c.host;
  } else {
    o.blob_storage_authority = ".blob." + c.AzureDomain();
    o.dfs_storage_authority = ".dfs." + c.AzureDomain();
  }
  o.blob_storage_scheme = c.scheme;
  o.dfs_storage_scheme = c.scheme;
  o.background_writes = c.background_writes;
  if (!c.access_key_value.empty()) {
    if (!IsBase64Key(c.access_key_value)) {
      return CodedError(kInvalidProperties,
                        "fs.access_key_value is not a base64 Azure account key (account '" + c.access_key_id + "')");
    }
    ARROW_RETURN_NOT_OK(o.ConfigureAccountKeyCredential(c.access_key_value));
  } else {
    if (c.scheme != "https") {
      return CodedError(kInvalidProperties,
                        "azure without fs.access_key_value uses token credentials, which need https "
                        "(set fs.use_ssl=true or give the account key)");
    }
    if (!c.azure_client_id.empty()) {
      ARROW_RETURN_NOT_OK(o.ConfigureManagedIdentityCredential(c.azure_client_id));
    } else {
      ARROW_RETURN_NOT_OK(o.ConfigureDefaultCredential());
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto fs, arrow::fs::AzureFileSystem::Make(o));
  return std::static_pointer_cast<arrow::fs::FileSystem>(fs);
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeArrowFileSystem(const RemoteConfig& c) {
  switch (c.protocol) {
    case Protocol::kS3:
      return MakeS3(c);
    case Protocol::kGcs:
      return MakeGcs(c);
    case Protocol::kAzure:
      return MakeAzure(c);
  }
  return arrow::Status::Invalid("unknown protocol");
}

arrow::Result<S3Credentials> ResolveS3Credentials(const RemoteConfig& c) {
  if (!c.use_iam) return S3Credentials{c.access_key_id, c.access_key_value, ""};
  ARROW_RETURN_NOT_OK(EnsureS3(c.log_level));
  ARROW_ASSIGN_OR_RAISE(auto options, S3OptionsOf(c));
  return S3Credentials{options.GetAccessKey(), options.GetSecretKey(), options.GetSessionToken()};
}

}  // namespace loon::fs
