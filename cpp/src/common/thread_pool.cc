#include "common/thread_pool.h"

#include <arrow/util/thread_pool.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace loon {

namespace {
std::mutex g_pool_mutex;
std::shared_ptr<arrow::internal::ThreadPool> g_pool;

std::shared_ptr<arrow::internal::ThreadPool> CurrentPool() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  return g_pool;
}
}  // namespace

arrow::Status SetSingletonPool(size_t num_threads) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (g_pool) return g_pool->SetCapacity(static_cast<int>(num_threads));
  ARROW_ASSIGN_OR_RAISE(g_pool, arrow::internal::ThreadPool::Make(static_cast<int>(num_threads)));
  return arrow::Status::OK();
}

void ReleaseSingletonPool() {
  std::shared_ptr<arrow::internal::ThreadPool> pool;
  {
    std::lock_guard<std::mutex> lock(g_pool_mutex);
    pool.swap(g_pool);
  }
  if (pool) (void)pool->Shutdown(/*wait=*/true);
}

size_t SingletonPoolSize() {
  auto pool = CurrentPool();
  return pool ? static_cast<size_t>(pool->GetCapacity()) : 0;
}

size_t EffectiveParallelism(size_t requested) {
  size_t pool = SingletonPoolSize();
  return std::max<size_t>(1, pool > 0 ? pool : requested);
}

arrow::Status ParallelFor(size_t n, size_t parallelism, const std::function<arrow::Status(size_t)>& fn) {
  if (n == 0) return arrow::Status::OK();
  size_t workers = std::min(n, EffectiveParallelism(parallelism));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) ARROW_RETURN_NOT_OK(fn(i));
    return arrow::Status::OK();
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  arrow::Status first_error;
  auto work = [&]() {
    while (!failed.load()) {
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      arrow::Status st;
      try {
        st = fn(i);
      } catch (const std::exception& e) {
        st = arrow::Status::UnknownError("exception in worker: ", e.what());
      }
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.ok()) first_error = st;
        failed.store(true);
      }
    }
  };
  auto pool = CurrentPool();
  if (pool) {
    std::vector<arrow::Future<>> futures;
    for (size_t w = 0; w < workers; ++w) {
      auto fut = arrow::Future<>::Make();
      auto st = pool->Spawn([work, fut]() mutable {
        work();
        fut.MarkFinished();
      });
      if (!st.ok()) {
        work();  // pool is shutting down: do the work on this thread
        fut.MarkFinished();
      }
      futures.push_back(fut);
    }
    for (auto& f : futures) f.Wait();
  } else {
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers; ++w) threads.emplace_back(work);
    for (auto& t : threads) t.join();
  }
  return first_error;
}

}  // namespace loon
