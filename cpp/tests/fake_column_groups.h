// Caller-built LoonColumnGroups for transaction tests: the transaction layer never opens data
// files, so fake paths and row ranges are enough to exercise commits without the writer.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "milvus-storage/ffi_c.h"

struct FakeFile {
  std::string path;
  int64_t start = 0;
  int64_t end = 0;
  std::map<std::string, std::string> props;
};

struct FakeGroup {
  std::vector<std::string> columns;
  std::vector<FakeFile> files;
  std::string format = "parquet";
};

// Owns every string and array the C view points into; the view stays valid while this lives.
class FakeColumnGroups {
 public:
  explicit FakeColumnGroups(std::vector<FakeGroup> groups) : groups_(std::move(groups)) {
    for (auto& g : groups_) {
      LoonColumnGroup cg{};
      auto& cols = col_ptrs_.emplace_back();
      for (auto& c : g.columns) cols.push_back(c.c_str());
      cg.columns = cols.empty() ? nullptr : cols.data();
      cg.num_of_columns = static_cast<uint32_t>(cols.size());
      cg.format = g.format.c_str();
      auto& files = files_.emplace_back();
      for (auto& f : g.files) {
        auto& keys = key_ptrs_.emplace_back();
        auto& values = value_ptrs_.emplace_back();
        for (auto& [k, v] : f.props) {
          keys.push_back(k.c_str());
          values.push_back(v.c_str());
        }
        files.push_back(LoonColumnGroupFile{f.path.c_str(), f.start, f.end, keys.empty() ? nullptr : keys.data(),
                                            values.empty() ? nullptr : values.data(),
                                            static_cast<uint32_t>(keys.size())});
      }
      cg.files = files.empty() ? nullptr : files.data();
      cg.num_of_files = static_cast<uint32_t>(files.size());
      c_groups_.push_back(cg);
    }
    view_.column_group_array = c_groups_.empty() ? nullptr : c_groups_.data();
    view_.num_of_column_groups = static_cast<uint32_t>(c_groups_.size());
  }
  FakeColumnGroups(const FakeColumnGroups&) = delete;
  FakeColumnGroups& operator=(const FakeColumnGroups&) = delete;

  const LoonColumnGroups* get() const { return &view_; }
  const LoonColumnGroup* group(size_t i) const { return &c_groups_[i]; }

 private:
  std::vector<FakeGroup> groups_;
  // deques: growing them never moves the vectors the C structs point into.
  std::deque<std::vector<const char*>> col_ptrs_, key_ptrs_, value_ptrs_;
  std::deque<std::vector<LoonColumnGroupFile>> files_;
  std::vector<LoonColumnGroup> c_groups_;
  LoonColumnGroups view_{};
};

// One group {columns} with one file of `rows` rows at `path`.
inline FakeColumnGroups OneFile(const std::vector<std::string>& columns, const std::string& path, int64_t rows,
                                const std::string& format = "parquet") {
  return FakeColumnGroups({FakeGroup{columns, {FakeFile{path, 0, rows, {{"file_size", "100"}}}}, format}});
}
