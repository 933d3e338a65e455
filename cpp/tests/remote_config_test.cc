// Remote (object-store) configurations through the C ABI without any server: bad configurations
// are refused with code 7 naming the key, a store without create-only writes refuses them with 9,
// and a closed port gives a network error (107) quickly instead of a hang.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

struct Props {
  LoonProperties p{nullptr, 0};
  explicit Props(const std::map<std::string, std::string>& kv) {
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : kv) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    CHECK_OK(loon_properties_create(keys.data(), values.data(), keys.size(), &p));
  }
  ~Props() { loon_properties_free(&p); }
};

std::map<std::string, std::string> S3(const std::string& address) {
  return {{"fs.storage_type", "remote"}, {"fs.cloud_provider", "aws"}, {"fs.address", address},
          {"fs.bucket_name", "bucket-x"}, {"fs.access_key_id", "k"},   {"fs.access_key_value", "s"},
          {"fs.request_timeout_ms", "1000"}};
}

// Code and message of loon_filesystem_get; frees the handle on success.
int GetCode(const std::map<std::string, std::string>& kv, std::string* message = nullptr) {
  Props props(kv);
  FileSystemHandle h = 0;
  LoonFFIResult r = loon_filesystem_get(&props.p, nullptr, 0, &h);
  int code = r.err_code;
  if (message) *message = r.message ? r.message : "";
  loon_ffi_free_result(&r);
  loon_filesystem_destroy(h);
  return code;
}

void TestMalformedAddresses() {
  for (const char* bad : {"127.0.0.1:port", "http://", "ftp://host:1", "host:1/path", "a b:1", "h:0", "h:70000", ""}) {
    std::string msg;
    int code = GetCode(S3(bad), &msg);
    CHECK_EQ(code, 7);
    if (code == 7) CHECK(msg.find("fs.address") != std::string::npos);
  }
  for (const char* good : {"127.0.0.1:9000", "http://127.0.0.1:9000/", "https://s3.example.com", "minio"}) {
    CHECK_EQ(GetCode(S3(good)), 0);
  }
}

void TestMissingKeys() {
  auto kv = S3("127.0.0.1:9000");
  kv.erase("fs.bucket_name");
  std::string msg;
  CHECK_EQ(GetCode(kv, &msg), 7);
  CHECK(msg.find("fs.bucket_name") != std::string::npos);

  std::map<std::string, std::string> azure = {{"fs.storage_type", "remote"}, {"fs.cloud_provider", "azure"},
                                              {"fs.address", "127.0.0.1:10000"}, {"fs.bucket_name", "c"}};
  CHECK_EQ(GetCode(azure), 7);  // no account name
  azure["fs.access_key_id"] = "acct";
  azure["fs.access_key_value"] = "not base64!";
  CHECK_EQ(GetCode(azure), 7);
  azure.erase("fs.access_key_value");  // token credentials over http would abort inside the Azure SDK
  CHECK_EQ(GetCode(azure), 7);
}

int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);  // bound then closed: nothing listens there
  return ntohs(addr.sin_port);
}

void TestUnreachableEndpoint() {
  std::string address = "127.0.0.1:" + std::to_string(ClosedPort());
  Props props(S3(address));
  FileSystemHandle h = 0;
  CHECK_OK(loon_filesystem_get(&props.p, nullptr, 0, &h));
  auto start = std::chrono::steady_clock::now();
  const std::string path = "k", data = "x";
  LoonFFIResult r = loon_filesystem_write_file(h, path.data(), 1, reinterpret_cast<const uint8_t*>(data.data()), 1,
                                               nullptr, 0);
  CHECK(r.err_code == 107 || r.err_code == 108);
  CHECK(r.message != nullptr && std::string(r.message).find(address) != std::string::npos);
  loon_ffi_free_result(&r);
  // The conditional publish goes through libcurl: refused connection -> 107 as well.
  FileSystemWriterHandle w = 0;
  CHECK_OK(loon_filesystem_open_writer(h, path.data(), 1, nullptr, 0, true, &w));
  CHECK_OK(loon_filesystem_writer_write(w, reinterpret_cast<const uint8_t*>(data.data()), 1));
  CHECK_CODE(loon_filesystem_writer_close(w), 107);
  loon_filesystem_writer_destroy(w);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(60));
  loon_filesystem_destroy(h);
}

void TestHuaweiRefusesCreateOnly() {
  auto kv = S3("127.0.0.1:9");
  kv["fs.cloud_provider"] = "huawei";
  Props props(kv);
  FileSystemHandle h = 0;
  CHECK_OK(loon_filesystem_get(&props.p, nullptr, 0, &h));
  FileSystemWriterHandle w = 0;
  CHECK_OK(loon_filesystem_open_writer(h, "k", 1, nullptr, 0, true, &w));
  CHECK_CODE(loon_filesystem_writer_close(w), 9);
  loon_filesystem_writer_destroy(w);
  loon_filesystem_destroy(h);
}

}  // namespace

int main() {
  TestMalformedAddresses();
  TestMissingKeys();
  TestUnreachableEndpoint();
  TestHuaweiRefusesCreateOnly();
  return TestMain("remote_config_test");
}
