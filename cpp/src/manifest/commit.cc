#include "manifest/commit.h"

#include <arrow/io/interfaces.h>

#include <mutex>
#include <unordered_map>

#include "common/metadata_cache.h"
#include "common/status.h"

namespace loon::manifest {

std::string MetadataDir(const std::string& base) { return fs::JoinPath(fs::NormalizePath(base), "_metadata"); }

std::string ManifestPath(const std::string& base, int64_t version) {
  return fs::JoinPath(MetadataDir(base), "manifest-" + std::to_string(version) + ".avro");
}

int64_t ParseManifestFileName(const std::string& file_name) {
  static const std::string prefix = "manifest-", suffix = ".avro";
  if (file_name.size() <= prefix.size() + suffix.size()) return -1;
  if (file_name.compare(0, prefix.size(), prefix) != 0) return -1;
  if (file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) != 0) return -1;
  std::string digits = file_name.substr(prefix.size(), file_name.size() - prefix.size() - suffix.size());
  if (digits.size() > 18) return -1;  // keeps the value inside int64
  int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

namespace {

// Latest version seen per dataset (filesystem description + metadata directory), the start of
// the next look-up's probe.
class LatestVersions {
 public:
  static LatestVersions& Instance() {
    static LatestVersions* versions = new LatestVersions();  // never destroyed
    return *versions;
  }
  int64_t Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = known_.find(key);
    return it == known_.end() ? 0 : it->second;
  }
  void Set(const std::string& key, int64_t version) {
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.size() >= kMaxDatasets && known_.find(key) == known_.end()) known_.clear();
    known_[key] = version;
  }

 private:
  static constexpr size_t kMaxDatasets = 4096;
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> known_;
};

arrow::Result<bool> IsVersionFile(fs::LoonFileSystem* fs, const std::string& base, int64_t version) {
  ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(ManifestPath(base, version)));
  return info.type() == arrow::fs::FileType::File;
}

// Parsed manifests take a few times their encoded size.
int64_t ManifestCharge(int64_t encoded_size) { return 4 * encoded_size + 1024; }

arrow::Result<int64_t> ListLatestVersion(fs::LoonFileSystem* fs, const std::string& base) {
  arrow::fs::FileSelector sel;
  sel.base_dir = MetadataDir(base);
  sel.allow_not_found = true;
  sel.recursive = false;
  ARROW_ASSIGN_OR_RAISE(auto entries, fs->GetFileInfo(sel));
  int64_t latest = 0;
  for (const auto& e : entries) {
    if (e.type() != arrow::fs::FileType::File) continue;
    int64_t v = ParseManifestFileName(e.base_name());
    if (v > latest) latest = v;
  }
  return latest;
}

}  // namespace

arrow::Result<int64_t> LatestVersion(fs::LoonFileSystem* fs, const std::string& base) {
  // Versions are published one after the other (v exists before anyone can publish v + 1), so
  // from a version known to exist the latest is found by probing upward: two stats for a
  // dataset nobody else committed to, however long its history. A cached version that is gone
  // (dataset removed or rolled back) sends us back to listing the directory.
  const std::string key = fs->description() + "\n" + MetadataDir(base);
  int64_t known = LatestVersions::Instance().Get(key);
  if (known > 0) {
    ARROW_ASSIGN_OR_RAISE(bool present, IsVersionFile(fs, base, known));
    if (present) {
      while (true) {
        ARROW_ASSIGN_OR_RAISE(bool next, IsVersionFile(fs, base, known + 1));
        if (!next) break;
        ++known;
      }
      LatestVersions::Instance().Set(key, known);
      return known;
    }
  }
  ARROW_ASSIGN_OR_RAISE(int64_t listed, ListLatestVersion(fs, base));
  LatestVersions::Instance().Set(key, listed);
  return listed;
}

namespace {

// Parsed versions are cached in full form, so the key names the base the paths were restored
// against as well as the file.
std::string ManifestCacheKey(const fs::LoonFileSystem& fs, const arrow::fs::FileInfo& info,
                             const std::string& display_base) {
  std::string key = FileCacheKey("manifest", fs, info);
  return key.empty() ? key : key + "\n" + display_base;
}

// The bytes of one manifest file; a failure names the file (object-store errors name only the
// request) and keeps its code.
arrow::Result<std::shared_ptr<arrow::Buffer>> ReadWhole(fs::LoonFileSystem* fs, const std::string& path) {
  auto read = [&]() -> arrow::Result<std::shared_ptr<arrow::Buffer>> {
    ARROW_ASSIGN_OR_RAISE(auto file, fs->OpenInputFile(path));
    ARROW_ASSIGN_OR_RAISE(int64_t size, file->GetSize());
    ARROW_ASSIGN_OR_RAISE(auto buf, file->ReadAt(0, size));
    (void)file->Close();
    if (buf->size() != size) return arrow::Status::IOError("short read: ", buf->size(), " of ", size, " bytes");
    return buf;
  };
  auto result = read();
  if (result.ok() || result.status().message().find(path) != std::string::npos) return result;
  return result.status().WithMessage("reading manifest '", path, "': ", result.status().message());
}

}  // namespace

arrow::Result<std::shared_ptr<const Manifest>> ReadManifestFile(fs::LoonFileSystem* fs, const std::string& path,
                                                                const std::string& display_base, bool use_cache) {
  // Versions are immutable once published: a parsed version is reused while the file keeps its
  // size and modification time (one stat instead of a read and a parse).
  std::string key;
  if (use_cache) {
    auto info = fs->GetFileInfo(path);
    if (info.ok()) key = ManifestCacheKey(*fs, *info, display_base);
    if (!key.empty()) {
      if (auto cached = MetadataCache::Instance().Find<Manifest>(key)) return cached;
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto buf, ReadWhole(fs, path));
  int64_t size = buf->size();
  ARROW_ASSIGN_OR_RAISE(auto stored, Parse(buf->data(), buf->size(), path));
  auto parsed = std::make_shared<const Manifest>(FullForm(std::move(stored), display_base));
  if (!key.empty()) MetadataCache::Instance().Insert<Manifest>(key, parsed, ManifestCharge(size));
  return parsed;
}

arrow::Status WriteVersion(fs::LoonFileSystem* fs, const std::string& base, const std::string& display_base,
                           int64_t version, std::shared_ptr<const Manifest> m, bool use_cache) {
  ARROW_ASSIGN_OR_RAISE(auto bytes, SerializeFullForm(*m, display_base));
  const std::string path = ManifestPath(base, version);
  ARROW_RETURN_NOT_OK(fs->PutIfAbsent(path, bytes));
  if (use_cache) {
    // The next commit in this process builds on this version: keep what reading it would give,
    // keyed on the file as storage now reports it (a file replaced later has another key).
    auto info = fs->GetFileInfo(path);
    if (info.ok() && info->size() == bytes->size()) {
      std::string key = ManifestCacheKey(*fs, *info, display_base);
      if (!key.empty()) MetadataCache::Instance().Insert<Manifest>(key, std::move(m), ManifestCharge(bytes->size()));
    }
  }
  return arrow::Status::OK();
}

}  // namespace loon::manifest
