#include "filesystem/conditional_put.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <vector>

#include "common/status.h"
#include "filesystem/backends.h"

namespace loon::fs {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when `keep_slash`).
std::string UriEncode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += hex[p[i] >> 4];
    out += hex[p[i] & 15];
  }
  return out;
}

std::string Sha256Hex(const uint8_t* data, int64_t size) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(data, static_cast<size_t>(size), md);
  return Hex(md, sizeof(md));
}

std::string Base64(const unsigned char* p, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(len);
  return out;
}

arrow::Result<std::string> Base64Decode(const std::string& s) {
  std::string out(s.size(), '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (len < 0) return arrow::Status::Invalid("not base64");
  size_t pad = 0;  // EVP_DecodeBlock counts '=' padding as zero bytes
  for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(len) - pad);
  return out;
}

struct Response {
  long status = 0;
  std::string body;  // first 4 KiB
};

size_t CollectBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* body = static_cast<std::string*>(userdata);
  size_t n = size * nmemb;
  if (body->size() < 4096) body->append(ptr, std::min(n, 4096 - body->size()));
  return n;
}

struct CurlList {
  curl_slist* list = nullptr;
  ~CurlList() { curl_slist_free_all(list); }
  void Add(const std::string& header) { list = curl_slist_append(list, header.c_str()); }
};

class CurlPut : public ConditionalPut {
 public:
  explicit CurlPut(RemoteConfig c) : c_(std::move(c)) { GlobalInit(); }

  arrow::Status PutIfAbsent(const std::string& key, const uint8_t* data, int64_t size) override {
    std::string what = "create-only write of key '" + key + "' [" + c_.Describe() + "]";
    auto response = Send(key, data, size, what);
    if (!response.ok()) return response.status();
    long st = response->status;
    if (st >= 200 && st < 300) return arrow::Status::OK();
    std::string detail = what + ": HTTP " + std::to_string(st) + Excerpt(response->body);
    if (st == 412 || st == 409) return CodedError(kAwsConflict, "an object already exists: " + detail);
    if (st == 401 || st == 403) return CodedError(kAwsAccessDenied, "access denied (check credentials): " + detail);
    if (st == 404) return CodedError(kAwsNotFound, "bucket or container not found: " + detail);
    if (st == 429 || (st == 503 && response->body.find("SlowDown") != std::string::npos)) {
      return CodedError(kTransientThrottling, "throttled: " + detail);
    }
    if (st >= 500) return CodedError(kTransientService, "service error: " + detail);
    return CodedError(kAwsNonRetryable, "refused: " + detail);
  }

 protected:
  // Builds and sends the request; the URL and headers depend on the store.
  virtual arrow::Result<Response> Send(const std::string& key, const uint8_t* data, int64_t size,
                                       const std::string& what) = 0;

  static std::string Excerpt(const std::string& body) {
    if (body.empty()) return "";
    std::string one_line;
    for (char c : body.substr(0, 300)) one_line += (c == '\n' || c == '\r') ? ' ' : c;
    return " (" + one_line + ")";
  }

  // Performs one request with the configured timeouts: connect within fs.request_timeout_ms and
  // abort when no byte moves for as long (no request can hang).
  arrow::Result<Response> Perform(const std::string& method, const std::string& url, CurlList& headers,
                                  const std::string& body, const std::string& what,
                                  const std::string& sigv4 = "", const std::string& userpwd = "") {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return arrow::Status::OutOfMemory("curl_easy_init failed");
    std::unique_ptr<CURL, void (*)(CURL*)> guard(curl, curl_easy_cleanup);
    Response response;
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    if (method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    headers.Add("Expect:");  // no 100-continue round trip
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(c_.request_timeout_ms));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>((c_.request_timeout_ms + 999) / 1000)));
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
    if (!c_.ssl_ca_cert.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, c_.ssl_ca_cert.c_str());
    if (!sigv4.empty()) {
      curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
      curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd.c_str());
    }
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
      std::string msg = what + ": " + (error[0] ? std::string(error) : curl_easy_strerror(rc));
      if (rc == CURLE_OPERATION_TIMEDOUT) return CodedError(kTransientTimeout, "timed out: " + msg);
      if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_SEND_ERROR ||
          rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_SSL_CONNECT_ERROR) {
        return CodedError(kTransientNetwork, "unreachable: " + msg);
      }
      return CodedError(kAwsNonRetryable, msg);
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

  RemoteConfig c_;
};

// S3 and the S3-compatible stores (incl. GCS's XML API with HMAC keys).
class S3Put : public CurlPut {
 public:
  S3Put(RemoteConfig c, std::string precondition) : CurlPut(std::move(c)), precondition_(std::move(precondition)) {}

 protected:
  arrow::Result<Response> Send(const std::string& key, const uint8_t* data, int64_t size,
                               const std::string& what) override {
    ARROW_ASSIGN_OR_RAISE(auto creds, ResolveS3Credentials(c_));
    std::string host = c_.host;
    if (c_.cloud_provider == "aws" && host == "s3.amazonaws.com" && !c_.region.empty()) {
      host = "s3." + c_.region + ".amazonaws.com";
    }
    std::string url = c_.use_virtual_host ? c_.scheme + "://" + c_.bucket + "." + host + "/" + UriEncode(key, true)
                                          : c_.scheme + "://" + host + "/" + c_.bucket + "/" + UriEncode(key, true);
    CurlList headers;
    headers.Add(precondition_);
    headers.Add("Content-Type: application/octet-stream");
    headers.Add("x-amz-content-sha256: " + Sha256Hex(data, size));
    if (!creds.session_token.empty()) headers.Add("x-amz-security-token: " + creds.session_token);
    std::string region = c_.region.empty() ? (c_.cloud_provider == "gcp" ? "auto" : "us-east-1") : c_.region;
    std::string body(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
    if (creds.access_key.empty()) return Perform("PUT", url, headers, body, what);  // anonymous
    return Perform("PUT", url, headers, body, what, "aws:amz:" + region + ":s3",
                   creds.access_key + ":" + creds.secret_key);
  }

 private:
  std::string precondition_;
};

// Azure Blob Put Blob with a SharedKey signature.
class AzurePut : public CurlPut {
 public:
  explicit AzurePut(RemoteConfig c) : CurlPut(std::move(c)) {}

 protected:
  arrow::Result<Response> Send(const std::string& key, const uint8_t* data, int64_t size,
                               const std::string& what) override {
    ARROW_ASSIGN_OR_RAISE(std::string secret, Base64Decode(c_.access_key_value));
    const std::string& account = c_.access_key_id;
    std::string path = "/" + c_.bucket + "/" + UriEncode(key, true);
    if (c_.AzurePathStyle()) path = "/" + account + path;  // emulators address the account in the path
    std::string url = c_.scheme + "://" + c_.AzureBlobHost() + path;

    char date[64];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    const std::string version = "2021-12-02";
    const std::string content_type = "application/octet-stream";
    std::string length = size > 0 ? std::to_string(size) : "";
    // Verb, the 11 standard header slots, the x-ms-* headers (sorted), then the resource.
    std::string to_sign = "PUT\n\n\n" + length + "\n\n" + content_type + "\n\n\n\n*\n\n\n" +
                          "x-ms-blob-type:BlockBlob\nx-ms-date:" + date + "\nx-ms-version:" + version + "\n" +
                          "/" + account + path;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac, &mac_len);

    CurlList headers;
    headers.Add("If-None-Match: *");
    headers.Add("Content-Type: " + content_type);
    headers.Add("x-ms-blob-type: BlockBlob");
    headers.Add(std::string("x-ms-date: ") + date);
    headers.Add("x-ms-version: " + version);
    headers.Add("Authorization: SharedKey " + account + ":" + Base64(mac, mac_len));
    std::string body(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
    return Perform("PUT", url, headers, body, what);
  }
};

// GCS JSON API multipart upload (the only upload type fake-gcs-server checks preconditions on),
// anonymous or with the configured OAuth access token.
class GcsNativePut : public CurlPut {
 public:
  explicit GcsNativePut(RemoteConfig c) : CurlPut(std::move(c)) {}

 protected:
  arrow::Result<Response> Send(const std::string& key, const uint8_t* data, int64_t size,
                               const std::string& what) override {
    std::string url = c_.scheme + "://" + c_.host + "/upload/storage/v1/b/" + UriEncode(c_.bucket, false) +
                      "/o?uploadType=multipart&ifGenerationMatch=0";
    std::string boundary = "loon-boundary-7f3a9c1e";
    std::string name;  // JSON string escaping of the object name
    for (unsigned char ch : key) {
      if (ch == '"' || ch == '\\') {
        name += '\\';
        name += static_cast<char>(ch);
      } else if (ch < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", ch);
        name += buf;
      } else {
        name += static_cast<char>(ch);
      }
    }
    std::string body = "--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"" +
                       name + "\"}\r\n--" + boundary + "\r\nContent-Type: application/octet-stream\r\n\r\n";
    body.append(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
    body += "\r\n--" + boundary + "--\r\n";
    CurlList headers;
    headers.Add("Content-Type: multipart/related; boundary=" + boundary);
    if (c_.GcsAccessToken()) headers.Add("Authorization: Bearer " + c_.access_key_value);
    return Perform("POST", url, headers, body, what);
  }
};

// Not a publisher: reuses the bounded request of CurlPut to see whether the endpoint answers.
class EndpointProbe : public CurlPut {
 public:
  explicit EndpointProbe(RemoteConfig c) : CurlPut(std::move(c)) {}
  arrow::Status Run() {
    CurlList headers;
    return Perform("GET", c_.Endpoint() + "/", headers, "", "probe of the endpoint [" + c_.Describe() + "]").status();
  }

 protected:
  arrow::Result<Response> Send(const std::string&, const uint8_t*, int64_t, const std::string&) override {
    return arrow::Status::Invalid("not a publisher");
  }
};

// Stores where no create-only write can be sent.
class RefusedPut : public ConditionalPut {
 public:
  RefusedPut(std::string reason) : reason_(std::move(reason)) {}
  arrow::Status PutIfAbsent(const std::string& key, const uint8_t*, int64_t) override {
    return CodedError(kNotSupport, "create-only write of key '" + key + "' is not possible: " + reason_);
  }

 private:
  std::string reason_;
};

}  // namespace

arrow::Status ProbeEndpoint(const RemoteConfig& c) { return EndpointProbe(c).Run(); }

std::unique_ptr<ConditionalPut> MakeConditionalPut(const RemoteConfig& c) {
  switch (c.protocol) {
    case Protocol::kAzure:
      if (c.access_key_value.empty()) {
        return std::make_unique<RefusedPut>("azure create-only writes are signed with the account key "
                                            "(fs.access_key_value); token credentials are not supported for them");
      }
      return std::make_unique<AzurePut>(c);
    case Protocol::kGcs:
      if (!c.gcp_target_service_account.empty() ||
          !(c.gcp_native_without_auth || c.GcsAccessToken())) {
        return std::make_unique<RefusedPut>(
            "native GCS create-only writes are sent anonymously (fs.gcp_native_without_auth) or with "
            "an OAuth access token (fs.access_key_value without fs.access_key_id), not with service-account, "
            "impersonated or default credentials; or give HMAC keys (fs.access_key_id, fs.access_key_value) "
            "to commit through GCS's XML API");
      }
      return std::make_unique<GcsNativePut>(c);
    case Protocol::kS3:
      break;
  }
  if (c.cloud_provider == "huawei") {
    return std::make_unique<RefusedPut>("Huawei OBS has no conditional (forbid-overwrite) PUT, and a "
                                        "check-then-write could let two committers publish one version");
  }
  if (c.cloud_provider == "aliyun") return std::make_unique<S3Put>(c, "x-oss-forbid-overwrite: true");
  if (c.cloud_provider == "tencent") return std::make_unique<S3Put>(c, "x-cos-forbid-overwrite: true");
  if (c.cloud_provider == "gcp") return std::make_unique<S3Put>(c, "x-goog-if-generation-match: 0");
  return std::make_unique<S3Put>(c, "If-None-Match: *");
}

}  // namespace loon::fs
