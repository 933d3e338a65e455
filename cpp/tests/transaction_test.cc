// Transactions (ffi_c.h 2.8 transaction) through the C ABI: apply order, validation, resolution, faults,
// concurrency (threads committing with FAIL+retries and MERGE), commit throughput.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "milvus-storage/ffi_fiu.h"
#include "txn_test_util.h"

namespace {

std::string g_root;

std::string MetaDir(const std::string& base) { return g_root + "/" + base + "/_metadata"; }

std::set<std::string> FilesOf(const LoonManifest* m, uint32_t group = 0) {
  std::set<std::string> out;
  if (group >= m->column_groups.num_of_column_groups) return out;
  const auto& g = m->column_groups.column_group_array[group];
  for (uint32_t i = 0; i < g.num_of_files; ++i) out.insert(g.files[i].path);
  return out;
}

std::vector<std::string> Columns(const LoonManifest* m, uint32_t group) {
  std::vector<std::string> out;
  const auto& g = m->column_groups.column_group_array[group];
  for (uint32_t i = 0; i < g.num_of_columns; ++i) out.push_back(g.columns[i]);
  return out;
}

void GetManifest(Txn& t, ManifestPtr* out) { CHECK_OK(loon_transaction_get_manifest(t.h, &out->m)); }

void TestBeginAndEmpty() {
  TestProps props(g_root);
  Txn t("empty", &props.p);
  CHECK_EQ(t.code, 0);
  CHECK_EQ(t.ReadVersion(), int64_t{0});
  ManifestPtr m;
  GetManifest(t, &m);
  CHECK(m.m != nullptr);
  CHECK_EQ(m->column_groups.num_of_column_groups, uint32_t{0});
  CHECK_EQ(m->delta_logs.num_delta_logs, uint32_t{0});
  CHECK_EQ(m->stats.num_stats, uint32_t{0});
  CHECK_EQ(m->lob_files.num_files, uint32_t{0});
  CHECK_EQ(m->indexes.num_indexes, uint32_t{0});
  CHECK_EQ(t.Commit(), 4);  // nothing recorded
  CHECK(ListNames(MetaDir("empty")).empty());

  LoonTransactionHandle h = 0;
  CHECK_CODE(loon_transaction_begin(nullptr, &props.p, -1, 0, 0, &h), 1);
  CHECK_CODE(loon_transaction_begin("x", nullptr, -1, 0, 0, &h), 1);
  CHECK_CODE(loon_transaction_begin("x", &props.p, -1, 0, 0, nullptr), 1);
  CHECK_CODE(loon_transaction_begin("x", &props.p, 7, 0, 0, &h), 12);
  TestProps bad(g_root, {{"transaction.commit.num-retries", "many"}});
  CHECK_CODE(loon_transaction_begin("x", &bad.p, -1, 0, 0, &h), 7);
  CHECK_CODE(loon_transaction_commit(0, nullptr), 1);
  CHECK_CODE(loon_transaction_append_files(0, nullptr), 1);
  CHECK_CODE(loon_transaction_append_files(t.h, nullptr), 1);
  CHECK_CODE(loon_transaction_drop_index(t.h, 0), 1);
  CHECK_CODE(loon_transaction_drop_column(t.h, nullptr), 1);
  CHECK_CODE(loon_transaction_add_delta_log(t.h, nullptr, 1), 1);
  CHECK_CODE(loon_transaction_add_column_group(t.h, nullptr), 1);
  const char* files[] = {"a"};
  CHECK_CODE(loon_transaction_update_stat(t.h, "k", nullptr, 0, nullptr, nullptr, 0), 1);
  CHECK_CODE(loon_transaction_update_stat(t.h, nullptr, files, 1, nullptr, nullptr, 0), 1);
  CHECK_CODE(loon_transaction_get_manifest(t.h, nullptr), 1);
  loon_transaction_destroy(0);

  // Other negative versions are kept verbatim and behave like 0.
  Txn neg("empty", &props.p, -5);
  CHECK_EQ(neg.code, 0);
  CHECK_EQ(neg.ReadVersion(), int64_t{-5});
}

void TestAppendRoundTrip() {
  TestProps props(g_root);
  const std::string base = "/rt/ds";  // leading '/' stays inside the root
  {
    Txn t(base, &props.p);
    auto groups = FakeColumnGroups({FakeGroup{{"id", "name"}, {FakeFile{base + "/_data/0_a.parquet", 0, 10, {{"file_size", "123"}}}}},
                                    FakeGroup{{"vec"}, {FakeFile{base + "/_data/1_a.parquet", 0, 10, {}}}}});
    CHECK_OK(loon_transaction_append_files(t.h, groups.get()));
    CHECK_OK(loon_transaction_add_delta_log(t.h, (base + "/_delta/d1.parquet").c_str(), 5));
    CHECK_OK(loon_transaction_add_delta_log(t.h, "delta/log_001.parquet", 7));  // relative trap (5.6)
    std::string sf = base + "/_stats/bloom.bin";
    const char* sf_arr[] = {sf.c_str(), nullptr};
    const char* mk[] = {"kind", "ver"};
    const char* mv[] = {"bloom", "2"};
    CHECK_OK(loon_transaction_update_stat(t.h, "zeta", sf_arr, 2, mk, mv, 2));  // NULL entry skipped
    const char* uri_files[] = {"s3://host/bucket/k.bin", "/abs/x.bin"};
    CHECK_OK(loon_transaction_update_stat(t.h, "alpha", uri_files, 2, nullptr, nullptr, 0));
    const char* empty[] = {nullptr};
    CHECK_OK(loon_transaction_update_stat(t.h, "empty", empty, 0, mk, nullptr, 2));
    int64_t v = 0;
    CHECK_EQ(t.Commit(&v), 0);
    CHECK_EQ(v, int64_t{1});
  }
  // On disk: Avro container with the writer schema, stored paths stripped of the base prefix.
  std::string bytes = Slurp(g_root + base + "/_metadata/manifest-1.avro");
  CHECK(bytes.compare(0, 4, std::string("Obj\x01", 4)) == 0);
  CHECK(bytes.find("\"namespace\":\"milvus_storage\"") != std::string::npos);
  CHECK(bytes.find("\"default\":{}") != std::string::npos);
  CHECK(bytes.find("_data/0_a.parquet") == std::string::npos);
  CHECK(bytes.find("0_a.parquet") != std::string::npos);
  for (const auto& name : ListNames(g_root + base + "/_metadata")) CHECK(name.rfind("manifest-", 0) == 0);

  Txn t(base, &props.p);
  CHECK_EQ(t.ReadVersion(), int64_t{1});
  ManifestPtr m;
  GetManifest(t, &m);
  CHECK_EQ(m->column_groups.num_of_column_groups, uint32_t{2});
  CHECK((FilesOf(m.m, 0) == std::set<std::string>{base + "/_data/0_a.parquet"}));
  CHECK((Columns(m.m, 0) == std::vector<std::string>{"id", "name"}));
  const auto& f0 = m->column_groups.column_group_array[0].files[0];
  CHECK_EQ(f0.end_index, int64_t{10});
  CHECK_EQ(f0.num_properties, uint32_t{1});
  CHECK(std::strcmp(f0.property_keys[0], "file_size") == 0 && std::strcmp(f0.property_values[0], "123") == 0);
  CHECK_EQ(m->delta_logs.num_delta_logs, uint32_t{2});
  CHECK(std::string(m->delta_logs.delta_log_paths[0]) == base + "/_delta/d1.parquet");
  CHECK(std::string(m->delta_logs.delta_log_paths[1]) == base + "/_delta/delta/log_001.parquet");
  CHECK_EQ(m->delta_logs.delta_log_num_entries[1], uint32_t{7});
  CHECK_EQ(m->stats.num_stats, uint32_t{3});
  CHECK(std::strcmp(m->stats.stat_keys[0], "alpha") == 0);  // sorted by key
  CHECK(std::strcmp(m->stats.stat_keys[1], "empty") == 0);
  CHECK(std::strcmp(m->stats.stat_keys[2], "zeta") == 0);
  CHECK(std::strcmp(m->stats.stat_files[0][0], "s3://host/bucket/k.bin") == 0);
  CHECK(std::strcmp(m->stats.stat_files[0][1], "/abs/x.bin") == 0);
  CHECK(m->stats.stat_metadata_keys[0] == nullptr && m->stats.stat_metadata_counts[0] == 0);
  CHECK_EQ(m->stats.stat_file_counts[1], uint32_t{0});
  CHECK_EQ(m->stats.stat_metadata_counts[1], uint32_t{0});  // values array NULL: metadata ignored
  CHECK(std::string(m->stats.stat_files[2][0]) == base + "/_stats/bloom.bin");
  CHECK_EQ(m->stats.stat_metadata_counts[2], uint32_t{2});
  char* dbg = loon_manifest_debug_string(m.m);
  CHECK(dbg != nullptr && std::strstr(dbg, "zeta") != nullptr && std::strstr(dbg, "0_a.parquet") != nullptr);
  loon_free_cstr(dbg);
  dbg = loon_manifest_debug_string(nullptr);
  CHECK(dbg != nullptr);
  loon_free_cstr(dbg);

  // Read by file path: base = grandparent directory.
  ManifestPtr ext;
  CHECK_OK(loon_exttable_read_manifest((base + "/_metadata/manifest-1.avro").c_str(), &props.p, &ext.m));
  CHECK((FilesOf(ext.m, 0) == std::set<std::string>{base + "/_data/0_a.parquet"}));
}

void TestValidation() {
  TestProps props(g_root);
  const std::string base = "val";
  {
    Txn t(base, &props.p);
    auto g = OneFile({"a", "b"}, base + "/_data/0_1.parquet", 10);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
    CHECK_EQ(t.Commit(), 0);
  }
  auto expect_commit = [&](auto&& edit, int code) {
    Txn t(base, &props.p);
    edit(t);
    CHECK_EQ(t.Commit(), code);
  };
  // Append: different column set, different format, different group count -> 4.
  expect_commit([&](Txn& t) {
    auto g = OneFile({"a", "c"}, "x.parquet", 1);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
  }, 4);
  expect_commit([&](Txn& t) {
    auto g = OneFile({"b", "a"}, "x.parquet", 1, "vortex");
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
  }, 4);
  expect_commit([&](Txn& t) {
    FakeColumnGroups g({FakeGroup{{"a", "b"}, {}}, FakeGroup{{"c"}, {}}});
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
  }, 4);
  // Column order is ignored.
  expect_commit([&](Txn& t) {
    auto g = OneFile({"b", "a"}, base + "/_data/0_2.parquet", 5);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
  }, 0);
  // Added group: existing column, wrong row count -> 4; the count is taken before this txn's appends.
  expect_commit([&](Txn& t) {
    auto g = OneFile({"a"}, "n.parquet", 15);
    CHECK_OK(loon_transaction_add_column_group(t.h, g.group(0)));
  }, 4);
  expect_commit([&](Txn& t) {
    auto g = OneFile({"c"}, "n.parquet", 14);
    CHECK_OK(loon_transaction_add_column_group(t.h, g.group(0)));
  }, 4);
  expect_commit([&](Txn& t) {
    auto more = OneFile({"a", "b"}, base + "/_data/0_3.parquet", 5);
    CHECK_OK(loon_transaction_append_files(t.h, more.get()));
    auto g = OneFile({"c"}, base + "/_data/1_1.parquet", 15);
    CHECK_OK(loon_transaction_add_column_group(t.h, g.group(0)));
  }, 0);
  Txn t(base, &props.p);
  ManifestPtr m;
  GetManifest(t, &m);
  CHECK_EQ(m->column_groups.num_of_column_groups, uint32_t{2});
  CHECK_EQ(FilesOf(m.m, 0).size(), size_t{3});
  // Drop column: removed from its group; a group left empty disappears; unknown name is a no-op.
  CHECK_OK(loon_transaction_drop_column(t.h, "c"));
  CHECK_OK(loon_transaction_drop_column(t.h, "b"));
  CHECK_OK(loon_transaction_drop_column(t.h, "nope"));
  CHECK_OK(loon_transaction_drop_index(t.h, 42));
  int64_t v = 0;
  CHECK_EQ(t.Commit(&v), 0);
  Txn after(base, &props.p);
  ManifestPtr m2;
  GetManifest(after, &m2);
  CHECK_EQ(m2->column_groups.num_of_column_groups, uint32_t{1});
  CHECK((Columns(m2.m, 0) == std::vector<std::string>{"a"}));
  // Exact older version still readable.
  Txn old(base, &props.p, 1);
  CHECK_EQ(old.ReadVersion(), int64_t{1});
  ManifestPtr m1;
  GetManifest(old, &m1);
  CHECK_EQ(FilesOf(m1.m, 0).size(), size_t{1});
}

void TestResolution() {
  TestProps props(g_root);
  const std::string base = "res";
  {
    Txn t(base, &props.p);
    auto g = OneFile({"a"}, base + "/_data/0_base.parquet", 1);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
    CHECK_EQ(t.Commit(), 0);
  }
  auto append = [&](Txn& t, const std::string& name) {
    auto g = OneFile({"a"}, base + "/_data/" + name, 1);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
  };
  // FAIL: a concurrent commit makes the slower one fail with 112 (also with retries).
  Txn slow(base, &props.p, -1, LOON_TRANSACTION_RESOLVE_FAIL, 3);
  Txn fast(base, &props.p);
  append(slow, "slow.parquet");
  append(fast, "fast.parquet");
  CHECK_EQ(fast.Commit(), 0);
  CHECK_EQ(slow.Commit(), 112);
  CHECK(ListNames(MetaDir(base)).size() == 2);

  // OVERWRITE: applied to the read snapshot; the concurrent version's content is discarded.
  Txn ow(base, &props.p, 1, LOON_TRANSACTION_RESOLVE_OVERWRITE);
  append(ow, "ow.parquet");
  int64_t v = 0;
  CHECK_EQ(ow.Commit(&v), 0);
  CHECK_EQ(v, int64_t{3});
  // Reusing the handle re-applies the same edits: OVERWRITE writes yet another version.
  CHECK_EQ(ow.Commit(&v), 0);
  CHECK_EQ(v, int64_t{4});
  {
    Txn r(base, &props.p);
    ManifestPtr m;
    GetManifest(r, &m);
    CHECK((FilesOf(m.m) == std::set<std::string>{base + "/_data/0_base.parquet", base + "/_data/ow.parquet"}));
  }
  // FAIL reuse: the second commit sees its own first commit as a newer version.
  Txn f(base, &props.p);
  append(f, "f.parquet");
  CHECK_EQ(f.Commit(), 0);
  CHECK_EQ(f.Commit(), 112);

  // MERGE: commuting appends and stats on other keys rebase; same stat key or drops -> 112.
  Txn m1(base, &props.p, -1, LOON_TRANSACTION_RESOLVE_MERGE);
  Txn m2(base, &props.p, -1, LOON_TRANSACTION_RESOLVE_MERGE);
  Txn m3(base, &props.p, -1, LOON_TRANSACTION_RESOLVE_MERGE);
  Txn m4(base, &props.p, -1, LOON_TRANSACTION_RESOLVE_MERGE);
  append(m1, "m1.parquet");
  append(m2, "m2.parquet");
  const char* sf[] = {"s.bin"};
  CHECK_OK(loon_transaction_update_stat(m1.h, "k1", sf, 1, nullptr, nullptr, 0));
  CHECK_OK(loon_transaction_update_stat(m2.h, "k2", sf, 1, nullptr, nullptr, 0));
  CHECK_OK(loon_transaction_update_stat(m3.h, "k1", sf, 1, nullptr, nullptr, 0));
  CHECK_OK(loon_transaction_drop_column(m4.h, "zzz"));
  CHECK_EQ(m1.Commit(), 0);
  CHECK_EQ(m2.Commit(), 0);
  CHECK_EQ(m3.Commit(), 112);
  CHECK_EQ(m4.Commit(), 112);
  Txn r(base, &props.p);
  ManifestPtr m;
  GetManifest(r, &m);
  auto files = FilesOf(m.m);
  CHECK(files.count(base + "/_data/m1.parquet") == 1 && files.count(base + "/_data/m2.parquet") == 1);
  CHECK_EQ(m->stats.num_stats, uint32_t{2});
  // MERGE with an added group whose rows no longer match the newest version -> 112.
  Txn add(base, &props.p, -1, LOON_TRANSACTION_RESOLVE_MERGE);
  auto g = OneFile({"b"}, base + "/_data/1_b.parquet", static_cast<int64_t>(files.size()));
  CHECK_OK(loon_transaction_add_column_group(add.h, g.group(0)));
  Txn more(base, &props.p);
  append(more, "more.parquet");
  CHECK_EQ(more.Commit(), 0);
  CHECK_EQ(add.Commit(), 112);
}

void TestFaults() {
  if (!loon_fiu_is_enabled()) return;
  TestProps props(g_root);
  const std::string base = "faults";
  {
    Txn t(base, &props.p);
    auto g = OneFile({"a"}, base + "/_data/0.parquet", 1);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
    CHECK_EQ(t.Commit(), 0);
  }
  auto arm = [](const char* name) { CHECK_OK(loon_fiu_enable(name, std::strlen(name), 1)); };
  for (const char* point : {loon_fiukey_manifest_commit_fail, loon_fiukey_manifest_write_fail,
                            loon_fiukey_commit_before_manifest_fail, loon_fiukey_fs_open_output_fail,
                            loon_fiukey_fs_write_fail, loon_fiukey_fs_short_write_fail}) {
    Txn t(base, &props.p, -1, 0, 3);
    auto g = OneFile({"a"}, base + "/_data/x.parquet", 1);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
    arm(point);
    int code = t.Commit();
    if (code != 4) std::fprintf(stderr, "fault %s gave %d\n", point, code);
    CHECK_EQ(code, 4);
    // Nothing visible and nothing left behind: only manifest-1.avro.
    auto names = ListNames(MetaDir(base));
    CHECK_EQ(names.size(), size_t{1});
    // The same handle commits fine once the fault is gone.
    int64_t v = 0;
    CHECK_EQ(t.Commit(&v), 0);
    CHECK_EQ(v, int64_t{2});
    std::filesystem::remove(MetaDir(base) + "/manifest-2.avro");
  }
  loon_fiu_disable_all();
  // manifest.read.fail fires only when begin loads a version > 0.
  arm(loon_fiukey_manifest_read_fail);
  LoonTransactionHandle h = 0;
  CHECK_CODE(loon_transaction_begin("faults-none", &props.p, -1, 0, 0, &h), 0);
  loon_transaction_destroy(h);
  CHECK_CODE(loon_transaction_begin(base.c_str(), &props.p, -1, 0, 0, &h), 3);
  loon_fiu_disable_all();
}

// sleep.before.commit.manifest forces a lost create-only race: A resolves, sleeps 5 s, B commits
// the same version number, A's publish hits EEXIST and retries (or gives up with 111).
void TestLostRace() {
  if (!loon_fiu_is_enabled()) return;
  const std::string base = "race";
  TestProps plain(g_root);
  {
    Txn t(base, &plain.p);
    auto g = OneFile({"a"}, base + "/_data/0.parquet", 1);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
    CHECK_EQ(t.Commit(), 0);
  }
  // FAIL without retries -> 111. MERGE with retry_limit 0 but num-retries=1 -> rebased, success.
  TestProps with_retries(g_root, {{"transaction.commit.num-retries", "1"}});
  struct Case {
    const LoonProperties* props;
    int32_t resolve;
    int expected;
  } cases[] = {{&plain.p, LOON_TRANSACTION_RESOLVE_FAIL, 111}, {&with_retries.p, LOON_TRANSACTION_RESOLVE_MERGE, 0}};
  for (const auto& c : cases) {
    Txn a(base, c.props, -1, c.resolve, 0);
    auto ga = OneFile({"a"}, base + "/_data/a.parquet", 1);
    CHECK_OK(loon_transaction_append_files(a.h, ga.get()));
    const char* point = loon_fiukey_sleep_before_commit_manifest;
    CHECK_OK(loon_fiu_enable(point, std::strlen(point), 1));
    int code_a = -1;
    int64_t va = -1;
    std::thread th([&] { code_a = a.Commit(&va); });
    std::this_thread::sleep_for(std::chrono::seconds(1));
    Txn b(base, &plain.p);
    auto gb = OneFile({"a"}, base + "/_data/b.parquet", 1);
    CHECK_OK(loon_transaction_append_files(b.h, gb.get()));
    int64_t vb = -1;
    CHECK_EQ(b.Commit(&vb), 0);
    th.join();
    CHECK_EQ(code_a, c.expected);
    if (c.expected == 0) CHECK_EQ(va, vb + 1);
  }
  loon_fiu_disable_all();
}

void TestCorruption() {
  TestProps props(g_root);
  const std::string base = "corrupt";
  {
    Txn t(base, &props.p);
    auto g = FakeColumnGroups({FakeGroup{{"a", "b"}, {FakeFile{base + "/_data/0.parquet", 0, 3, {{"k", "v"}}}}}});
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
    CHECK_OK(loon_transaction_add_delta_log(t.h, "d.parquet", 2));
    CHECK_EQ(t.Commit(), 0);
  }
  std::string path = MetaDir(base) + "/manifest-1.avro";
  const std::string good = Slurp(path);
  const std::string rel = base + "/_metadata/manifest-1.avro";
  auto read_code = [&](const std::string& bytes) {
    Spit(path, bytes);
    LoonManifest* m = nullptr;
    LoonFFIResult r = loon_exttable_read_manifest(rel.c_str(), &props.p, &m);
    int code = r.err_code;
    if (code != 0 && code != 3) std::fprintf(stderr, "unexpected code %d: %s\n", code, r.message);
    if (code == 3) CHECK(r.message && std::strstr(r.message, "manifest-1.avro") != nullptr);
    loon_ffi_free_result(&r);
    loon_manifest_destroy(m);
    return code;
  };
  CHECK_EQ(read_code(""), 3);
  CHECK_EQ(read_code("garbage!"), 3);
  for (size_t len = 1; len < good.size(); len += (len < 64 ? 1 : 7)) CHECK_EQ(read_code(good.substr(0, len)), 3);
  // Every single-bit flip either still parses or is a clean code 3.
  int parsed = 0, rejected = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit : {0, 3, 7}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      int code = read_code(bad);
      CHECK(code == 0 || code == 3);
      (code == 0 ? parsed : rejected)++;
    }
  }
  CHECK(rejected > 0);
  // Begin on a damaged exact version -> 3.
  Spit(path, good.substr(0, good.size() / 2));
  LoonTransactionHandle h = 0;
  CHECK_CODE(loon_transaction_begin(base.c_str(), &props.p, 1, 0, 0, &h), 3);
  Spit(path, good);
  CHECK_CODE(loon_transaction_begin(base.c_str(), &props.p, 1, 0, 0, &h), 0);
  loon_transaction_destroy(h);
  std::printf("corruption: %d flips parsed, %d rejected cleanly\n", parsed, rejected);
}

// N threads x K commits, each appending one uniquely named file.
void Concurrent(int32_t resolve, int threads, int per_thread, uint32_t retries, const char* label) {
  TestProps props(g_root);
  const std::string base = std::string("conc_") + label + "_" + std::to_string(threads);
  {
    Txn t(base, &props.p);
    auto g = OneFile({"a"}, base + "/_data/seed.parquet", 1);
    CHECK_OK(loon_transaction_append_files(t.h, g.get()));
    CHECK_EQ(t.Commit(), 0);
  }
  std::mutex mu;
  std::set<std::string> committed;
  std::map<int, int> codes;
  std::atomic<bool> done{false};
  std::atomic<int> reader_failures{0}, reads{0};
  // A reader keeps parsing the newest version while commits race: never partial.
  std::thread reader([&] {
    while (!done) {
      Txn t(base, &props.p);
      if (t.code != 0) reader_failures++;
      reads++;
    }
  });
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([&, w] {
      for (int i = 0; i < per_thread; ++i) {
        std::string file = base + "/_data/t" + std::to_string(w) + "_" + std::to_string(i) + ".parquet";
        Txn t(base, &props.p, -1, resolve, retries);
        auto g = OneFile({"a"}, file, 1);
        CHECK_OK(loon_transaction_append_files(t.h, g.get()));
        int code = t.Commit();
        std::lock_guard<std::mutex> lock(mu);
        codes[code]++;
        if (code == 0) committed.insert(file);
      }
    });
  }
  for (auto& t : pool) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done = true;
  reader.join();
  CHECK_EQ(reader_failures.load(), 0);

  for (const auto& [code, n] : codes) {
    if (code != 0 && code != 111 && code != 112) std::fprintf(stderr, "%s: unexpected code %d x%d\n", label, code, n);
    CHECK(code == 0 || code == 111 || code == 112);
  }
  Txn last(base, &props.p);
  CHECK_EQ(last.ReadVersion(), static_cast<int64_t>(committed.size()) + 1);
  ManifestPtr m;
  GetManifest(last, &m);
  std::map<std::string, int> seen;
  const auto& g = m->column_groups.column_group_array[0];
  for (uint32_t i = 0; i < g.num_of_files; ++i) seen[g.files[i].path]++;
  for (const auto& f : committed) CHECK_EQ(seen[f], 1);  // every success exactly once
  CHECK_EQ(seen.size(), committed.size() + 1);          // and nothing else but the seed
  // Every version file is complete; no temp files remain.
  for (const auto& name : ListNames(MetaDir(base))) CHECK(name.rfind("manifest-", 0) == 0);
  for (int64_t v = 1; v <= last.ReadVersion(); ++v) {
    Txn t(base, &props.p, v);
    CHECK_EQ(t.code, 0);
  }
  std::printf("%s threads=%d: %zu/%d committed (codes:", label, threads, committed.size(), threads * per_thread);
  for (const auto& [code, n] : codes) std::printf(" %d=%d", code, n);
  std::printf(") %.0f commits/s, %d concurrent reads\n", committed.size() / secs, reads.load());
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/loon_txn_test_XXXXXX";
  g_root = mkdtemp(tmpl);
  TestBeginAndEmpty();
  TestAppendRoundTrip();
  TestValidation();
  TestResolution();
  TestFaults();
  TestLostRace();
  TestCorruption();
  Concurrent(LOON_TRANSACTION_RESOLVE_FAIL, 1, 200, 0, "fail");
  Concurrent(LOON_TRANSACTION_RESOLVE_FAIL, 16, 20, 8, "fail");
  Concurrent(LOON_TRANSACTION_RESOLVE_FAIL, 16, 20, 0, "fail0");
  Concurrent(LOON_TRANSACTION_RESOLVE_MERGE, 16, 20, 8, "merge");
  Concurrent(LOON_TRANSACTION_RESOLVE_MERGE, 16, 20, 0, "merge0");
  std::filesystem::remove_all(g_root);
  return TestMain("transaction_test");
}
