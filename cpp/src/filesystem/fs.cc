#include "filesystem/fs.h"

#include <arrow/filesystem/localfs.h>
#include <arrow/filesystem/path_util.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "common/status.h"

namespace loon::fs {

std::string NormalizePath(const std::string& path) {
  size_t start = path.find_first_not_of('/');
  return start == std::string::npos ? std::string() : path.substr(start);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  std::string left = a;
  while (!left.empty() && left.back() == '/') left.pop_back();
  return left + "/" + NormalizePath(b);
}

namespace {

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> MakeLocal(const std::string& root_path) {
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(root_path, ec);
  if (ec) return arrow::Status::IOError("cannot resolve root path '", root_path, "': ", ec.message());
  if (std::filesystem::exists(root, ec) && !std::filesystem::is_directory(root, ec)) {
    return CodedError(kArrow, "fs.root_path '" + root.string() + "' exists and is not a directory");
  }
  std::filesystem::create_directories(root, ec);
  if (ec) return arrow::Status::IOError("cannot create root path '", root.string(), "': ", ec.message());
  auto local = std::make_shared<arrow::fs::LocalFileSystem>();
  return std::make_shared<arrow::fs::SubTreeFileSystem>(root.lexically_normal().string(), local);
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> GetFileSystem(const Properties& props) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<arrow::fs::FileSystem>> cache;
  std::string type = props.GetString("fs.storage_type");
  if (type != "local") {
    return CodedError(kNotSupport, "storage type '" + type + "' is not supported by this engine build yet");
  }
  std::string key = "local:" + props.GetString("fs.root_path");
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  ARROW_ASSIGN_OR_RAISE(auto fs, MakeLocal(props.GetString("fs.root_path")));
  cache[key] = fs;
  return fs;
}

arrow::Result<ResolvedPath> Resolve(const Properties& props, const std::string& path) {
  if (path.find("://") != std::string::npos) {
    return CodedError(kArrow, "URI paths need an extfs.* configuration: '" + path + "'");
  }
  ARROW_ASSIGN_OR_RAISE(auto fs, GetFileSystem(props));
  return ResolvedPath{fs, NormalizePath(path)};
}

}  // namespace loon::fs
