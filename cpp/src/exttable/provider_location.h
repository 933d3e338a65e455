// Where a format provider finds a resolved path (ffi_format_provider.h "Locations"): the URI the
// formats' libraries open and the storage options (object_store configuration keys) that reach
// the same store, with the same endpoint and credentials, as the engine's filesystem.
#pragma once

#include <arrow/result.h>

#include <string>
#include <utility>
#include <vector>

#include "filesystem/fs.h"
#include "filesystem/remote_config.h"
#include "milvus-storage/ffi_format_provider.h"

namespace loon::exttable {

struct ProviderLocation {
  std::string uri;
  std::vector<std::pair<std::string, std::string>> storage_options;
};

// The location of `resolved` (a path inside one of the engine's filesystems): local storage gives
// the absolute OS path; object stores give a URI and options. Configurations the options cannot
// express: CodedError(kNotSupport) naming the key.
arrow::Result<ProviderLocation> LocateForProvider(const fs::ResolvedPath& resolved);

// The object-store part of LocateForProvider: `key` inside the bucket (container) of `config`.
arrow::Result<ProviderLocation> LocateInStore(const fs::RemoteConfig& config, const std::string& key);

// A LoonFormatLocation view of a ProviderLocation (pointers into it: valid while it lives).
class CLocation {
 public:
  explicit CLocation(const ProviderLocation& location);
  CLocation(const CLocation&) = delete;
  CLocation& operator=(const CLocation&) = delete;
  const LoonFormatLocation* get() const { return &c_; }

 private:
  std::vector<LoonProperty> items_;
  LoonProperties options_{};
  LoonFormatLocation c_{};
};

}  // namespace loon::exttable
