// C++ model of column groups (ffi_c.h 3.3 column groups) and its conversion to and from the C structs.
#pragma once

#include <arrow/result.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "milvus-storage/ffi_c.h"

namespace loon {

struct ColumnGroupFile {
  std::string path;
  int64_t start_index = 0;
  int64_t end_index = 0;
  std::map<std::string, std::string> properties;  // file_size, footer_size, ...

  int64_t num_rows() const { return end_index - start_index; }
  bool operator==(const ColumnGroupFile&) const = default;
};

struct ColumnGroup {
  std::vector<std::string> columns;
  std::string format = "parquet";
  std::vector<ColumnGroupFile> files;

  int64_t total_rows() const;
  bool operator==(const ColumnGroup&) const = default;
};

using ColumnGroupList = std::vector<ColumnGroup>;

// Deep copy from caller-owned C structs; malformed input gives CodedError(kLogical or kInvalidArgs).
arrow::Result<ColumnGroup> ColumnGroupFromC(const LoonColumnGroup& group);
arrow::Result<ColumnGroupList> ColumnGroupsFromC(const LoonColumnGroups& groups);

// Fills a C struct with malloc'ed copies (released by FreeColumnGroupContents).
void ColumnGroupToC(const ColumnGroup& group, LoonColumnGroup* out);
void FreeColumnGroupContents(LoonColumnGroup* group);
// A new malloc'ed LoonColumnGroups, released by loon_column_groups_destroy.
LoonColumnGroups* NewColumnGroupsC(const ColumnGroupList& groups);
void FillColumnGroupsC(const ColumnGroupList& groups, LoonColumnGroups* out);
void FreeColumnGroupsContents(LoonColumnGroups* groups);

std::string DebugString(const ColumnGroupList& groups);

// The patterns of writer.split.schema_based (ECMAScript syntax, matched against whole column
// names) — see common/pattern_match.h: matching runs in time linear in the name's length
// whatever the pattern, so `(x*)*y` or a 50,000-character column name cannot hang the writer or
// exhaust its stack as std::regex did. Patterns that cannot be matched that way (backreferences,
// lookaround, oversized programs) are refused with code 7; malformed ones are Invalid (code 3).
class ColumnPatterns {
 public:
  static arrow::Result<ColumnPatterns> Compile(const std::vector<std::string>& patterns);
  ColumnPatterns(ColumnPatterns&&) noexcept;
  ColumnPatterns& operator=(ColumnPatterns&&) noexcept;
  ~ColumnPatterns();

  size_t size() const;
  // Index of the first pattern matching all of `name`, or size() when none does.
  size_t FirstMatch(const std::string& name) const;

 private:
  struct Impl;
  explicit ColumnPatterns(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// malloc'ed array of malloc'ed strings, and its release.
const char** MallocStringArray(const std::vector<std::string>& items);
void FreeStringArray(const char** items, size_t count);

}  // namespace loon
