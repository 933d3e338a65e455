// Filesystem resolution from `fs.*` properties (spec 1.8, 4.4). Every engine module gets its
// arrow::fs::FileSystem here; paths given to it are fs-root-relative ("/x" means "<root>/x").
#pragma once

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <memory>
#include <string>

#include "common/properties.h"

namespace loon::fs {

// The filesystem selected by the `fs.*` keys of `props` (process-wide cache by configuration).
arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> GetFileSystem(const Properties& props);

struct ResolvedPath {
  std::shared_ptr<arrow::fs::FileSystem> fs;
  std::string path;  // path inside `fs`
};

// Resolves `path`: a URI (scheme://address/bucket/key) goes to the matching `extfs.<alias>.*`
// filesystem, anything else to GetFileSystem(props) with the leading '/' dropped.
arrow::Result<ResolvedPath> Resolve(const Properties& props, const std::string& path);

// Drops leading slashes so the path stays inside the filesystem root.
std::string NormalizePath(const std::string& path);
// Joins two path parts with exactly one '/'.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace loon::fs
