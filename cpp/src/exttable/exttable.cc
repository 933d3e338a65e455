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
#include "exttable/provider_registry.h"
#include "filesystem/fs.h"
#include "filesystem/remote_config.h"
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

// The regular files directly inside a directory, in name order.
arrow::Result<std::vector<ProviderEntry>> ListRegularFiles(const fs::ResolvedPath& dir, const std::string& explore_dir) {
  arrow::fs::FileSelector selector;
  selector.base_dir = dir.path;
  selector.recursive = false;
  selector.allow_not_found = false;
  auto listed = dir.fs->GetFileInfo(selector);
  if (!listed.ok()) return WithFallback(listed.status(), kArrow, "cannot list '" + explore_dir + "'");
  std::vector<ProviderEntry> entries;
  for (const auto& entry : *listed) {
    if (entry.type() == arrow::fs::FileType::File) entries.push_back({entry.base_name(), -1, -1});
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return entries;
}

// A provider's listing, checked: plain files (in name order) must be base names, fragments need
// a row count; files and fragments do not mix.
arrow::Result<std::vector<ProviderEntry>> ListThroughProvider(const std::string& format, const fs::ResolvedPath& dir,
                                                              const Properties& props) {
  auto provider = FindProvider(format);
  if (!provider) return CheckFormat(format);  // unregistered meanwhile
  ARROW_ASSIGN_OR_RAISE(ProviderLocation location, LocateForProvider(dir));
  ARROW_ASSIGN_OR_RAISE(auto entries, provider->List(location, props));
  size_t fragments = 0;
  std::set<int64_t> ids;
  std::set<std::string> names;
  for (const auto& e : entries) {
    std::string bad;
    if (e.fragment_id >= 0) {
      ++fragments;
      if (e.num_rows < 0) bad = "fragment " + std::to_string(e.fragment_id) + " without a row count";
      if (!ids.insert(e.fragment_id).second) bad = "fragment " + std::to_string(e.fragment_id) + " listed twice";
    } else {
      if (e.name.empty() || e.name == "." || e.name == ".." || e.name.find('/') != std::string::npos) {
        bad = "entry '" + e.name + "' is not a file name";
      } else if (!names.insert(e.name).second) {
        bad = "file '" + e.name + "' listed twice";
      }
    }
    if (bad.empty() && fragments != 0 && fragments != ids.size()) bad = "duplicate fragments";
    if (!bad.empty()) {
      return CodedError(kArrow, "format provider '" + format + "' listed '" + location.uri + "' wrongly: " + bad);
    }
  }
  if (fragments != 0 && fragments != entries.size()) {
    return CodedError(kArrow, "format provider '" + format + "' listed both files and fragments in '" + location.uri +
                                  "'");
  }
  if (fragments == 0) {
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  return entries;
}

// Rows of one file or fragment ("<dataset>?fragment_id=<n>") as the format's provider counts them.
arrow::Result<int64_t> ProviderFileRows(const std::string& format, const std::string& file_path,
                                        const Properties& props) {
  auto provider = FindProvider(format);
  if (!provider) return CheckFormat(format);  // unregistered meanwhile
  ARROW_ASSIGN_OR_RAISE(auto split, SplitFragment(file_path));
  ARROW_ASSIGN_OR_RAISE(auto resolved, fs::Resolve(props, split.first));
  ARROW_ASSIGN_OR_RAISE(auto info, resolved.fs->GetFileInfo(resolved.path));
  if (info.type() == arrow::fs::FileType::NotFound) {
    return CodedError(kFileNotFound, "external " + format + " data '" + split.first + "' does not exist");
  }
  if (info.type() == arrow::fs::FileType::Directory && !provider->lists()) {
    // A provider without list() reads plain files (as Parquet): on object stores a directory is
    // only a key prefix, which the provider would report as missing.
    return CodedError(kInvalidArgs, "'" + file_path + "' is a directory, not a " + format + " file");
  }
  ARROW_ASSIGN_OR_RAISE(ProviderLocation location, LocateForProvider(resolved));
  return provider->Describe(location, split.second, props, nullptr);
}

}  // namespace

arrow::Status CheckFormat(const std::string& format) {
  if (format == "parquet") return arrow::Status::OK();
  if (FindProvider(format) != nullptr) return arrow::Status::OK();
  if (format == "vortex" || format == "lance-table") {
    return CodedError(kInvalidArgs, "format '" + format +
                                        "' is not supported by this engine (milvus-storage reads it through "
                                        "its Rust libraries; this engine reads it only through a registered " +
                                        (format == "vortex" ? std::string("Vortex") : std::string("Lance")) +
                                        " format provider, and none is registered)");
  }
  return CodedError(kInvalidArgs, "unknown external table format '" + format +
                                      "' (known: parquet and formats with a registered provider)");
}

arrow::Result<std::string> ExternalUri(const Properties& props, const std::string& fs_path) {
  std::string type = props.GetString("fs.storage_type");
  if (type == "remote") {
    // <filesystem type>://<fs.address>/<bucket>/<key>, the form extfs.* aliases resolve.
    ARROW_ASSIGN_OR_RAISE(auto config, fs::ParseRemoteConfig(props));
    const char* scheme = config.protocol == fs::Protocol::kGcs     ? "gcs"
                         : config.protocol == fs::Protocol::kAzure ? "abfs"
                                                                   : "s3";
    return std::string(scheme) + "://" + config.host + "/" + config.bucket + "/" + fs::NormalizePath(fs_path);
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

  // 1. List what explore_dir holds: its regular files (Parquet), or what the format's provider reports.
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
  std::vector<ProviderEntry> entries;
  auto provider = format == "parquet" ? nullptr : FindProvider(format);
  if (format == "parquet" || (provider && !provider->lists())) {
    // Parquet, and formats whose provider leaves listing to the engine (plain files: Vortex).
    ARROW_ASSIGN_OR_RAISE(entries, ListRegularFiles(*resolved, explore_dir));
  } else {
    ARROW_ASSIGN_OR_RAISE(entries, ListThroughProvider(format, *resolved, props));
  }

  // 2. One column group: plain files as URIs with the unknown range [-1, -1) (or the provider's
  // row count) and no properties; fragments as "<dataset-uri>?fragment_id=<n>" with [0, rows).
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
  for (const auto& entry : entries) {
    ColumnGroupFile file;
    if (entry.fragment_id >= 0) {
      file.path = prefix + "?fragment_id=" + std::to_string(entry.fragment_id);
      file.start_index = 0;
      file.end_index = entry.num_rows;
    } else {
      file.path = prefix.back() == '/' ? prefix + entry.name : prefix + "/" + entry.name;
      file.start_index = -1;
      file.end_index = -1;
    }
    group.files.push_back(std::move(file));
  }

  // 3. Commit it to base_dir as appended files.
  auto txn = transaction::Transaction::Begin(base_dir, props, -1, kExploreResolve, kExploreRetries);
  if (!txn.ok()) return WithFallback(txn.status(), kLogical, "explore: cannot begin a transaction on '" + base_dir + "'");
  (*txn)->AppendFiles({std::move(group)});
  auto version = (*txn)->Commit();
  if (!version.ok()) return WithFallback(version.status(), kLogical, "explore: commit to '" + base_dir + "' failed");

  ExploreResult out;
  out.num_files = entries.size();
  out.version = *version;
  out.manifest_path = TrimTrailingSlashes(base_dir) + "/_metadata/manifest-" + std::to_string(*version) + ".avro";
  if (out.manifest_path.rfind("//", 0) == 0) out.manifest_path.erase(0, 1);  // base_dir "/" -> "/_metadata/..."
  return out;
}

arrow::Result<int64_t> FileRows(const std::string& format, const std::string& file_path, const Properties& props) {
  ARROW_RETURN_NOT_OK(CheckFormat(format));
  if (file_path.empty()) return CodedError(kInvalidArgs, "file_path is empty");
  if (format != "parquet") return ProviderFileRows(format, file_path, props);
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
