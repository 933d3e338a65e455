#include "exttable/provider_location.h"

#include <arrow/filesystem/filesystem.h>
#include <arrow/filesystem/localfs.h>

#include "common/status.h"
#include "filesystem/backends.h"
#include "filesystem/object_store.h"

namespace loon::exttable {

namespace {

arrow::Status Inexpressible(const fs::RemoteConfig& c, const std::string& key) {
  return CodedError(kNotSupport, "format providers cannot reach " + c.Describe() + ": " + key +
                                     " has no equivalent in the storage options a provider receives");
}

// A JSON string literal (the values are endpoints: host characters only, but quote anyway).
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

// A GCS service account JSON for the library: the configured one, or one without OAuth
// (anonymous); with "gcs_base_url" when the endpoint is not Google's.
arrow::Result<std::string> GcsServiceAccount(const fs::RemoteConfig& c) {
  std::string base_url = c.host == "storage.googleapis.com" ? "" : c.Endpoint();
  if (c.gcp_native_without_auth) {
    std::string json = "{\"disable_oauth\": true, \"client_email\": \"\", \"private_key\": \"\", "
                       "\"private_key_id\": \"\"";
    if (!base_url.empty()) json += ", \"gcs_base_url\": " + JsonString(base_url);
    return json + "}";
  }
  if (c.gcp_credential_json.empty() || base_url.empty()) return c.gcp_credential_json;
  // Insert the endpoint as the object's first member.
  size_t open = c.gcp_credential_json.find_first_not_of(" \t\r\n");
  if (open == std::string::npos || c.gcp_credential_json[open] != '{') {
    return CodedError(kInvalidProperties, "fs.gcp_credential_json is not a JSON object (" + c.Describe() + ")");
  }
  return c.gcp_credential_json.substr(0, open + 1) + "\"gcs_base_url\": " + JsonString(base_url) + ", " +
         c.gcp_credential_json.substr(open + 1);
}

}  // namespace

arrow::Result<ProviderLocation> LocateInStore(const fs::RemoteConfig& c, const std::string& key) {
  if (!c.ssl_ca_cert.empty()) return Inexpressible(c, "fs.ssl_ca_cert");
  ProviderLocation out;
  auto& o = out.storage_options;
  const std::string object = key.empty() ? c.bucket : c.bucket + "/" + key;
  switch (c.protocol) {
    case fs::Protocol::kS3: {
      if (c.use_iam && !c.role_arn.empty()) return Inexpressible(c, "fs.role_arn (assume-role)");
      out.uri = "s3://" + object;
      if (!(c.cloud_provider == "aws" && c.host == "s3.amazonaws.com")) o.emplace_back("aws_endpoint", c.Endpoint());
      o.emplace_back("aws_region", !c.region.empty() ? c.region : (c.cloud_provider == "gcp" ? "auto" : "us-east-1"));
      if (c.use_iam) {
        // The credentials the engine's own S3 client resolved (instance profile, environment...).
        ARROW_ASSIGN_OR_RAISE(auto creds, fs::ResolveS3Credentials(c));
        o.emplace_back("aws_access_key_id", creds.access_key);
        o.emplace_back("aws_secret_access_key", creds.secret_key);
        if (!creds.session_token.empty()) o.emplace_back("aws_session_token", creds.session_token);
      } else if (!c.access_key_id.empty()) {
        o.emplace_back("aws_access_key_id", c.access_key_id);
        o.emplace_back("aws_secret_access_key", c.access_key_value);
      } else {
        o.emplace_back("aws_skip_signature", "true");  // anonymous, as the engine's client
      }
      o.emplace_back("aws_virtual_hosted_style_request", c.use_virtual_host ? "true" : "false");
      break;
    }
    case fs::Protocol::kGcs: {
      if (!c.gcp_target_service_account.empty()) {
        return Inexpressible(c, "fs.gcp_target_service_account (impersonation)");
      }
      out.uri = "gs://" + object;
      ARROW_ASSIGN_OR_RAISE(std::string account, GcsServiceAccount(c));
      if (!account.empty()) o.emplace_back("google_service_account_key", account);
      break;
    }
    case fs::Protocol::kAzure: {
      out.uri = "az://" + object;
      o.emplace_back("azure_storage_account_name", c.access_key_id);
      if (!c.access_key_value.empty()) {
        o.emplace_back("azure_storage_account_key", c.access_key_value);
      } else {
        if (!c.azure_client_id.empty()) o.emplace_back("azure_storage_client_id", c.azure_client_id);
        if (!c.azure_tenant_id.empty()) o.emplace_back("azure_storage_tenant_id", c.azure_tenant_id);
      }
      if (c.AzurePathStyle()) {
        o.emplace_back("azure_storage_endpoint", c.Endpoint() + "/" + c.access_key_id);
      } else if (c.AzureDomain() != "core.windows.net") {
        o.emplace_back("azure_storage_endpoint", c.scheme + "://" + c.AzureBlobHost());
      }
      break;
    }
  }
  if (c.scheme == "http") o.emplace_back("allow_http", "true");
  o.emplace_back("connect_timeout", std::to_string(c.request_timeout_ms) + "ms");
  return out;
}

arrow::Result<ProviderLocation> LocateForProvider(const fs::ResolvedPath& resolved) {
  auto loon_fs = fs::AsLoon(resolved.fs);
  std::shared_ptr<arrow::fs::FileSystem> base = loon_fs ? loon_fs->base() : resolved.fs;
  auto subtree = std::dynamic_pointer_cast<arrow::fs::SubTreeFileSystem>(base);
  if (subtree && std::dynamic_pointer_cast<arrow::fs::LocalFileSystem>(subtree->base_fs())) {
    ARROW_ASSIGN_OR_RAISE(std::string rel, fs::RootRelative(resolved.path));
    return ProviderLocation{fs::JoinPath(subtree->base_path(), rel), {}};
  }
  if (auto store = std::dynamic_pointer_cast<fs::ObjectStoreFileSystem>(resolved.fs)) {
    ARROW_ASSIGN_OR_RAISE(std::string key, fs::RootRelative(resolved.path));
    while (!key.empty() && key.back() == '/') key.pop_back();
    return LocateInStore(store->config(), key);
  }
  return CodedError(kNotSupport, "format providers cannot reach data on filesystem " +
                                     (loon_fs ? loon_fs->description() : base->type_name()));
}

CLocation::CLocation(const ProviderLocation& location) {
  for (const auto& [k, v] : location.storage_options) {
    items_.push_back(LoonProperty{const_cast<char*>(k.c_str()), const_cast<char*>(v.c_str())});
  }
  options_.properties = items_.empty() ? nullptr : items_.data();
  options_.count = items_.size();
  c_.uri = location.uri.c_str();
  c_.storage_options = &options_;
}

}  // namespace loon::exttable
