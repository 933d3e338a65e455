#include "common/column_groups.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "common/pattern_match.h"
#include "common/status.h"

namespace loon {

int64_t ColumnGroup::total_rows() const {
  int64_t rows = 0;
  for (const auto& f : files) rows += f.num_rows();
  return rows;
}

arrow::Result<ColumnGroup> ColumnGroupFromC(const LoonColumnGroup& group) {
  ColumnGroup out;
  if (group.num_of_columns > 0 && group.columns == nullptr) {
    return CodedError(kLogical, "column group has columns count > 0 but NULL columns array");
  }
  if (group.num_of_files > 0 && group.files == nullptr) {
    return CodedError(kLogical, "column group has files count > 0 but NULL files array");
  }
  for (uint32_t i = 0; i < group.num_of_columns; ++i) {
    if (group.columns[i] == nullptr) return CodedError(kLogical, "column group has a NULL column name");
    out.columns.emplace_back(group.columns[i]);
  }
  out.format = group.format != nullptr ? group.format : "parquet";
  for (uint32_t i = 0; i < group.num_of_files; ++i) {
    const LoonColumnGroupFile& f = group.files[i];
    if (f.path == nullptr) return CodedError(kLogical, "column group file has a NULL path");
    ColumnGroupFile file;
    file.path = f.path;
    file.start_index = f.start_index;
    file.end_index = f.end_index;
    if (f.num_properties > 0 && (f.property_keys == nullptr || f.property_values == nullptr)) {
      return CodedError(kLogical, "column group file has properties count > 0 but NULL arrays");
    }
    for (uint32_t p = 0; p < f.num_properties; ++p) {
      if (f.property_keys[p] == nullptr || f.property_values[p] == nullptr) continue;
      file.properties[f.property_keys[p]] = f.property_values[p];
    }
    out.files.push_back(std::move(file));
  }
  return out;
}

arrow::Result<ColumnGroupList> ColumnGroupsFromC(const LoonColumnGroups& groups) {
  if (groups.num_of_column_groups > 0 && groups.column_group_array == nullptr) {
    return CodedError(kLogical, "column groups count > 0 but NULL group array");
  }
  ColumnGroupList out;
  for (uint32_t i = 0; i < groups.num_of_column_groups; ++i) {
    ARROW_ASSIGN_OR_RAISE(auto g, ColumnGroupFromC(groups.column_group_array[i]));
    out.push_back(std::move(g));
  }
  return out;
}

const char** MallocStringArray(const std::vector<std::string>& items) {
  if (items.empty()) return nullptr;
  auto** out = static_cast<const char**>(std::calloc(items.size(), sizeof(char*)));
  if (out == nullptr) throw std::bad_alloc();
  for (size_t i = 0; i < items.size(); ++i) {
    out[i] = MallocString(items[i]);
    if (out[i] == nullptr) throw std::bad_alloc();
  }
  return out;
}

void FreeStringArray(const char** items, size_t count) {
  if (items == nullptr) return;
  for (size_t i = 0; i < count; ++i) std::free(const_cast<char*>(items[i]));
  std::free(items);
}

void ColumnGroupToC(const ColumnGroup& group, LoonColumnGroup* out) {
  std::memset(out, 0, sizeof(*out));
  out->columns = MallocStringArray(group.columns);
  out->num_of_columns = static_cast<uint32_t>(group.columns.size());
  out->format = MallocString(group.format);
  out->num_of_files = static_cast<uint32_t>(group.files.size());
  if (!group.files.empty()) {
    out->files = static_cast<LoonColumnGroupFile*>(std::calloc(group.files.size(), sizeof(LoonColumnGroupFile)));
    if (out->files == nullptr) throw std::bad_alloc();
  }
  for (size_t i = 0; i < group.files.size(); ++i) {
    const ColumnGroupFile& f = group.files[i];
    LoonColumnGroupFile& c = out->files[i];
    c.path = MallocString(f.path);
    c.start_index = f.start_index;
    c.end_index = f.end_index;
    std::vector<std::string> keys, values;
    for (const auto& [k, v] : f.properties) {
      keys.push_back(k);
      values.push_back(v);
    }
    c.property_keys = MallocStringArray(keys);
    c.property_values = MallocStringArray(values);
    c.num_properties = static_cast<uint32_t>(keys.size());
  }
}

void FreeColumnGroupContents(LoonColumnGroup* group) {
  if (group == nullptr) return;
  FreeStringArray(group->columns, group->num_of_columns);
  std::free(const_cast<char*>(group->format));
  for (uint32_t i = 0; group->files != nullptr && i < group->num_of_files; ++i) {
    LoonColumnGroupFile& f = group->files[i];
    std::free(const_cast<char*>(f.path));
    FreeStringArray(f.property_keys, f.num_properties);
    FreeStringArray(f.property_values, f.num_properties);
  }
  std::free(group->files);
  std::memset(group, 0, sizeof(*group));
}

void FillColumnGroupsC(const ColumnGroupList& groups, LoonColumnGroups* out) {
  std::memset(out, 0, sizeof(*out));
  if (!groups.empty()) {
    out->column_group_array = static_cast<LoonColumnGroup*>(std::calloc(groups.size(), sizeof(LoonColumnGroup)));
    if (out->column_group_array == nullptr) throw std::bad_alloc();
  }
  out->num_of_column_groups = static_cast<uint32_t>(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) ColumnGroupToC(groups[i], &out->column_group_array[i]);
}

void FreeColumnGroupsContents(LoonColumnGroups* groups) {
  if (groups == nullptr) return;
  for (uint32_t i = 0; groups->column_group_array != nullptr && i < groups->num_of_column_groups; ++i) {
    FreeColumnGroupContents(&groups->column_group_array[i]);
  }
  std::free(groups->column_group_array);
  std::memset(groups, 0, sizeof(*groups));
}

LoonColumnGroups* NewColumnGroupsC(const ColumnGroupList& groups) {
  auto* out = static_cast<LoonColumnGroups*>(std::calloc(1, sizeof(LoonColumnGroups)));
  if (out == nullptr) throw std::bad_alloc();
  FillColumnGroupsC(groups, out);
  return out;
}

std::string DebugString(const ColumnGroupList& groups) {
  std::ostringstream os;
  os << "ColumnGroups (" << groups.size() << " groups)\n";
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto& g = groups[i];
    os << "  group " << i << ": format=" << g.format << " rows=" << g.total_rows() << " columns=[";
    for (size_t c = 0; c < g.columns.size(); ++c) os << (c ? ", " : "") << g.columns[c];
    os << "] files=" << g.files.size() << "\n";
    for (const auto& f : g.files) {
      os << "    " << f.path << " [" << f.start_index << ", " << f.end_index << ")";
      for (const auto& [k, v] : f.properties) os << " " << k << "=" << v;
      os << "\n";
    }
  }
  return os.str();
}

// ---- column-group patterns ------------------------------------------------------------------

struct ColumnPatterns::Impl {
  std::vector<std::unique_ptr<CompiledPattern>> patterns;
};

ColumnPatterns::ColumnPatterns(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ColumnPatterns::ColumnPatterns(ColumnPatterns&&) noexcept = default;
ColumnPatterns& ColumnPatterns::operator=(ColumnPatterns&&) noexcept = default;
ColumnPatterns::~ColumnPatterns() = default;

arrow::Result<ColumnPatterns> ColumnPatterns::Compile(const std::vector<std::string>& patterns) {
  auto impl = std::make_unique<Impl>();
  for (const auto& p : patterns) {
    PatternError error = PatternError::kNone;
    std::string message;
    auto compiled = CompiledPattern::Compile(p, &error, &message);
    if (compiled == nullptr) {
      std::string shown = p.size() > 200 ? p.substr(0, 200) + "..." : p;
      if (error == PatternError::kUnsafe) {
        return CodedError(kInvalidProperties, "schema_based pattern '" + shown + "' cannot be matched safely: " + message);
      }
      return arrow::Status::Invalid("bad schema_based pattern '", shown, "': ", message);
    }
    impl->patterns.push_back(std::move(compiled));
  }
  return ColumnPatterns(std::move(impl));
}

size_t ColumnPatterns::size() const { return impl_->patterns.size(); }

size_t ColumnPatterns::FirstMatch(const std::string& name) const {
  size_t j = 0;
  while (j < impl_->patterns.size() && !impl_->patterns[j]->FullMatch(name)) ++j;
  return j;
}

}  // namespace loon
