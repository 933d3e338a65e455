// C++ model of a dataset manifest (README "Storage layout and the commit protocol" and "Manifest files"), its on-disk codec and its C form (ffi_c.h 3.4 manifest).
//
// In memory, paths are always in "full" form: root-relative with the base prefix restored (what
// the FFI returns). StoredForm()/FullForm() apply the path rules (README "Manifest files") at the disk boundary.
#pragma once

#include <arrow/buffer.h>
#include <arrow/result.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/column_groups.h"
#include "milvus-storage/ffi_c.h"

namespace loon::manifest {

struct DeltaLog {
  std::string path;
  int32_t type = 0;  // 0 = primary-key deletes (the only type exported to C)
  int64_t num_entries = 0;
  bool operator==(const DeltaLog&) const = default;
};

struct Statistics {
  std::vector<std::string> paths;
  std::map<std::string, std::string> metadata;
  bool operator==(const Statistics&) const = default;
};

struct IndexInfo {
  std::string column_name;
  std::string index_name;
  std::string index_type;
  std::string path;
  int64_t field_id = 0;
  int64_t index_id = 0;
  int64_t build_id = 0;
  int64_t index_version = 0;
  int64_t num_rows = 0;
  int64_t serialized_size = 0;
  int64_t mem_size = 0;
  int32_t current_index_version = 0;
  int32_t current_scalar_index_version = 0;
  int32_t index_store_path_version = 0;
  std::vector<std::string> index_file_keys;
  std::map<std::string, std::string> properties;
  bool operator==(const IndexInfo&) const = default;
};

struct LobFileInfo {
  std::string path;
  int64_t field_id = 0;
  int64_t total_rows = 0;
  int64_t valid_rows = 0;
  int64_t file_size_bytes = 0;
  bool operator==(const LobFileInfo&) const = default;
};

struct Manifest {
  ColumnGroupList column_groups;
  std::vector<DeltaLog> delta_logs;           // commit order
  std::map<std::string, Statistics> stats;    // sorted by key
  std::vector<IndexInfo> indexes;
  std::vector<LobFileInfo> lob_files;
  bool operator==(const Manifest&) const = default;
};

// Path rules (README "Manifest files": paths): strip "<base>/_data/" etc. on write; re-prefix
// relative paths on read. Each path kind has its own directory.
enum class PathKind { kData, kDelta, kStats, kIndex, kLob };
struct PathDir;

class PathRules {
 public:
  explicit PathRules(const std::string& base);
  ~PathRules();
  std::string Stored(PathKind kind, const std::string& full) const;
  std::string Full(PathKind kind, const std::string& stored) const;
  // Stored(kind, full) as a view into `full` when it is a suffix of it, else into `*scratch`.
  std::string_view StoredView(PathKind kind, const std::string& full, std::string* scratch) const;
  // *path = Full(kind, Stored(kind, *path)), without allocating when that changes nothing.
  void RoundTrip(PathKind kind, std::string* path) const;

 private:
  struct Dirs;
  const PathDir& DirOf(PathKind kind) const;
  std::unique_ptr<Dirs> dirs_;
};

// Every path of the manifest rewritten (in place on the argument: pass an rvalue to avoid a copy).
Manifest StoredForm(Manifest full, const std::string& base);
Manifest FullForm(Manifest stored, const std::string& base);
// Every path as writing and reading back `m` gives it (a relative path gains its directory).
void RoundTripPaths(Manifest* m, const std::string& base);

// Avro Object Container File (README "Manifest files") holding exactly one Manifest record.
arrow::Result<std::shared_ptr<arrow::Buffer>> Serialize(const Manifest& stored);
// The same bytes for a manifest in full form, its paths stored relative to `base` on the way.
arrow::Result<std::shared_ptr<arrow::Buffer>> SerializeFullForm(const Manifest& full, const std::string& base);
// Container or legacy raw v1-v6 (README "Manifest files": legacy); every failure is a clean IOError naming `name`.
arrow::Result<Manifest> Parse(const uint8_t* data, int64_t size, const std::string& name);

// The exact writer schema JSON (README "Manifest files").
const std::string& SchemaJson();

// malloc'ed LoonManifest (all five sections), released by FreeManifestC / loon_manifest_destroy.
LoonManifest* NewManifestC(const Manifest& m);
void FreeManifestC(LoonManifest* m);
std::string DebugString(const LoonManifest& m);

}  // namespace loon::manifest
