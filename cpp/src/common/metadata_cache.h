// Process-wide cache of parsed metadata of immutable files: Parquet footers of data files and
// manifest versions (both are never rewritten in place by the storage protocol).
//
// An entry is keyed by the filesystem instance's description, the path, and the size and
// modification time the filesystem reports for the file (FileCacheKey), so a file replaced
// under the same path with a different size or time is parsed again rather than served from
// here. Entries are evicted least-recently-used first once their charged bytes exceed the
// capacity. Values are immutable once inserted (or internally synchronised) and shared by
// every user; the cache is thread-safe.
#pragma once

#include <arrow/filesystem/filesystem.h>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace loon {

class MetadataCache {
 public:
  static constexpr int64_t kDefaultCapacityBytes = 256LL << 20;

  static MetadataCache& Instance();

  // The value under `key` (and marks it recently used), or null.
  template <typename T>
  std::shared_ptr<const T> Find(const std::string& key) {
    return std::static_pointer_cast<const T>(FindErased(key));
  }
  // Inserts or replaces `key`; `charge` is the value's approximate memory in bytes.
  template <typename T>
  void Insert(const std::string& key, std::shared_ptr<const T> value, int64_t charge) {
    InsertErased(key, std::static_pointer_cast<const void>(std::move(value)), charge);
  }

  void Clear();
  void SetCapacity(int64_t bytes);
  int64_t charged_bytes() const;
  size_t size() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const void> value;
    int64_t charge = 0;
  };
  std::shared_ptr<const void> FindErased(const std::string& key);
  void InsertErased(const std::string& key, std::shared_ptr<const void> value, int64_t charge);
  void EvictLocked();

  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  int64_t charged_ = 0;
  int64_t capacity_ = kDefaultCapacityBytes;
};

// Cache key of a file for `kind` ("footer", "manifest"): empty when `info` is not a regular file.
// Without a modification time (filesystems that do not report one) size and path alone decide.
// Also empty for a file whose time is in whole seconds (object stores) and at most ~3 s old: a
// same-size rewrite within that second would keep the key.
std::string FileCacheKey(const std::string& kind, const arrow::fs::FileSystem& fs, const arrow::fs::FileInfo& info);

}  // namespace loon
