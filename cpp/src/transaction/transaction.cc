#include "transaction/transaction.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "common/status.h"
#include "fiu/fault.h"
#include "manifest/commit.h"
#include "milvus-storage/ffi_fiu.h"

namespace loon::transaction {

using manifest::Manifest;

namespace {

std::set<std::string> ColumnSet(const ColumnGroup& g) { return {g.columns.begin(), g.columns.end()}; }

arrow::Status Invalid(const std::string& msg) { return CodedError(kLogical, msg); }

}  // namespace

arrow::Result<std::unique_ptr<Transaction>> Transaction::Begin(const std::string& base_path, const Properties& props,
                                                               int64_t read_version, int32_t resolve_id,
                                                               uint32_t retry_limit) {
  std::unique_ptr<Transaction> txn(new Transaction());
  ARROW_ASSIGN_OR_RAISE(auto resolved, fs::Resolve(props, base_path));
  txn->fs_ = fs::AsLoon(resolved.fs);
  if (!txn->fs_) return arrow::Status::IOError("filesystem without commit support");
  txn->base_ = resolved.path;
  txn->display_base_ = base_path;
  txn->resolve_ = resolve_id == 1 ? Resolve::kMerge : resolve_id == 2 ? Resolve::kOverwrite : Resolve::kFail;
  // Engine decision: the property is honoured; the larger budget wins.
  uint32_t retries = retry_limit;
  if (props.Has("transaction.commit.num-retries")) {
    retries = std::max<uint32_t>(retries, static_cast<uint32_t>(props.GetInt("transaction.commit.num-retries")));
  }
  txn->retries_ = retries;
  txn->cache_manifests_ = props.GetBool("reader.metadata_cache.enable");

  int64_t version = read_version;
  if (read_version == -1) {
    ARROW_ASSIGN_OR_RAISE(version, manifest::LatestVersion(txn->fs_.get(), txn->base_));
  }
  txn->read_version_ = version;
  txn->effective_read_ = version > 0 ? version : 0;
  if (version > 0) {
    LOON_RETURN_ON_FAULT(loon_fiukey_manifest_read_fail);
    std::string path = manifest::ManifestPath(txn->base_, version);
    ARROW_ASSIGN_OR_RAISE(auto info, txn->fs_->GetFileInfo(path));
    if (info.type() == arrow::fs::FileType::NotFound) {
      return CodedError(kFileNotFound, "manifest version " + std::to_string(version) + " not found: '" + path + "'");
    }
    ARROW_ASSIGN_OR_RAISE(txn->snapshot_, manifest::ReadManifestFile(txn->fs_.get(), path, txn->display_base_,
                                                                          txn->cache_manifests_));
  }
  return txn;
}

bool Transaction::HasEdits() const {
  return !drop_columns_.empty() || !drop_indexes_.empty() || !added_groups_.empty() || !appends_.empty() ||
         !delta_logs_.empty() || !stat_updates_.empty();
}

std::shared_ptr<const Manifest> Transaction::Publishable(Manifest m) const {
  // A successful write hands the manifest to the metadata cache (shared, not copied), as what
  // reading the version back gives: relative paths with their directory restored.
  manifest::RoundTripPaths(&m, display_base_);
  return std::make_shared<const Manifest>(std::move(m));
}

arrow::Result<Manifest> Transaction::Apply(const Manifest& base) const {
  Manifest m = base;

  // 1. Dropped columns: out of every group, empty groups and indexes on them go too.
  for (const auto& col : drop_columns_) {
    for (auto& g : m.column_groups) {
      g.columns.erase(std::remove(g.columns.begin(), g.columns.end(), col), g.columns.end());
    }
    m.column_groups.erase(std::remove_if(m.column_groups.begin(), m.column_groups.end(),
                                         [](const ColumnGroup& g) { return g.columns.empty(); }),
                          m.column_groups.end());
    m.indexes.erase(std::remove_if(m.indexes.begin(), m.indexes.end(),
                                   [&](const manifest::IndexInfo& x) { return x.column_name == col; }),
                    m.indexes.end());
  }

  // 2. Added groups: new columns only; row count equal to group 0 before this txn's appends.
  std::set<std::string> existing;
  for (const auto& g : m.column_groups) existing.insert(g.columns.begin(), g.columns.end());
  bool had_groups = !m.column_groups.empty();
  int64_t rows_before = had_groups ? m.column_groups[0].total_rows() : 0;
  for (const auto& add : added_groups_) {
    if (add.columns.empty()) return Invalid("added column group has no columns");
    for (const auto& c : add.columns) {
      if (!existing.insert(c).second) return Invalid("added column group repeats existing column '" + c + "'");
    }
    if (had_groups && add.total_rows() != rows_before) {
      return Invalid("added column group has " + std::to_string(add.total_rows()) + " rows, dataset has " +
                     std::to_string(rows_before));
    }
  }

  // 3. Appended files: same group structure as the snapshot (or the first append if empty).
  const ColumnGroupList* shape = had_groups ? &m.column_groups : nullptr;
  for (const auto& groups : appends_) {
    if (shape == nullptr) {
      shape = &groups;
      continue;
    }
    if (groups.size() != shape->size()) {
      return Invalid("append has " + std::to_string(groups.size()) + " column groups, dataset has " +
                     std::to_string(shape->size()));
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      const auto& a = groups[i];
      const auto& b = (*shape)[i];
      if (a.columns.size() != b.columns.size() || ColumnSet(a) != ColumnSet(b)) {
        return Invalid("append group " + std::to_string(i) + " has different columns than the dataset");
      }
      if (a.format != b.format) {
        return Invalid("append group " + std::to_string(i) + " has format '" + a.format + "', dataset has '" +
                       b.format + "'");
      }
    }
  }

  // 4. Index changes: explicit drops, and indexes on groups receiving appended files.
  for (int64_t id : drop_indexes_) {
    m.indexes.erase(std::remove_if(m.indexes.begin(), m.indexes.end(),
                                   [&](const manifest::IndexInfo& x) { return x.index_id == id; }),
                    m.indexes.end());
  }
  if (had_groups) {
    std::set<std::string> touched;
    for (const auto& groups : appends_) {
      for (size_t i = 0; i < groups.size(); ++i) {
        if (!groups[i].files.empty()) touched.insert(groups[i].columns.begin(), groups[i].columns.end());
      }
    }
    m.indexes.erase(std::remove_if(m.indexes.begin(), m.indexes.end(),
                                   [&](const manifest::IndexInfo& x) { return touched.count(x.column_name) > 0; }),
                    m.indexes.end());
  }

  // 5-7. Delta logs (in order), stats (last update wins), LOB files (no FFI edit exists).
  m.delta_logs.insert(m.delta_logs.end(), delta_logs_.begin(), delta_logs_.end());
  for (const auto& [key, stat] : stat_updates_) m.stats[key] = stat;

  // 8. Appended files, position i into group i; into an empty dataset the groups themselves.
  for (const auto& groups : appends_) {
    if (m.column_groups.empty()) {
      m.column_groups = groups;
      continue;
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      auto& files = m.column_groups[i].files;
      files.insert(files.end(), groups[i].files.begin(), groups[i].files.end());
    }
  }

  // 9. Added groups.
  for (const auto& add : added_groups_) m.column_groups.push_back(add);
  return m;
}

arrow::Result<std::shared_ptr<const Manifest>> Transaction::Merge(int64_t latest) const {
  auto conflict = [&](const std::string& why) {
    return CodedError(kTxnResolutionFailed, "cannot merge with version " + std::to_string(latest) +
                                                " (read " + std::to_string(read_version_) + "): " + why);
  };
  if (!drop_columns_.empty() || !drop_indexes_.empty()) return conflict("drops do not commute");
  ARROW_ASSIGN_OR_RAISE(auto newest_ptr,
                        manifest::ReadManifestFile(fs_.get(), manifest::ManifestPath(base_, latest), display_base_,
                                                   cache_manifests_));
  const Manifest& newest = *newest_ptr;
  const Manifest& snapshot = *snapshot_;
  for (const auto& [key, stat] : stat_updates_) {
    auto before = snapshot.stats.find(key);
    auto now = newest.stats.find(key);
    bool same = (before == snapshot.stats.end()) ? now == newest.stats.end()
                                                 : (now != newest.stats.end() && now->second == before->second);
    if (!same) return conflict("stat '" + key + "' changed concurrently");
  }
  auto merged = Apply(newest);
  if (!merged.ok()) return conflict(merged.status().message());
  return Publishable(std::move(merged).ValueUnsafe());
}

arrow::Result<int64_t> Transaction::Commit() {
  LOON_RETURN_ON_FAULT(loon_fiukey_manifest_commit_fail);
  if (!HasEdits()) return Invalid("nothing to commit");
  // Edits must be valid on their own snapshot (code 4), whatever happens concurrently.
  ARROW_ASSIGN_OR_RAISE(Manifest applied, Apply(*snapshot_));
  auto on_snapshot = Publishable(std::move(applied));

  for (uint32_t attempt = 0; attempt <= retries_; ++attempt) {
    ARROW_ASSIGN_OR_RAISE(int64_t latest, manifest::LatestVersion(fs_.get(), base_));
    std::shared_ptr<const Manifest> next;
    if (latest == effective_read_ || resolve_ == Resolve::kOverwrite) {
      next = on_snapshot;
    } else if (resolve_ == Resolve::kMerge) {
      ARROW_ASSIGN_OR_RAISE(next, Merge(latest));
    } else {
      return CodedError(kTxnResolutionFailed, "version " + std::to_string(latest) + " was committed after read version " +
                                                  std::to_string(effective_read_));
    }

    if (fault::ShouldFail(loon_fiukey_sleep_before_commit_manifest)) {
      std::this_thread::sleep_for(std::chrono::seconds(5));
    }
    LOON_RETURN_ON_FAULT(loon_fiukey_manifest_write_fail);
    LOON_RETURN_ON_FAULT(loon_fiukey_commit_before_manifest_fail);

    arrow::Status st = manifest::WriteVersion(fs_.get(), base_, display_base_, latest + 1, next, cache_manifests_);
    if (st.ok()) return latest + 1;
    if (CodeOf(st) != kAwsConflict) return st;
    // Lost the create-only race: re-resolve against the new latest.
  }
  return CodedError(kTxnExhaustedRetry,
                    "commit lost the create-only race " + std::to_string(retries_ + 1) + " time(s)");
}

}  // namespace loon::transaction
