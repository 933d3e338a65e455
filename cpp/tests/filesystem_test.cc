// Filesystem functions of ffi_c.h 2.10 filesystem through the C ABI: round trips, error codes, metrics, faults.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "milvus-storage/ffi_fiu.h"
#include "test_util.h"

namespace {

std::string g_root;

struct Props {
  LoonProperties p{nullptr, 0};
  explicit Props(const std::string& root) {
    const char* keys[] = {"fs.storage_type", "fs.root_path"};
    const char* values[] = {"local", root.c_str()};
    CHECK_OK(loon_properties_create(keys, values, 2, &p));
  }
  ~Props() { loon_properties_free(&p); }
};

// RAII filesystem handle.
struct Fs {
  FileSystemHandle h = 0;
  explicit Fs(const std::string& root) {
    Props props(root);
    CHECK_OK(loon_filesystem_get(&props.p, nullptr, 0, &h));
  }
  ~Fs() { loon_filesystem_destroy(h); }
};

LoonFFIResult Write(FileSystemHandle h, const std::string& path, const std::string& data) {
  return loon_filesystem_write_file(h, path.data(), static_cast<uint32_t>(path.size()),
                                    reinterpret_cast<const uint8_t*>(data.data()), data.size(), nullptr, 0);
}

std::string ReadAll(FileSystemHandle h, const std::string& path) {
  uint8_t* data = nullptr;
  uint64_t size = 0;
  LoonFFIResult r = loon_filesystem_read_file_all(h, path.data(), static_cast<uint32_t>(path.size()), &data, &size);
  std::string out = r.err_code == 0 ? std::string(reinterpret_cast<char*>(data), size) : "<error>";
  loon_ffi_free_result(&r);
  loon_free_cstr(reinterpret_cast<char*>(data));
  return out;
}

#define P(s) s, static_cast<uint32_t>(std::strlen(s))

void TestGetAndRoot() {
  // Root created if missing; a root that is a regular file is an error.
  std::string root = g_root + "/newroot/sub";
  {
    Fs fs(root);
    CHECK(fs.h != 0);
    CHECK(std::filesystem::is_directory(root));
  }
  std::string file_root = g_root + "/plainfile";
  std::ofstream(file_root) << "x";
  Props props(file_root);
  FileSystemHandle h = 0;
  CHECK_CODE(loon_filesystem_get(&props.p, nullptr, 0, &h), 3);
  CHECK_CODE(loon_filesystem_get(nullptr, nullptr, 0, &h), 1);
  CHECK_CODE(loon_filesystem_get(&props.p, nullptr, 0, nullptr), 1);
  const char* bad_keys[] = {"fs.storage_type"};
  const char* bad_values[] = {"floppy"};
  LoonProperties bad{nullptr, 0};
  CHECK_OK(loon_properties_create(bad_keys, bad_values, 1, &bad));
  CHECK_CODE(loon_filesystem_get(&bad, nullptr, 0, &h), 7);
  loon_properties_free(&bad);
  loon_filesystem_destroy(0);
}

void TestReadWrite() {
  Fs fs(g_root + "/rw");
  CHECK_OK(Write(fs.h, "/a/b/hello.txt", "hello world"));  // leading '/' stays inside the root
  CHECK(std::filesystem::exists(g_root + "/rw/a/b/hello.txt"));
  CHECK_EQ(ReadAll(fs.h, "a/b/hello.txt"), std::string("hello world"));

  uint64_t size = 0;
  CHECK_OK(loon_filesystem_get_file_info(fs.h, P("a/b/hello.txt"), &size));
  CHECK_EQ(size, uint64_t{11});
  CHECK_CODE(loon_filesystem_get_file_info(fs.h, P("a/b/absent.txt"), &size), 12);
  CHECK_CODE(loon_filesystem_get_file_info(fs.h, "x", 0, &size), 1);

  uint8_t buf[16] = {0};
  CHECK_OK(loon_filesystem_read_file(fs.h, P("a/b/hello.txt"), 6, 5, buf));
  CHECK(std::memcmp(buf, "world", 5) == 0);
  CHECK_CODE(loon_filesystem_read_file(fs.h, P("a/b/hello.txt"), 6, 10, buf), 4);  // short read
  CHECK_CODE(loon_filesystem_read_file(fs.h, P("a/b/hello.txt"), 0, 0, buf), 1);
  CHECK_CODE(loon_filesystem_read_file(fs.h, P("a/b/nope"), 0, 1, buf), 12);

  // Random-access reader with and without a known size.
  for (uint64_t known : {uint64_t{0}, uint64_t{11}}) {
    FileSystemReaderHandle r = 0;
    CHECK_OK(loon_filesystem_open_reader(fs.h, P("a/b/hello.txt"), known, &r));
    CHECK_OK(loon_filesystem_reader_readat(r, 0, 5, buf));
    CHECK(std::memcmp(buf, "hello", 5) == 0);
    CHECK_CODE(loon_filesystem_reader_readat(r, 8, 5, buf), 4);
    CHECK_CODE(loon_filesystem_reader_readat(r, 0, 0, buf), 1);
    CHECK_OK(loon_filesystem_reader_close(r));
    loon_filesystem_reader_destroy(r);
  }
  FileSystemReaderHandle r = 0;
  CHECK_CODE(loon_filesystem_open_reader(fs.h, P("a/b/nope"), 0, &r), 12);
  CHECK_CODE(loon_filesystem_reader_readat(0, 0, 1, buf), 1);

  // Streaming writer; conditional create fails with 102 when the file exists.
  FileSystemWriterHandle w = 0;
  LoonFileSystemMeta meta[] = {{const_cast<char*>("k"), const_cast<char*>("v")}};
  CHECK_OK(loon_filesystem_open_writer(fs.h, P("w/stream.bin"), meta, 1, false, &w));
  CHECK_OK(loon_filesystem_writer_write(w, reinterpret_cast<const uint8_t*>("abc"), 3));
  CHECK_CODE(loon_filesystem_writer_write(w, nullptr, 3), 1);
  CHECK_OK(loon_filesystem_writer_flush(w));
  CHECK_OK(loon_filesystem_writer_write(w, reinterpret_cast<const uint8_t*>("def"), 3));
  CHECK_OK(loon_filesystem_writer_close(w));
  loon_filesystem_writer_destroy(w);
  CHECK_EQ(ReadAll(fs.h, "w/stream.bin"), std::string("abcdef"));
  w = 0;
  CHECK_CODE(loon_filesystem_open_writer(fs.h, P("w/stream.bin"), nullptr, 0, true, &w), 102);
  CHECK(w == 0);
  CHECK_OK(loon_filesystem_open_writer(fs.h, P("w/new.bin"), nullptr, 0, true, &w));
  CHECK_OK(loon_filesystem_writer_write(w, reinterpret_cast<const uint8_t*>("x"), 1));
  CHECK_OK(loon_filesystem_writer_close(w));
  loon_filesystem_writer_destroy(w);
  CHECK_CODE(loon_filesystem_open_writer(fs.h, P("w/m.bin"), nullptr, 1, false, &w), 1);
  LoonFileSystemMeta bad_meta[] = {{nullptr, const_cast<char*>("v")}};
  CHECK_CODE(loon_filesystem_open_writer(fs.h, P("w/m.bin"), bad_meta, 1, false, &w), 1);
  // Abandoned writer: destroy without close.
  CHECK_OK(loon_filesystem_open_writer(fs.h, P("w/abandoned.bin"), nullptr, 0, false, &w));
  loon_filesystem_writer_destroy(w);

  // Zero-size file and argument checks of write_file.
  CHECK_OK(loon_filesystem_write_file(fs.h, P("empty.bin"), nullptr, 0, nullptr, 0));
  CHECK_EQ(ReadAll(fs.h, "empty.bin"), std::string());
  CHECK_CODE(loon_filesystem_write_file(fs.h, P("x.bin"), nullptr, 3, nullptr, 0), 1);
  CHECK_CODE(loon_filesystem_write_file(fs.h, P("x.bin"), reinterpret_cast<const uint8_t*>("a"), 1, nullptr, 2), 1);

  // Stats: size, no metadata locally (array stays NULL, count 0).
  LoonFileSystemMeta* arr = reinterpret_cast<LoonFileSystemMeta*>(0x1);
  uint32_t count = 7;
  CHECK_OK(loon_filesystem_get_file_stats(fs.h, P("w/stream.bin"), &size, &arr, &count));
  CHECK_EQ(size, uint64_t{6});
  CHECK(arr == nullptr && count == 0);
  CHECK_OK(loon_filesystem_get_file_stats(fs.h, P("w/stream.bin"), &size, nullptr, nullptr));
  CHECK_CODE(loon_filesystem_get_file_stats(fs.h, P("w/none"), &size, &arr, &count), 12);
  loon_filesystem_free_meta_array(nullptr, 0);
  uint8_t* data = nullptr;
  CHECK_CODE(loon_filesystem_read_file_all(fs.h, P("w/none"), &data, &size), 12);
}

void TestDirsAndDelete() {
  Fs fs(g_root + "/dirs");
  CHECK_OK(Write(fs.h, "d/one.txt", "1"));
  CHECK_OK(Write(fs.h, "d/sub/two.txt", "22"));
  CHECK_OK(loon_filesystem_create_dir(fs.h, P("d/emptydir"), false));
  CHECK_CODE(loon_filesystem_create_dir(fs.h, P("x/y/z"), false), 12);
  CHECK_OK(loon_filesystem_create_dir(fs.h, P("x/y/z"), true));

  bool exists = false, is_dir = false;
  int64_t mtime = 0;
  CHECK_OK(loon_filesystem_get_path_info(fs.h, P("d/sub"), &exists, &is_dir, &mtime));
  CHECK(exists && is_dir);
  CHECK_OK(loon_filesystem_get_path_info(fs.h, P("d/one.txt"), &exists, &is_dir, &mtime));
  CHECK(exists && !is_dir && mtime > 0);
  CHECK_OK(loon_filesystem_get_path_info(fs.h, P("d/one.txt"), &exists, nullptr, nullptr));
  CHECK_CODE(loon_filesystem_get_path_info(fs.h, P("d/absent"), &exists, &is_dir, &mtime), 12);
  CHECK(!exists);

  LoonFileInfoList list{nullptr, 0};
  CHECK_OK(loon_filesystem_list_dir(fs.h, P("d"), false, &list));
  std::set<std::string> names;
  for (uint32_t i = 0; i < list.count; ++i) {
    names.insert(list.entries[i].path);
    CHECK_EQ(list.entries[i].path_len, static_cast<uint32_t>(std::strlen(list.entries[i].path)));
    if (std::string(list.entries[i].path) == "d/one.txt") CHECK_EQ(list.entries[i].size, uint64_t{1});
    if (list.entries[i].is_dir) CHECK_EQ(list.entries[i].size, uint64_t{0});
  }
  CHECK((names == std::set<std::string>{"d/one.txt", "d/sub", "d/emptydir"}));
  loon_filesystem_free_file_info_list(&list);
  CHECK(list.entries == nullptr && list.count == 0);
  CHECK_OK(loon_filesystem_list_dir(fs.h, P("/d"), true, &list));
  CHECK_EQ(list.count, uint32_t{4});
  loon_filesystem_free_file_info_list(&list);
  CHECK_OK(loon_filesystem_list_dir(fs.h, P("d/emptydir"), true, &list));
  CHECK(list.entries == nullptr && list.count == 0);
  CHECK_CODE(loon_filesystem_list_dir(fs.h, P("nothere"), true, &list), 12);

  CHECK_CODE(loon_filesystem_delete_file(fs.h, P("d/sub")), 4);
  CHECK_CODE(loon_filesystem_delete_file(fs.h, P("d/none.txt")), 12);
  CHECK_OK(loon_filesystem_delete_file(fs.h, P("d/one.txt")));
  CHECK_CODE(loon_filesystem_get_path_info(fs.h, P("d/one.txt"), &exists, nullptr, nullptr), 12);
  CHECK_CODE(loon_filesystem_delete_file(fs.h, "d", 0), 1);
  CHECK_CODE(loon_filesystem_delete_file(0, P("d")), 1);
}

void TestSharedMetrics() {
  std::string root = g_root + "/metrics";
  Fs a(root);
  Fs b(root);  // same configuration -> same instance, same counters
  CHECK_OK(loon_filesystem_reset_metrics(a.h));
  CHECK_OK(Write(a.h, "m/f.bin", "12345"));
  CHECK_EQ(ReadAll(b.h, "m/f.bin"), std::string("12345"));
  uint64_t size = 0;
  CHECK_CODE(loon_filesystem_get_file_info(b.h, P("m/none"), &size), 12);
  CHECK_OK(loon_filesystem_create_dir(a.h, P("m/dir"), true));
  CHECK_OK(loon_filesystem_delete_file(a.h, P("m/f.bin")));
  LoonFilesystemMetricsSnapshot m{};
  CHECK_OK(loon_filesystem_get_metrics(b.h, &m));
  CHECK_EQ(m.write_count, int64_t{1});
  CHECK_EQ(m.write_bytes, int64_t{5});
  CHECK_EQ(m.read_count, int64_t{1});
  CHECK_EQ(m.read_bytes, int64_t{5});
  CHECK(m.get_file_info_count >= 2);
  CHECK_EQ(m.create_dir_count, int64_t{1});
  CHECK_EQ(m.delete_file_count, int64_t{1});
  CHECK_CODE(loon_filesystem_get_metrics(b.h, nullptr), 1);
  CHECK_OK(loon_filesystem_reset_metrics(b.h));
  CHECK_OK(loon_filesystem_get_metrics(a.h, &m));
  CHECK_EQ(m.write_bytes, int64_t{0});
  CHECK_EQ(m.get_file_info_count, int64_t{0});

  // After close_filesystems existing handles keep working; a new handle gets a fresh instance.
  loon_close_filesystems();
  CHECK_OK(Write(a.h, "m/g.bin", "xy"));
  Fs c(root);
  CHECK_OK(loon_filesystem_get_metrics(c.h, &m));
  CHECK_EQ(m.write_bytes, int64_t{0});
  CHECK_OK(loon_filesystem_get_metrics(a.h, &m));
  CHECK_EQ(m.write_bytes, int64_t{2});
}

void TestFaults() {
  if (!loon_fiu_is_enabled()) return;
  Fs fs(g_root + "/faults");
  CHECK_OK(Write(fs.h, "f/base.bin", "abcdef"));
  auto arm = [](const char* name) { CHECK_OK(loon_fiu_enable(name, std::strlen(name), 1)); };

  arm(loon_fiukey_fs_open_output_fail);
  CHECK_CODE(Write(fs.h, "f/out.bin", "x"), 3);
  CHECK_OK(Write(fs.h, "f/out.bin", "x"));  // one-shot

  arm(loon_fiukey_fs_open_input_fail);
  uint8_t* data = nullptr;
  uint64_t size = 0;
  CHECK_CODE(loon_filesystem_read_file_all(fs.h, P("f/base.bin"), &data, &size), 3);
  arm(loon_fiukey_fs_open_input_fail);
  FileSystemReaderHandle r = 0;
  CHECK_OK(loon_filesystem_open_reader(fs.h, P("f/base.bin"), 6, &r));  // known size: no open fault
  loon_filesystem_reader_destroy(r);
  CHECK_CODE(loon_filesystem_open_reader(fs.h, P("f/base.bin"), 0, &r), 3);

  arm(loon_fiukey_fs_write_fail);
  CHECK_CODE(Write(fs.h, "f/w.bin", "abcd"), 3);
  arm(loon_fiukey_fs_short_write_fail);
  CHECK_CODE(Write(fs.h, "f/short.bin", "abcd"), 3);
  CHECK_EQ(ReadAll(fs.h, "f/short.bin"), std::string("ab"));  // torn: half the bytes
  loon_fiu_disable_all();
}

// A transaction begun on a dataset whose _metadata directory another committer is creating at that
// moment sees version 0, never "not found": Arrow's local listing reports ENOENT when the directory
// appears between its opendir and its existence check (8 processes' first commits hit this).
void TestListingRacesDirectoryCreation() {
  Fs fs(g_root + "/race");
  Props props(g_root + "/race");
  int not_found = 0;
  for (int i = 0; i < 400; ++i) {
    std::string base = "b" + std::to_string(i);
    std::string meta = base + "/_metadata";
    std::thread creator([&] {
      CHECK_OK(loon_filesystem_create_dir(fs.h, meta.data(), static_cast<uint32_t>(meta.size()), true));
    });
    for (int k = 0; k < 20; ++k) {
      LoonTransactionHandle txn = 0;
      LoonFFIResult r = loon_transaction_begin(base.c_str(), &props.p, -1, 0, 1, &txn);
      if (r.err_code != 0) ++not_found;
      loon_ffi_free_result(&r);
      loon_transaction_destroy(txn);
    }
    creator.join();
  }
  CHECK_EQ(not_found, 0);
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/loon_fs_test_XXXXXX";
  g_root = mkdtemp(tmpl);
  TestGetAndRoot();
  TestReadWrite();
  TestDirsAndDelete();
  TestSharedMetrics();
  TestFaults();
  TestListingRacesDirectoryCreation();
  std::filesystem::remove_all(g_root);
  return TestMain("filesystem_test");
}
