// C++ model of column groups (ffi_c.h 3.3 column groups) and its conversion to and from the C structs.
#pragma once

#include <arrow/result.h>

#include <cstdint>
#include <map>
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

// malloc'ed array of malloc'ed strings, and its release.
const char** MallocStringArray(const std::vector<std::string>& items);
void FreeStringArray(const char** items, size_t count);

}  // namespace loon
