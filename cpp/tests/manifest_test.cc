// Manifests through the C ABI: exact round trip via a transaction, the 128-byte C layout,
// legacy raw fixtures v1-v3 (tests/fixtures/legacy) and upgrading them with a new commit.
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <map>

#include "txn_test_util.h"

namespace {

std::string g_root;

// tests/fixtures/legacy at the repository root (this file is cpp/tests/manifest_test.cc).
std::string FixtureDir() {
  return (std::filesystem::path(LOON_REPO_DIR) / "tests" / "fixtures" / "legacy").string();
}

void TestLayout() {
  static_assert(sizeof(LoonManifest) == 128);
  static_assert(offsetof(LoonManifest, delta_logs) == 16);
  static_assert(offsetof(LoonManifest, stats) == 40);
  static_assert(offsetof(LoonManifest, lob_files) == 96);
  static_assert(offsetof(LoonManifest, indexes) == 112);
  static_assert(sizeof(LoonIndexInfo) == 144);
  loon_manifest_destroy(nullptr);
}

struct Expected {
  std::vector<FakeGroup> groups;
};

void CheckGroups(const LoonManifest* m, const std::vector<FakeGroup>& groups) {
  CHECK_EQ(m->column_groups.num_of_column_groups, static_cast<uint32_t>(groups.size()));
  if (m->column_groups.num_of_column_groups != groups.size()) return;
  for (size_t i = 0; i < groups.size(); ++i) {
    const LoonColumnGroup& g = m->column_groups.column_group_array[i];
    CHECK_EQ(std::string(g.format), groups[i].format);
    CHECK_EQ(g.num_of_columns, static_cast<uint32_t>(groups[i].columns.size()));
    for (uint32_t c = 0; c < g.num_of_columns && c < groups[i].columns.size(); ++c) {
      CHECK_EQ(std::string(g.columns[c]), groups[i].columns[c]);
    }
    CHECK_EQ(g.num_of_files, static_cast<uint32_t>(groups[i].files.size()));
    for (uint32_t f = 0; f < g.num_of_files && f < groups[i].files.size(); ++f) {
      const auto& want = groups[i].files[f];
      CHECK_EQ(std::string(g.files[f].path), want.path);
      CHECK_EQ(g.files[f].start_index, want.start);
      CHECK_EQ(g.files[f].end_index, want.end);
      std::map<std::string, std::string> props;
      for (uint32_t p = 0; p < g.files[f].num_properties; ++p) {
        props[g.files[f].property_keys[p]] = g.files[f].property_values[p];
      }
      CHECK(props == want.props);
    }
  }
}

void TestRoundTrip() {
  TestProps props(g_root);
  const std::string base = "round/trip";
  std::vector<FakeGroup> groups = {
      FakeGroup{{"pk", "name", "ts"},
                {FakeFile{base + "/_data/0_a.parquet", 0, 100, {{"file_size", "4096"}, {"footer_size", "300"}}},
                 FakeFile{base + "/_data/0_b.parquet", 5, 80, {}},
                 FakeFile{"s3://host/bucket/ext.parquet", -1, -1, {}},  // URI kept verbatim
                 FakeFile{"/abs/f.parquet", 0, 1, {}}}},               // absolute kept verbatim
      FakeGroup{{"vec"}, {FakeFile{base + "/_data/1_a.vortex", 0, 176, {{"k", "v with spaces"}}}}, "vortex"}};
  {
    Txn t(base, &props.p);
    FakeColumnGroups c(groups);
    CHECK_OK(loon_transaction_append_files(t.h, c.get()));
    CHECK_OK(loon_transaction_add_delta_log(t.h, (base + "/_delta/x.parquet").c_str(), 123456));
    CHECK_EQ(t.Commit(), 0);
  }
  Txn t(base, &props.p);
  ManifestPtr m;
  CHECK_OK(loon_transaction_get_manifest(t.h, &m.m));
  CheckGroups(m.m, groups);
  CHECK_EQ(m->delta_logs.num_delta_logs, uint32_t{1});
  CHECK_EQ(std::string(m->delta_logs.delta_log_paths[0]), base + "/_delta/x.parquet");
  CHECK_EQ(m->delta_logs.delta_log_num_entries[0], uint32_t{123456});

  // The same through the file path, and with the base written with a leading '/'.
  ManifestPtr e;
  CHECK_OK(loon_exttable_read_manifest(("/" + base + "/_metadata/manifest-1.avro").c_str(), &props.p, &e.m));
  CHECK_EQ(std::string(e->column_groups.column_group_array[0].files[0].path), "/" + base + "/_data/0_a.parquet");
  CHECK_EQ(std::string(e->column_groups.column_group_array[0].files[2].path), "s3://host/bucket/ext.parquet");

  // Error codes of exttable_read_manifest.
  LoonManifest* none = nullptr;
  CHECK_CODE(loon_exttable_read_manifest((base + "/_metadata/manifest-9.avro").c_str(), &props.p, &none), 12);
  CHECK_CODE(loon_exttable_read_manifest(nullptr, &props.p, &none), 1);
  CHECK_CODE(loon_exttable_read_manifest("x", nullptr, &none), 1);
  CHECK_CODE(loon_exttable_read_manifest("x", &props.p, nullptr), 1);
  TestProps bad(g_root, {{"fs.use_ssl", "maybe"}});
  CHECK_CODE(loon_exttable_read_manifest((base + "/_metadata/manifest-1.avro").c_str(), &bad.p, &none), 3);
  // URI without a matching extfs config -> 3; with one -> works.
  std::string uri = "local:///local/" + base + "/_metadata/manifest-1.avro";
  CHECK_CODE(loon_exttable_read_manifest(uri.c_str(), &props.p, &none), 3);
  TestProps ext(g_root, {{"extfs.mine.storage_type", "local"}, {"extfs.mine.root_path", g_root},
                         {"extfs.mine.bucket_name", "local"}});
  ManifestPtr u;
  CHECK_OK(loon_exttable_read_manifest(uri.c_str(), &ext.p, &u.m));
  CHECK_EQ(std::string(u->column_groups.column_group_array[0].files[0].path),
           "local:///local/" + base + "/_data/0_a.parquet");
}

void TestLegacy() {
  std::string src = FixtureDir();
  if (!std::filesystem::exists(src)) {
    std::fprintf(stderr, "legacy fixtures missing at %s\n", src.c_str());
    CHECK(false);
    return;
  }
  // Work on a copy so the upgrade commit never touches the repository.
  std::string root = g_root + "/legacy";
  std::filesystem::copy(src, root, std::filesystem::copy_options::recursive);
  TestProps props(root);
  for (int v = 1; v <= 3; ++v) {
    std::string base = "v" + std::to_string(v);
    ManifestPtr m;
    CHECK_OK(loon_exttable_read_manifest((base + "/_metadata/manifest-1.avro").c_str(), &props.p, &m.m));
    if (m.m == nullptr) continue;
    CHECK_EQ(m->column_groups.num_of_column_groups, uint32_t{2});
    const auto& g0 = m->column_groups.column_group_array[0];
    CHECK_EQ(g0.num_of_files, uint32_t{2});
    CHECK_EQ(g0.num_of_columns, uint32_t{2});
    CHECK_EQ(std::string(g0.columns[1]), std::string("name"));
    CHECK_EQ(std::string(g0.files[0].path), base + "/_data/0_0b7e3f9a-2c41-4d8e-9f10-1a2b3c4d5e01.parquet");
    CHECK_EQ(g0.files[0].end_index, int64_t{3});
    CHECK_EQ(g0.files[1].end_index, int64_t{2});
    CHECK_EQ(g0.files[0].num_properties, uint32_t{0});
    CHECK(std::filesystem::exists(root + "/" + g0.files[0].path));  // data files really there
    const auto& g1 = m->column_groups.column_group_array[1];
    CHECK_EQ(std::string(g1.columns[0]), std::string("value"));
    CHECK_EQ(g1.files[0].end_index, int64_t{5});
    CHECK_EQ(m->delta_logs.num_delta_logs, uint32_t{1});
    CHECK_EQ(std::string(m->delta_logs.delta_log_paths[0]), base + "/_delta/delta_0.parquet");
    CHECK_EQ(m->delta_logs.delta_log_num_entries[0], uint32_t{2});
    CHECK_EQ(m->stats.num_stats, uint32_t{1});
    CHECK_EQ(std::string(m->stats.stat_keys[0]), std::string("bloom"));
    CHECK_EQ(std::string(m->stats.stat_files[0][0]), base + "/_stats/bloom_0.bin");
    CHECK_EQ(m->stats.stat_metadata_counts[0], static_cast<uint32_t>(v >= 3 ? 1 : 0));
    CHECK_EQ(m->indexes.num_indexes, uint32_t{0});  // v2/v3 old-style indexes are not read

    // Upgrade: begin on the legacy version, append, commit -> container version 2.
    Txn t(base, &props.p);
    CHECK_EQ(t.ReadVersion(), int64_t{1});
    auto more = FakeColumnGroups({FakeGroup{{"id", "name"}, {FakeFile{base + "/_data/0_new.parquet", 0, 1, {}}}},
                                  FakeGroup{{"value"}, {FakeFile{base + "/_data/1_new.parquet", 0, 1, {}}}}});
    CHECK_OK(loon_transaction_append_files(t.h, more.get()));
    int64_t nv = 0;
    CHECK_EQ(t.Commit(&nv), 0);
    CHECK_EQ(nv, int64_t{2});
    Txn after(base, &props.p);
    ManifestPtr m2;
    CHECK_OK(loon_transaction_get_manifest(after.h, &m2.m));
    CHECK_EQ(m2->column_groups.column_group_array[0].num_of_files, uint32_t{3});
    CHECK_EQ(m2->stats.num_stats, uint32_t{1});
    CHECK_EQ(m2->delta_logs.num_delta_logs, uint32_t{1});
    std::string bytes = Slurp(root + "/" + base + "/_metadata/manifest-2.avro");
    CHECK(bytes.compare(0, 4, std::string("Obj\x01", 4)) == 0);
  }
}

void TestLatestVersionRules() {
  TestProps props(g_root);
  const std::string base = "names";
  std::filesystem::create_directories(g_root + "/" + base + "/_metadata");
  {
    Txn t(base, &props.p);
    auto g = OneFile({"a"}, "f.parquet", 1);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
    CHECK_EQ(t.Commit(), 0);
  }
  // Names that are not exactly manifest-<digits>.avro are ignored.
  for (const char* junk : {"manifest-7.avro.tmp", "manifest-x.avro", "xmanifest-8.avro", "manifest-.avro",
                           ".manifest-9.avro.abc.tmp"}) {
    Spit(g_root + "/" + base + "/_metadata/" + junk, "junk");
  }
  Txn t(base, &props.p);
  CHECK_EQ(t.ReadVersion(), int64_t{1});
  auto g = OneFile({"a"}, "g.parquet", 1);
  CHECK_OK(loon_transaction_append_files(t.h, g.get()));
  int64_t v = 0;
  CHECK_EQ(t.Commit(&v), 0);
  CHECK_EQ(v, int64_t{2});
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/loon_manifest_test_XXXXXX";
  g_root = mkdtemp(tmpl);
  TestLayout();
  TestRoundTrip();
  TestLegacy();
  TestLatestVersionRules();
  std::filesystem::remove_all(g_root);
  return TestMain("manifest_test");
}
