// Results, properties, thread pool and exported constants through the C ABI.
#include <cstring>

#include "test_util.h"

static void TestResults() {
  LoonFFIResult ok{0, nullptr};
  CHECK_EQ(loon_ffi_is_success(&ok), 1);
  CHECK(loon_ffi_get_errmsg(&ok) == nullptr);
  CHECK_EQ(loon_ffi_is_retryable_errcode(107), 1);
  CHECK_EQ(loon_ffi_is_retryable_errcode(101), 1);
  CHECK_EQ(loon_ffi_is_retryable_errcode(111), 0);
  CHECK_EQ(loon_ffi_is_retryable_errcode(0), 0);
  CHECK_EQ(loon_ffi_is_retryable_errcode(-5), 0);
  loon_free_cstr(nullptr);
  CHECK(std::strstr(loon_engine_info(), "loon-engine") != nullptr);
}

static void TestProperties() {
  const char* keys[] = {"writer.policy", "custom.key"};
  const char* values[] = {"single", "x"};
  LoonProperties props{nullptr, 0};
  CHECK_OK(loon_properties_create(keys, values, 2, &props));
  CHECK_EQ(props.count, size_t{2});
  CHECK(std::strcmp(loon_properties_get(&props, "custom.key"), "x") == 0);
  CHECK(loon_properties_get(&props, "absent") == nullptr);
  CHECK(loon_properties_get(nullptr, "absent") == nullptr);
  loon_properties_free(&props);
  CHECK(props.properties == nullptr && props.count == 0);
  loon_properties_free(&props);  // {NULL,0} is safe
  loon_properties_free(nullptr);

  CHECK_CODE(loon_properties_create(keys, values, 0, &props), 1);
  CHECK_CODE(loon_properties_create(nullptr, values, 2, &props), 1);
  CHECK_CODE(loon_properties_create(keys, values, 2, nullptr), 1);
  const char* dup_keys[] = {"a", "a"};
  CHECK_CODE(loon_properties_create(dup_keys, values, 2, &props), 7);
  CHECK(props.properties == nullptr);
  const char* null_values[] = {"v", nullptr};
  CHECK_CODE(loon_properties_create(keys, null_values, 2, &props), 7);
}

static void TestConstants() {
  CHECK_EQ(loon_errcode_file_not_found, 12);
  CHECK_EQ(loon_errcode_txn_resolution_failed, 112);
  CHECK(std::strcmp(loon_properties_writer_file_rolling_size, "writer.file_rolling.size") == 0);
  CHECK(std::strcmp(loon_properties_transaction_commit_num_retries, "transaction.commit.num-retries") == 0);
  CHECK(std::strcmp(loon_fiukey_s3fs_read_fail, "s3fs.reader.read.fail") == 0);
}

static void TestThreadPool() {
  CHECK_CODE(loon_thread_pool_singleton(0), 1);
  CHECK_OK(loon_thread_pool_singleton(2));
  CHECK_OK(loon_thread_pool_singleton(4));  // resize
  loon_thread_pool_singleton_release();
  loon_thread_pool_singleton_release();  // no-op
}

int main() {
  TestResults();
  TestProperties();
  TestConstants();
  TestThreadPool();
  return TestMain("core_test");
}
