// 2.9 external table: explore, file row counts, reading a manifest file by path.
// The work happens in exttable/exttable.h; these shims check arguments and map codes (rule 1.4).
#include <string>
#include <vector>

#include "common/properties.h"
#include "common/status.h"
#include "exttable/exttable.h"
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

LoonFFIResult loon_exttable_explore(const char** columns, size_t col_lens, const char* format, const char* base_dir,
                                    const char* explore_dir, const LoonProperties* properties,
                                    uint64_t* out_num_of_files, char** out_column_groups_file_path) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(columns != nullptr, "columns is NULL");
    LOON_REQUIRE_ARG(col_lens > 0, "col_lens is 0");
    LOON_REQUIRE_ARG(format != nullptr, "format is NULL");
    LOON_REQUIRE_ARG(base_dir != nullptr, "base_dir is NULL");
    LOON_REQUIRE_ARG(explore_dir != nullptr, "explore_dir is NULL");
    LOON_REQUIRE_ARG(properties != nullptr, "properties is NULL");
    LOON_REQUIRE_ARG(out_num_of_files != nullptr, "out_num_of_files is NULL");
    LOON_REQUIRE_ARG(out_column_groups_file_path != nullptr, "out_column_groups_file_path is NULL");
    *out_num_of_files = 0;
    *out_column_groups_file_path = nullptr;
    std::vector<std::string> names;
    for (size_t i = 0; i < col_lens; ++i) {
      LOON_REQUIRE_ARG(columns[i] != nullptr, "a column name is NULL");
      names.emplace_back(columns[i]);
    }
    // Format before properties: an unknown or unsupported format is code 1 whatever else is wrong.
    if (auto st = loon::exttable::CheckFormat(format); !st.ok()) return loon::ToFFIResult(st, loon::kInvalidArgs);
    auto props = loon::Properties::FromC(properties);
    if (!props.ok()) return loon::ToFFIResult(props.status(), loon::kInvalidProperties);
    auto explored = loon::exttable::Explore(names, format, base_dir, explore_dir, *props);
    if (!explored.ok()) return loon::ToFFIResult(explored.status(), loon::kLogical);
    char* path = loon::MallocString(explored->manifest_path);
    if (path == nullptr) return loon::MakeFFIError(loon::kMemory, "out of memory");
    *out_num_of_files = explored->num_files;
    *out_column_groups_file_path = path;
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_exttable_get_file_info(const char* format, const char* file_path, const LoonProperties* properties,
                                          uint64_t* out_num_of_rows) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(format != nullptr, "format is NULL");
    LOON_REQUIRE_ARG(file_path != nullptr, "file_path is NULL");
    LOON_REQUIRE_ARG(properties != nullptr, "properties is NULL");
    LOON_REQUIRE_ARG(out_num_of_rows != nullptr, "out_num_of_rows is NULL");
    *out_num_of_rows = 0;
    if (auto st = loon::exttable::CheckFormat(format); !st.ok()) return loon::ToFFIResult(st, loon::kInvalidArgs);
    auto props = loon::Properties::FromC(properties);
    if (!props.ok()) return loon::ToFFIResult(props.status(), loon::kInvalidProperties);
    auto rows = loon::exttable::FileRows(format, file_path, *props);
    if (!rows.ok()) return loon::ToFFIResult(rows.status(), loon::kArrow);
    *out_num_of_rows = static_cast<uint64_t>(*rows);
    return loon::FFISuccess();
  })
}

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
    auto m = loon::manifest::ReadManifestFile(fs.get(), resolved->path, Grandparent(path),
                                              props->GetBool("reader.metadata_cache.enable"));
    if (!m.ok()) return loon::ToFFIResult(m.status(), loon::kArrow);
    *out_manifest = loon::manifest::NewManifestC(**m);
    return loon::FFISuccess();
  })
}

}  // extern "C"
