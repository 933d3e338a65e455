// Path rules (README "Manifest files": paths) and the C form of a manifest (ffi_c.h 3.4 manifest).
#include "manifest/manifest.h"

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <sstream>

#include "common/status.h"
#include "filesystem/fs.h"

namespace loon::manifest {

// The directory prefixes a path kind is stored relative to.
struct PathDir {
  std::vector<std::string> strip;  // accepted spellings on write, each ending with '/'
  std::string restore;             // prefix re-added on read
};

namespace {

std::string TrimSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Directory of a base path's siblings ("<base>/.." resolved textually).
std::string ParentOf(const std::string& base) {
  std::string b = TrimSlashes(base);
  size_t pos = b.find_last_of('/');
  if (pos == std::string::npos) return "";
  if (pos == 0) return "/";
  return b.substr(0, pos);
}

PathDir MakeDir(const std::string& base, const std::string& sub) {
  std::string b = TrimSlashes(base);
  PathDir d;
  d.restore = b.empty() ? sub + "/" : b + "/" + sub + "/";
  d.strip.push_back(d.restore);
  std::string norm = fs::NormalizePath(d.restore);
  if (norm != d.restore) d.strip.push_back(norm);
  return d;
}

PathDir LobDir(const std::string& base) {
  std::string b = TrimSlashes(base);
  PathDir d;
  std::string parent = ParentOf(b);
  d.restore = parent.empty() ? "lobs/" : fs::JoinPath(parent, "lobs") + "/";
  d.strip = {b + "/../lobs/", d.restore, fs::NormalizePath(b + "/../lobs/"), fs::NormalizePath(d.restore)};
  return d;
}

// Length of the first prefix of `dir` that `p` starts with (and is longer than), or 0.
size_t PrefixLength(std::string_view p, const PathDir& dir) {
  for (const auto& prefix : dir.strip) {
    if (!prefix.empty() && p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0) return prefix.size();
  }
  return 0;
}

// The path after the first prefix of `dir` it starts with, or nullopt.
std::optional<std::string> StripPrefix(const std::string& p, const PathDir& dir) {
  size_t n = PrefixLength(p, dir);
  if (n == 0) return std::nullopt;
  return p.substr(n);
}

std::string Strip(const std::string& path, const PathDir& dir) {
  if (auto stripped = StripPrefix(path, dir)) return *stripped;
  if (auto stripped = StripPrefix(fs::NormalizePath(path), dir)) return *stripped;
  return path;
}

std::string Restore(const std::string& path, const PathDir& dir) {
  if (path.empty() || path[0] == '/' || fs::HasScheme(path)) return path;
  return dir.restore + path;
}

}  // namespace

struct PathRules::Dirs {
  PathDir data, delta, stats, index, lobs;
};

PathRules::PathRules(const std::string& base)
    : dirs_(std::make_unique<Dirs>(Dirs{MakeDir(base, "_data"), MakeDir(base, "_delta"), MakeDir(base, "_stats"),
                                        MakeDir(base, "_index"), LobDir(base)})) {}
PathRules::~PathRules() = default;

const PathDir& PathRules::DirOf(PathKind kind) const {
  switch (kind) {
    case PathKind::kData:
      return dirs_->data;
    case PathKind::kDelta:
      return dirs_->delta;
    case PathKind::kStats:
      return dirs_->stats;
    case PathKind::kIndex:
      return dirs_->index;
    case PathKind::kLob:
      break;
  }
  return dirs_->lobs;
}

std::string PathRules::Stored(PathKind kind, const std::string& full) const { return Strip(full, DirOf(kind)); }
std::string PathRules::Full(PathKind kind, const std::string& stored) const { return Restore(stored, DirOf(kind)); }

std::string_view PathRules::StoredView(PathKind kind, const std::string& full, std::string* scratch) const {
  // The common case, a path under its directory as spelled: a suffix of `full`, no allocation.
  size_t n = PrefixLength(full, DirOf(kind));
  if (n > 0) return std::string_view(full).substr(n);
  *scratch = Stored(kind, full);
  return *scratch;
}

void PathRules::RoundTrip(PathKind kind, std::string* path) const {
  const PathDir& dir = DirOf(kind);
  // Under the restore prefix with a relative rest: reading back gives the same string.
  // (Stored strips the restore prefix first; Full leaves absolute and scheme paths alone.)
  const std::string& restore = dir.restore;
  if (path->size() > restore.size() && path->compare(0, restore.size(), restore) == 0) {
    std::string_view rest = std::string_view(*path).substr(restore.size());
    if (rest[0] != '/' && rest.find("://") == std::string_view::npos) return;
  }
  *path = Full(kind, Stored(kind, *path));
}

namespace {

enum class Direction { kToStored, kToFull, kRoundTrip };

// Rewrites every path of `m` in place.
void MapPaths(Manifest& m, const PathRules& rules, Direction direction) {
  auto fn = [&](PathKind kind, std::string& p) {
    switch (direction) {
      case Direction::kToStored:
        p = rules.Stored(kind, p);
        break;
      case Direction::kToFull:
        p = rules.Full(kind, p);
        break;
      case Direction::kRoundTrip:
        rules.RoundTrip(kind, &p);
        break;
    }
  };
  for (auto& g : m.column_groups) {
    for (auto& f : g.files) fn(PathKind::kData, f.path);
  }
  for (auto& d : m.delta_logs) fn(PathKind::kDelta, d.path);
  for (auto& [key, s] : m.stats) {
    for (auto& p : s.paths) fn(PathKind::kStats, p);
  }
  for (auto& i : m.indexes) fn(PathKind::kIndex, i.path);
  for (auto& l : m.lob_files) fn(PathKind::kLob, l.path);
}

char* Dup(const std::string& s) { return MallocString(s); }

template <typename T>
T* Calloc(size_t n) {
  return n == 0 ? nullptr : static_cast<T*>(std::calloc(n, sizeof(T)));
}

void MapToC(const std::map<std::string, std::string>& m, const char*** keys, const char*** values, uint32_t* n) {
  *n = static_cast<uint32_t>(m.size());
  if (m.empty()) {
    *keys = nullptr;
    *values = nullptr;
    return;
  }
  std::vector<std::string> ks, vs;
  for (const auto& [k, v] : m) {
    ks.push_back(k);
    vs.push_back(v);
  }
  *keys = MallocStringArray(ks);
  *values = MallocStringArray(vs);
}

}  // namespace

Manifest StoredForm(Manifest full, const std::string& base) {
  MapPaths(full, PathRules(base), Direction::kToStored);
  return full;
}
Manifest FullForm(Manifest stored, const std::string& base) {
  MapPaths(stored, PathRules(base), Direction::kToFull);
  return stored;
}
void RoundTripPaths(Manifest* m, const std::string& base) { MapPaths(*m, PathRules(base), Direction::kRoundTrip); }

LoonManifest* NewManifestC(const Manifest& m) {
  auto* out = static_cast<LoonManifest*>(std::calloc(1, sizeof(LoonManifest)));
  if (out == nullptr) throw std::bad_alloc();
  FillColumnGroupsC(m.column_groups, &out->column_groups);

  // Only type-0 delta logs are exported; counts are narrowed to the C struct's uint32_t.
  std::vector<const DeltaLog*> deltas;
  for (const auto& d : m.delta_logs) {
    if (d.type == 0) deltas.push_back(&d);
  }
  out->delta_logs.num_delta_logs = static_cast<uint32_t>(deltas.size());
  out->delta_logs.delta_log_paths = Calloc<const char*>(deltas.size());
  out->delta_logs.delta_log_num_entries = Calloc<uint32_t>(deltas.size());
  for (size_t i = 0; i < deltas.size(); ++i) {
    out->delta_logs.delta_log_paths[i] = Dup(deltas[i]->path);
    out->delta_logs.delta_log_num_entries[i] = static_cast<uint32_t>(deltas[i]->num_entries);
  }

  LoonStatsLog& st = out->stats;
  size_t ns = m.stats.size();
  st.num_stats = static_cast<uint32_t>(ns);
  st.stat_keys = Calloc<const char*>(ns);
  st.stat_files = Calloc<const char**>(ns);
  st.stat_file_counts = Calloc<uint32_t>(ns);
  st.stat_metadata_keys = Calloc<const char**>(ns);
  st.stat_metadata_values = Calloc<const char**>(ns);
  st.stat_metadata_counts = Calloc<uint32_t>(ns);
  size_t i = 0;
  for (const auto& [key, s] : m.stats) {  // std::map: sorted by key
    st.stat_keys[i] = Dup(key);
    st.stat_files[i] = s.paths.empty() ? nullptr : MallocStringArray(s.paths);
    st.stat_file_counts[i] = static_cast<uint32_t>(s.paths.size());
    MapToC(s.metadata, &st.stat_metadata_keys[i], &st.stat_metadata_values[i], &st.stat_metadata_counts[i]);
    ++i;
  }

  out->lob_files.num_files = static_cast<uint32_t>(m.lob_files.size());
  out->lob_files.files = Calloc<LoonLobFileInfo>(m.lob_files.size());
  for (size_t j = 0; j < m.lob_files.size(); ++j) {
    const auto& l = m.lob_files[j];
    out->lob_files.files[j] = {Dup(l.path), l.field_id, l.total_rows, l.valid_rows, l.file_size_bytes};
  }

  out->indexes.num_indexes = static_cast<uint32_t>(m.indexes.size());
  out->indexes.indexes = Calloc<LoonIndexInfo>(m.indexes.size());
  for (size_t j = 0; j < m.indexes.size(); ++j) {
    const auto& x = m.indexes[j];
    LoonIndexInfo& c = out->indexes.indexes[j];
    c.column_name = Dup(x.column_name);
    c.index_name = Dup(x.index_name);
    c.index_type = Dup(x.index_type);
    c.path = Dup(x.path);
    c.field_id = x.field_id;
    c.index_id = x.index_id;
    c.build_id = x.build_id;
    c.index_version = x.index_version;
    c.num_rows = x.num_rows;
    c.serialized_size = x.serialized_size;
    c.mem_size = x.mem_size;
    c.current_index_version = x.current_index_version;
    c.current_scalar_index_version = x.current_scalar_index_version;
    c.index_store_path_version = x.index_store_path_version;
    c.index_file_keys = x.index_file_keys.empty() ? nullptr : MallocStringArray(x.index_file_keys);
    c.num_index_file_keys = static_cast<uint32_t>(x.index_file_keys.size());
    MapToC(x.properties, &c.property_keys, &c.property_values, &c.num_properties);
  }
  return out;
}

void FreeManifestC(LoonManifest* m) {
  if (m == nullptr) return;
  FreeColumnGroupsContents(&m->column_groups);

  LoonDeltaLogs& d = m->delta_logs;
  if (d.delta_log_paths != nullptr) FreeStringArray(d.delta_log_paths, d.num_delta_logs);
  std::free(d.delta_log_num_entries);

  LoonStatsLog& st = m->stats;
  for (uint32_t i = 0; i < st.num_stats; ++i) {
    if (st.stat_keys != nullptr) std::free(const_cast<char*>(st.stat_keys[i]));
    if (st.stat_files != nullptr && st.stat_files[i] != nullptr) FreeStringArray(st.stat_files[i], st.stat_file_counts[i]);
    if (st.stat_metadata_keys != nullptr && st.stat_metadata_keys[i] != nullptr) {
      FreeStringArray(st.stat_metadata_keys[i], st.stat_metadata_counts[i]);
    }
    if (st.stat_metadata_values != nullptr && st.stat_metadata_values[i] != nullptr) {
      FreeStringArray(st.stat_metadata_values[i], st.stat_metadata_counts[i]);
    }
  }
  std::free(st.stat_keys);
  std::free(st.stat_files);
  std::free(st.stat_file_counts);
  std::free(st.stat_metadata_keys);
  std::free(st.stat_metadata_values);
  std::free(st.stat_metadata_counts);

  for (uint32_t i = 0; i < m->lob_files.num_files && m->lob_files.files != nullptr; ++i) {
    std::free(const_cast<char*>(m->lob_files.files[i].path));
  }
  std::free(m->lob_files.files);

  for (uint32_t i = 0; i < m->indexes.num_indexes && m->indexes.indexes != nullptr; ++i) {
    LoonIndexInfo& c = m->indexes.indexes[i];
    for (const char* s : {c.column_name, c.index_name, c.index_type, c.path}) std::free(const_cast<char*>(s));
    if (c.index_file_keys != nullptr) FreeStringArray(c.index_file_keys, c.num_index_file_keys);
    if (c.property_keys != nullptr) FreeStringArray(c.property_keys, c.num_properties);
    if (c.property_values != nullptr) FreeStringArray(c.property_values, c.num_properties);
  }
  std::free(m->indexes.indexes);
  std::free(m);
}

std::string DebugString(const LoonManifest& m) {
  std::ostringstream os;
  ColumnGroupList groups;
  auto parsed = ColumnGroupsFromC(m.column_groups);
  os << "Manifest {\n";
  if (parsed.ok()) {
    os << loon::DebugString(*parsed);
  } else {
    os << "  column groups: <invalid: " << parsed.status().message() << ">\n";
  }
  os << "  delta logs (" << m.delta_logs.num_delta_logs << "):\n";
  for (uint32_t i = 0; i < m.delta_logs.num_delta_logs; ++i) {
    os << "    " << m.delta_logs.delta_log_paths[i] << " entries=" << m.delta_logs.delta_log_num_entries[i] << "\n";
  }
  os << "  stats (" << m.stats.num_stats << "):\n";
  for (uint32_t i = 0; i < m.stats.num_stats; ++i) {
    os << "    " << m.stats.stat_keys[i] << ": files=[";
    for (uint32_t j = 0; j < m.stats.stat_file_counts[i]; ++j) os << (j ? ", " : "") << m.stats.stat_files[i][j];
    os << "] metadata={";
    for (uint32_t j = 0; j < m.stats.stat_metadata_counts[i]; ++j) {
      os << (j ? ", " : "") << m.stats.stat_metadata_keys[i][j] << "=" << m.stats.stat_metadata_values[i][j];
    }
    os << "}\n";
  }
  os << "  lob files (" << m.lob_files.num_files << "):\n";
  for (uint32_t i = 0; i < m.lob_files.num_files; ++i) {
    const auto& l = m.lob_files.files[i];
    os << "    " << l.path << " field_id=" << l.field_id << " total_rows=" << l.total_rows
       << " valid_rows=" << l.valid_rows << " size=" << l.file_size_bytes << "\n";
  }
  os << "  indexes (" << m.indexes.num_indexes << "):\n";
  for (uint32_t i = 0; i < m.indexes.num_indexes; ++i) {
    const auto& x = m.indexes.indexes[i];
    os << "    column=" << x.column_name << " name=" << x.index_name << " type=" << x.index_type
       << " path=" << x.path << " index_id=" << x.index_id << " field_id=" << x.field_id << "\n";
  }
  os << "}\n";
  return os.str();
}

}  // namespace loon::manifest
