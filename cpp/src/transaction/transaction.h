// Transactions over manifest versions (ffi_c.h 2.8 transaction; commit protocol in manifest/commit.h).
//
// A transaction snapshots one version at Begin, records edits in memory and applies them at
// Commit, in the fixed order of ffi_c.h 2.8 transaction: dropped columns, validation of added groups,
// validation of appended files, index changes, delta logs, stats, LOB files, appended files,
// added groups. Conflict resolution when a newer version L exists than the one read:
//   FAIL (0, and unknown ids): code 112.
//   OVERWRITE (2): edits applied to the read snapshot, written as L+1 (discards read+1..L).
//   MERGE (1, engine extension): edits rebased on L when they commute — appends to the same
//     groups, added groups with new columns whose rows match L, stats keys untouched since the
//     read, delta logs; drops of columns/indexes or any failed re-validation give 112.
// A lost create-only race re-resolves against the new latest, up to the retry budget (111).
#pragma once

#include <arrow/result.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/properties.h"
#include "filesystem/fs.h"
#include "manifest/manifest.h"

namespace loon::transaction {

enum class Resolve : int32_t { kFail = 0, kMerge = 1, kOverwrite = 2 };

class Transaction {
 public:
  // read_version: -1 latest, 0 empty, >0 exact (missing -> 12), other negatives behave like 0.
  static arrow::Result<std::unique_ptr<Transaction>> Begin(const std::string& base_path, const Properties& props,
                                                           int64_t read_version, int32_t resolve_id,
                                                           uint32_t retry_limit);

  const manifest::Manifest& snapshot() const { return *snapshot_; }
  int64_t read_version() const { return read_version_; }

  void DropColumn(std::string name) { drop_columns_.push_back(std::move(name)); }
  void DropIndex(int64_t index_id) { drop_indexes_.push_back(index_id); }
  void AddColumnGroup(ColumnGroup group) { added_groups_.push_back(std::move(group)); }
  void AppendFiles(ColumnGroupList groups) { appends_.push_back(std::move(groups)); }
  void AddDeltaLog(std::string path, int64_t num_entries) {
    delta_logs_.push_back({std::move(path), 0, num_entries});
  }
  void UpdateStat(std::string key, manifest::Statistics stat) {
    stat_updates_.emplace_back(std::move(key), std::move(stat));
  }

  // Writes a new version; returns it. Edits stay recorded (commit can be called again).
  arrow::Result<int64_t> Commit();

  // Applies the recorded edits to `base` (validation failures: CodedError(kLogical)).
  arrow::Result<manifest::Manifest> Apply(const manifest::Manifest& base) const;

 private:
  Transaction() = default;
  bool HasEdits() const;
  // Resolution of a conflict with newer version `latest` under MERGE.
  arrow::Result<std::shared_ptr<const manifest::Manifest>> Merge(int64_t latest) const;
  // `m` as the version written from it reads back, ready to be written and cached.
  std::shared_ptr<const manifest::Manifest> Publishable(manifest::Manifest m) const;

  std::shared_ptr<fs::LoonFileSystem> fs_;
  std::string base_;          // path inside fs_
  std::string display_base_;  // as given by the caller (prefix restored on read paths)
  int64_t read_version_ = 0;  // as requested/resolved (negatives other than -1 kept verbatim)
  int64_t effective_read_ = 0;
  Resolve resolve_ = Resolve::kFail;
  uint32_t retries_ = 0;
  bool cache_manifests_ = true;  // reader.metadata_cache.enable
  // Shared with the metadata cache (immutable); the empty manifest before version 1.
  std::shared_ptr<const manifest::Manifest> snapshot_ = std::make_shared<const manifest::Manifest>();

  std::vector<std::string> drop_columns_;
  std::vector<int64_t> drop_indexes_;
  std::vector<ColumnGroup> added_groups_;
  std::vector<ColumnGroupList> appends_;
  std::vector<manifest::DeltaLog> delta_logs_;
  std::vector<std::pair<std::string, manifest::Statistics>> stat_updates_;
};

}  // namespace loon::transaction
