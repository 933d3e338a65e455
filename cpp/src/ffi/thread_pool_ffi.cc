// 2.4 thread pool.
#include "common/status.h"
#include "common/thread_pool.h"
#include "milvus-storage/ffi_c.h"

extern "C" {

LoonFFIResult loon_thread_pool_singleton(size_t num_of_thread) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(num_of_thread > 0, "num_of_thread is 0");
    return loon::ToFFIResult(loon::SetSingletonPool(num_of_thread), loon::kArrow);
  })
}

void loon_thread_pool_singleton_release() {
  try {
    loon::ReleaseSingletonPool();
  } catch (...) {
  }
}

}  // extern "C"
