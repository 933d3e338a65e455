// Shared helpers of the manifest and transaction tests (C ABI only).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fake_column_groups.h"
#include "test_util.h"

struct TestProps {
  LoonProperties p{nullptr, 0};
  explicit TestProps(const std::string& root, std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::string> ks = {"fs.storage_type", "fs.root_path"}, vs = {"local", root};
    for (auto& [k, v] : extra) {
      ks.push_back(k);
      vs.push_back(v);
    }
    std::vector<const char*> kp, vp;
    for (size_t i = 0; i < ks.size(); ++i) {
      kp.push_back(ks[i].c_str());
      vp.push_back(vs[i].c_str());
    }
    CHECK_OK(loon_properties_create(kp.data(), vp.data(), kp.size(), &p));
  }
  ~TestProps() { loon_properties_free(&p); }
};

// RAII transaction handle; destroy without commit = abort.
struct Txn {
  LoonTransactionHandle h = 0;
  int code = -1;
  Txn(const std::string& base, const LoonProperties* props, int64_t version = -1, int32_t resolve = 0,
      uint32_t retries = 0) {
    LoonFFIResult r = loon_transaction_begin(base.c_str(), props, version, resolve, retries, &h);
    code = r.err_code;
    if (r.err_code != 0 && r.message) std::fprintf(stderr, "begin: %s\n", r.message);
    loon_ffi_free_result(&r);
  }
  ~Txn() { loon_transaction_destroy(h); }
  // Commit returning the code; *version set on success.
  int Commit(int64_t* version = nullptr) {
    int64_t v = -1;
    LoonFFIResult r = loon_transaction_commit(h, &v);
    int c = r.err_code;
    loon_ffi_free_result(&r);
    if (version) *version = c == 0 ? v : -1;
    return c;
  }
  int64_t ReadVersion() {
    int64_t v = -99;
    CHECK_OK(loon_transaction_get_read_version(h, &v));
    return v;
  }
};

// RAII manifest from the library.
struct ManifestPtr {
  LoonManifest* m = nullptr;
  ~ManifestPtr() { loon_manifest_destroy(m); }
  LoonManifest* operator->() const { return m; }
};

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void Spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Files of `dir` (names only), empty if absent.
inline std::vector<std::string> ListNames(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  return out;
}
