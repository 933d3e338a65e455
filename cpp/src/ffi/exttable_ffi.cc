// 2.9 external table: reading a manifest file by path.
#include <string>

#include "common/properties.h"
#include "common/status.h"
#include "filesystem/fs.h"
#include "manifest/commit.h"
#include "manifest/manifest.h"
#include "milvus-storage/ffi_c.h"

namespace {

// "<base>/_metadata/manifest-<v>.avro" -> "<base>" (textual, so URIs keep their scheme).
std::string Grandparent(const std::string& path) {
  std::string p = path;
  for (int i = 0; i < 2; ++i) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    size_t pos = p.find_last_of('/');
    if (pos == std::string::npos) return "";
    p = pos == 0 ? "/" : p.substr(0, pos);
  }
  return p;
}

}  // namespace

extern "C" {

LoonFFIResult loon_exttable_read_manifest(const char* manifest_file_path, const LoonProperties* properties,
                                          LoonManifest** out_manifest) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(manifest_file_path != nullptr && manifest_file_path[0] != '\0', "manifest_file_path is NULL");
    LOON_REQUIRE_ARG(properties != nullptr, "properties is NULL");
    LOON_REQUIRE_ARG(out_manifest != nullptr, "out_manifest is NULL");
    *out_manifest = nullptr;
    auto props = loon::Properties::FromC(properties);
    // Upstream reports property errors of this call with its fallback code 3.
    if (!props.ok()) return loon::MakeFFIError(loon::kArrow, props.status().message());
    std::string path = manifest_file_path;
    auto resolved = loon::fs::Resolve(*props, path);
    if (!resolved.ok()) return loon::ToFFIResult(resolved.status(), loon::kArrow);
    auto fs = loon::fs::AsLoon(resolved->fs);
    auto m = loon::manifest::ReadManifestFile(fs.get(), resolved->path, Grandparent(path));
    if (!m.ok()) return loon::ToFFIResult(m.status(), loon::kArrow);
    *out_manifest = loon::manifest::NewManifestC(*m);
    return loon::FFISuccess();
  })
}

}  // extern "C"
