#include "exttable/exttable.h"

#include <arrow/filesystem/filesystem.h>
#include <arrow/util/io_util.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "common/column_groups.h"
#include "common/status.h"
#include "filesystem/fs.h"
#include "transaction/transaction.h"

namespace loon::exttable {

namespace {

// Explore commits with FAIL and one extra attempt after a lost create-only race (ffi_c.h 2.9 external table).
constexpr int32_t kExploreResolve = 0;
constexpr uint32_t kExploreRetries = 1;

std::string TrimTrailingSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Keeps an explicit code and ENOENT (-> 12); everything else becomes `code`.
arrow::Status WithFallback(const arrow::Status& st, int code, const std::string& context) {
  if (st.ok() || CodeOf(st) != 0 || arrow::internal::ErrnoFromStatus(st) == ENOENT) return st;
  std::string message = context + ": " + st.message();
  if (st.detail()) message += " (" + st.detail()->ToString() + ")";
  return CodedError(code, message);
}

}  // namespace

arrow::Status CheckFormat(const std::string& format) {
  if (format == "parquet") return arrow::Status::OK();
  if (format == "vortex" || format == "lance-table") {
    return CodedError(kInvalidArgs, "format '" + format +
                                        "' is not supported by this engine (milvus-storage reads it through "
                                        "its Rust libraries; this engine has no " +
                                        (format == "vortex" ? std::string("Vortex") : std::string("Lance")) +
                                        " reader)");
  }
  return CodedError(kInvalidArgs, "unknown external table format '" + format +
                                      "' (known: parquet; vortex and lance-table are not supported by this engine)");
}

arrow::Result<std::string> ExternalUri(const Properties& props, const std::string& fs_path) {
  std::string type = props.GetString("fs.storage_type");
  if (type != "local") {
    return CodedError(kNotSupport, "external file URIs for storage type '" + type +
                                       "' are not supported by this engine build yet");
  }
  return "local:///local/" + fs::NormalizePath(fs_path);
}

arrow::Result<ExploreResult> Explore(const std::vector<std::string>& columns, const std::string& format,
                                     const std::string& base_dir, const std::string& explore_dir,
                                     const Properties& props) {
  if (columns.empty()) return CodedError(kInvalidArgs, "explore needs at least one column");
  std::set<std::string> seen;
  for (const auto& c : columns) {
    if (c.empty()) return CodedError(kInvalidArgs, "explore: empty column name");
    if (!seen.insert(c).second) return CodedError(kInvalidArgs, "explore: column '" + c + "' is named twice");
  }
  ARROW_RETURN_NOT_OK(CheckFormat(format));
  if (base_dir.empty()) return CodedError(kInvalidArgs, "explore: base_dir is empty");

  // 1. List the regular files directly inside explore_dir.
  auto resolved = fs::Resolve(props, explore_dir);
  if (!resolved.ok()) return WithFallback(resolved.status(), kArrow, "explore_dir '" + explore_dir + "'");
  auto dir_info = resolved->fs->GetFileInfo(resolved->path);
  if (!dir_info.ok()) return WithFallback(dir_info.status(), kArrow, "explore_dir '" + explore_dir + "'");
  if (dir_info->type() == arrow::fs::FileType::NotFound) {
    return CodedError(kFileNotFound, "explore_dir '" + explore_dir + "' does not exist");
  }
  if (dir_info->type() != arrow::fs::FileType::Directory) {
    return CodedError(kArrow, "explore_dir '" + explore_dir + "' is not a directory");
  }
  arrow::fs::FileSelector selector;
  selector.base_dir = resolved->path;
  selector.recursive = false;
  selector.allow_not_found = false;
  auto listed = resolved->fs->GetFileInfo(selector);
  if (!listed.ok()) return WithFallback(listed.status(), kArrow, "cannot list '" + explore_dir + "'");
  std::vector<std::string> names;
  for (const auto& entry : *listed) {
    if (entry.type() == arrow::fs::FileType::File) names.push_back(entry.base_name());
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    return CodedError(kLogical, "explore_dir '" + explore_dir + "' holds no regular files; nothing was committed");
  }

  // 2. One column group: every file as a URI with the unknown range [-1, -1) and no properties.
  ColumnGroup group;
  group.columns = columns;
  group.format = format;
  std::string prefix;
  if (fs::HasScheme(explore_dir)) {
    // Already a URI (matched by extfs.*): keep its scheme, address and bucket.
    std::string uri = explore_dir.substr(0, explore_dir.find('?'));
    prefix = TrimTrailingSlashes(uri);
  } else {
    ARROW_ASSIGN_OR_RAISE(prefix, ExternalUri(props, resolved->path));
    prefix = TrimTrailingSlashes(prefix);
  }
  for (const auto& name : names) {
    ColumnGroupFile file;
    file.path = prefix.back() == '/' ? prefix + name : prefix + "/" + name;
    file.start_index = -1;
    file.end_index = -1;
    group.files.push_back(std::move(file));
  }

  // 3. Commit it to base_dir as appended files.
  auto txn = transaction::Transaction::Begin(base_dir, props, -1, kExploreResolve, kExploreRetries);
  if (!txn.ok()) return WithFallback(txn.status(), kLogical, "explore: cannot begin a transaction on '" + base_dir + "'");
  (*txn)->AppendFiles({std::move(group)});
  auto version = (*txn)->Commit();
  if (!version.ok()) return WithFallback(version.status(), kLogical, "explore: commit to '" + base_dir + "' failed");

  ExploreResult out;
  out.num_files = names.size();
  out.version = *version;
  out.manifest_path = TrimTrailingSlashes(base_dir) + "/_metadata/manifest-" + std::to_string(*version) + ".avro";
  if (out.manifest_path.rfind("//", 0) == 0) out.manifest_path.erase(0, 1);  // base_dir "/" -> "/_metadata/..."
  return out;
}

arrow::Result<int64_t> FileRows(const std::string& format, const std::string& file_path, const Properties& props) {
  ARROW_RETURN_NOT_OK(CheckFormat(format));
  if (file_path.empty()) return CodedError(kInvalidArgs, "file_path is empty");
  ARROW_ASSIGN_OR_RAISE(auto resolved, fs::Resolve(props, file_path));
  ARROW_ASSIGN_OR_RAISE(auto info, resolved.fs->GetFileInfo(resolved.path));
  if (info.type() == arrow::fs::FileType::NotFound) {
    return CodedError(kFileNotFound, "external file '" + file_path + "' does not exist");
  }
  if (info.type() == arrow::fs::FileType::Directory) {
    return CodedError(kInvalidArgs, "'" + file_path + "' is a directory, not a " + format + " file");
  }
  auto input = resolved.fs->OpenInputFile(resolved.path);
  if (!input.ok()) {
    return input.status().WithMessage("cannot open external file '", file_path, "': ", input.status().message());
  }
  std::shared_ptr<parquet::FileMetaData> metadata;
  try {
    // ParquetFileReader::Open reports a damaged footer by throwing parquet::ParquetException.
    auto reader = parquet::ParquetFileReader::Open(*input);
    metadata = reader->metadata();
  } catch (const std::exception& e) {
    return arrow::Status::IOError("cannot read the Parquet footer of '", file_path, "': ", e.what());
  }
  int64_t rows = 0;
  for (int rg = 0; rg < metadata->num_row_groups(); ++rg) rows += metadata->RowGroup(rg)->num_rows();
  return rows;
}

}  // namespace loon::exttable
