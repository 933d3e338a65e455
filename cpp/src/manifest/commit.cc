#include "manifest/commit.h"

#include <arrow/io/interfaces.h>

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

arrow::Result<int64_t> LatestVersion(fs::LoonFileSystem* fs, const std::string& base) {
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

arrow::Result<Manifest> ReadManifestFile(fs::LoonFileSystem* fs, const std::string& path,
                                         const std::string& display_base) {
  ARROW_ASSIGN_OR_RAISE(auto file, fs->OpenInputFile(path));
  ARROW_ASSIGN_OR_RAISE(int64_t size, file->GetSize());
  ARROW_ASSIGN_OR_RAISE(auto buf, file->ReadAt(0, size));
  (void)file->Close();
  if (buf->size() != size) return arrow::Status::IOError("short read of manifest '", path, "'");
  ARROW_ASSIGN_OR_RAISE(auto stored, Parse(buf->data(), buf->size(), path));
  return FullForm(stored, display_base);
}

arrow::Status WriteVersion(fs::LoonFileSystem* fs, const std::string& base, const std::string& display_base,
                           int64_t version, const Manifest& m) {
  ARROW_ASSIGN_OR_RAISE(auto bytes, Serialize(StoredForm(m, display_base)));
  return fs->PutIfAbsent(ManifestPath(base, version), bytes);
}

}  // namespace loon::manifest
