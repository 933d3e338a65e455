#include "filesystem/remote_config.h"

#include <arpa/inet.h>

#include <cctype>

#include "common/status.h"

namespace loon::fs {

namespace {

arrow::Status BadAddress(const std::string& address, const std::string& why) {
  return CodedError(kInvalidProperties, "fs.address '" + address + "' is malformed: " + why +
                                            " (expected host, host:port or http(s)://host[:port])");
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool IsIpv4(const std::string& host) {
  in_addr addr{};
  return ::inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

// Splits fs.address into scheme ("" when absent) and "host[:port]".
arrow::Status ParseAddress(const std::string& address, std::string* scheme, std::string* host) {
  std::string rest = address;
  size_t sep = rest.find("://");
  if (sep != std::string::npos) {
    *scheme = rest.substr(0, sep);
    if (*scheme != "http" && *scheme != "https") return BadAddress(address, "unknown scheme '" + *scheme + "'");
    rest = rest.substr(sep + 3);
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) return BadAddress(address, "no host");
  if (rest.find('/') != std::string::npos) return BadAddress(address, "a path is not allowed");
  std::string name = rest, port;
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    name = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5) return BadAddress(address, "bad port '" + port + "'");
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return BadAddress(address, "bad port '" + port + "'");
    }
    int p = std::stoi(port);
    if (p < 1 || p > 65535) return BadAddress(address, "port " + port + " out of range");
  }
  if (name.empty()) return BadAddress(address, "no host");
  for (char c : name) {
    if (!IsHostChar(c)) return BadAddress(address, std::string("character '") + c + "' in host");
  }
  *host = rest;
  return arrow::Status::OK();
}

}  // namespace

std::string RemoteConfig::Endpoint() const { return scheme + "://" + host; }

std::string RemoteConfig::Describe() const {
  return cloud_provider + " endpoint " + Endpoint() + " bucket '" + bucket + "'";
}

bool RemoteConfig::AzurePathStyle() const {
  std::string name = host.substr(0, host.rfind(':'));
  return host.find(':') != std::string::npos || name == "localhost" || IsIpv4(name);
}

std::string RemoteConfig::AzureDomain() const {
  std::string base = host;
  if (!access_key_id.empty() && base.rfind(access_key_id + ".", 0) == 0) base = base.substr(access_key_id.size() + 1);
  if (base.rfind("blob.", 0) == 0) base = base.substr(5);
  return base;
}

std::string RemoteConfig::AzureBlobHost() const {
  return AzurePathStyle() ? host : access_key_id + ".blob." + AzureDomain();
}

arrow::Result<RemoteConfig> ParseRemoteConfig(const Properties& props) {
  RemoteConfig c;
  c.cloud_provider = props.GetString("fs.cloud_provider");
  c.bucket = props.GetString("fs.bucket_name");
  if (!props.Has("fs.bucket_name") || c.bucket.empty()) {
    return CodedError(kInvalidProperties, "fs.bucket_name is required for fs.storage_type=remote");
  }
  if (c.bucket.find('/') != std::string::npos) {
    return CodedError(kInvalidProperties, "fs.bucket_name '" + c.bucket + "' must not contain '/'");
  }
  c.access_key_id = props.Has("fs.access_key_id") ? props.GetString("fs.access_key_id") : "";
  c.access_key_value = props.Has("fs.access_key_value") ? props.GetString("fs.access_key_value") : "";
  c.region = props.GetString("fs.region");
  c.use_virtual_host = props.GetBool("fs.use_virtual_host");
  c.use_iam = props.GetBool("fs.use_iam");
  c.role_arn = props.GetString("fs.role_arn");
  c.session_name = props.GetString("fs.session_name");
  c.external_id = props.GetString("fs.external_id");
  c.load_frequency = static_cast<int32_t>(props.GetInt("fs.load_frequency"));
  c.ssl_ca_cert = props.GetString("fs.ssl_ca_cert");
  c.request_timeout_ms = props.GetInt("fs.request_timeout_ms");
  if (c.request_timeout_ms <= 0) {
    return CodedError(kInvalidProperties, "fs.request_timeout_ms must be positive, got " +
                                              std::to_string(c.request_timeout_ms));
  }
  c.multipart_size = props.GetInt("fs.multi_part_upload_size");
  c.background_writes = props.GetBool("fs.background_writes");
  c.log_level = props.GetString("fs.log_level");
  c.gcp_native_without_auth = props.GetBool("fs.gcp_native_without_auth");
  c.gcp_credential_json = props.GetString("fs.gcp_credential_json");
  c.gcp_target_service_account = props.GetString("fs.gcp_target_service_account");
  c.azure_client_id = props.GetString("fs.azure_client_id");
  c.azure_tenant_id = props.GetString("fs.azure_tenant_id");

  if (c.cloud_provider == "azure") {
    c.protocol = Protocol::kAzure;
  } else if (c.cloud_provider == "gcp") {
    bool hmac = !c.access_key_id.empty() && !c.gcp_native_without_auth && c.gcp_credential_json.empty();
    c.protocol = hmac ? Protocol::kS3 : Protocol::kGcs;
  } else {
    c.protocol = Protocol::kS3;
  }

  std::string address = props.GetString("fs.address");
  c.address_given = props.Has("fs.address");
  if (!c.address_given) {
    // Each provider's public endpoint when none is given (the registry default is a MinIO address).
    if (c.protocol == Protocol::kGcs) address = "storage.googleapis.com";
    if (c.protocol == Protocol::kAzure) address = "core.windows.net";
  }
  std::string scheme;
  ARROW_RETURN_NOT_OK(ParseAddress(address, &scheme, &c.host));
  c.scheme = !scheme.empty() ? scheme : (props.GetBool("fs.use_ssl") ? "https" : "http");
  if (c.protocol == Protocol::kAzure && c.access_key_id.empty()) {
    return CodedError(kInvalidProperties, "fs.access_key_id (the storage account name) is required for azure");
  }
  return c;
}

std::string ConfigKey(const Properties& props) {
  std::string key;
  for (const auto& [k, v] : props.values()) {
    if (k.rfind("fs.", 0) != 0) continue;
    key += k;
    key += '=';
    key += std::to_string(v.size());  // length-prefixed: no value can fake a separator
    key += ':';
    key += v;
    key += '\n';
  }
  return key;
}

}  // namespace loon::fs
