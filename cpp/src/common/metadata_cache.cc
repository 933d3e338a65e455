#include "common/metadata_cache.h"

#include <chrono>

#include "filesystem/fs.h"

namespace loon {

MetadataCache& MetadataCache::Instance() {
  static MetadataCache* cache = new MetadataCache();  // never destroyed: used until process exit
  return *cache;
}

std::shared_ptr<const void> MetadataCache::FindErased(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

void MetadataCache::InsertErased(const std::string& key, std::shared_ptr<const void> value, int64_t charge) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    charged_ -= it->second->charge;
    lru_.erase(it->second);
    index_.erase(it);
  }
  if (charge > capacity_) return;  // would evict everything else and itself
  lru_.push_front(Entry{key, std::move(value), charge});
  index_.emplace(key, lru_.begin());
  charged_ += charge;
  EvictLocked();
}

void MetadataCache::EvictLocked() {
  while (charged_ > capacity_ && !lru_.empty()) {
    charged_ -= lru_.back().charge;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void MetadataCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  lru_.clear();
  index_.clear();
  charged_ = 0;
}

void MetadataCache::SetCapacity(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  capacity_ = bytes;
  EvictLocked();
}

int64_t MetadataCache::charged_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return charged_;
}

size_t MetadataCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

namespace {

// Object stores report modification times in whole seconds (S3's and Azure's Last-Modified), so
// an object rewritten with the same size within the second it was written keeps its key. Such a
// file is not cached until that second is safely over: any later rewrite then gets a later time.
// The margin covers clock skew between the store and this machine.
bool RecentCoarseTime(arrow::fs::TimePoint mtime) {
  using std::chrono::seconds;
  if (mtime == arrow::fs::kNoTime) return false;
  auto since_epoch = mtime.time_since_epoch();
  if (since_epoch != std::chrono::duration_cast<seconds>(since_epoch)) return false;  // finer clock
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<seconds>(now) - std::chrono::duration_cast<seconds>(since_epoch) < seconds(3);
}

}  // namespace

std::string FileCacheKey(const std::string& kind, const arrow::fs::FileSystem& fs, const arrow::fs::FileInfo& info) {
  if (info.type() != arrow::fs::FileType::File || info.size() < 0) return "";
  if (RecentCoarseTime(info.mtime())) return "";
  // Two filesystem instances may map one path to different storage (other roots, endpoints).
  const auto* loon_fs = dynamic_cast<const fs::LoonFileSystem*>(&fs);
  std::string key = kind + "\n" + (loon_fs != nullptr ? loon_fs->description() : fs.type_name()) + "\n" + info.path() +
                    "\n" + std::to_string(info.size());
  if (info.mtime() != arrow::fs::kNoTime) {
    key += "\n" + std::to_string(info.mtime().time_since_epoch().count());
  }
  return key;
}

}  // namespace loon
