// Path rules (README "Manifest files": paths) and the C form of a manifest (ffi_c.h 3.4 manifest).
#include "manifest/manifest.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "common/status.h"
#include "filesystem/fs.h"

namespace loon::manifest {

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

// The directory prefixes a path kind is stored relative to.
struct Dir {
  std::vector<std::string> strip;  // accepted spellings on write, each ending with '/'
  std::string restore;             // prefix re-added on read
};

Dir MakeDir(const std::string& base, const std::string& sub) {
  std::string b = TrimSlashes(base);
  Dir d;
  d.restore = b.empty() ? sub + "/" : b + "/" + sub + "/";
  d.strip.push_back(d.restore);
  std::string norm = fs::NormalizePath(d.restore);
  if (norm != d.restore) d.strip.push_back(norm);
  return d;
}

Dir LobDir(const std::string& base) {
  std::string b = TrimSlashes(base);
  Dir d;
  std::string parent = ParentOf(b);
  d.restore = parent.empty() ? "lobs/" : fs::JoinPath(parent, "lobs") + "/";
  d.strip = {b + "/../lobs/", d.restore, fs::NormalizePath(b + "/../lobs/"), fs::NormalizePath(d.restore)};
  return d;
}

std::string Strip(const std::string& path, const Dir& dir) {
  std::string candidates[2] = {path, fs::NormalizePath(path)};
  for (const auto& p : candidates) {
    for (const auto& prefix : dir.strip) {
      if (!prefix.empty() && p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0) {
        return p.substr(prefix.size());
      }
    }
  }
  return path;
}

std::string Restore(const std::string& path, const Dir& dir) {
  if (path.empty() || path[0] == '/' || fs::HasScheme(path)) return path;
  return dir.restore + path;
}

template <typename Fn>
Manifest MapPaths(const Manifest& in, const std::string& base, Fn fn) {
  Manifest out = in;
  Dir data = MakeDir(base, "_data"), delta = MakeDir(base, "_delta"), stats = MakeDir(base, "_stats"),
      index = MakeDir(base, "_index"), lobs = LobDir(base);
  for (auto& g : out.column_groups) {
    for (auto& f : g.files) f.path = fn(f.path, data);
  }
  for (auto& d : out.delta_logs) d.path = fn(d.path, delta);
  for (auto& [key, s] : out.stats) {
    for (auto& p : s.paths) p = fn(p, stats);
  }
  for (auto& i : out.indexes) i.path = fn(i.path, index);
  for (auto& l : out.lob_files) l.path = fn(l.path, lobs);
  return out;
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

Manifest StoredForm(const Manifest& full, const std::string& base) { return MapPaths(full, base, Strip); }
Manifest FullForm(const Manifest& stored, const std::string& base) { return MapPaths(stored, base, Restore); }

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
