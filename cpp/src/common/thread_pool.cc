#include "common/thread_pool.h"

#include <arrow/util/thread_pool.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
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
  // Shared with helper tasks, which may start after this call returned: they then claim no item
  // and never touch `fn`.
  struct State {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mutex;
    std::condition_variable cv;
    size_t done = 0;            // items finished or skipped (guarded by mutex)
    arrow::Status first_error;  // guarded by mutex
  };
  auto state = std::make_shared<State>();
  auto work = [state, n, &fn]() {
    for (;;) {
      size_t i = state->next.fetch_add(1);
      if (i >= n) return;
      arrow::Status st;
      if (!state->failed.load()) {
        try {
          st = fn(i);
        } catch (const std::exception& e) {
          st = arrow::Status::UnknownError("exception in worker: ", e.what());
        } catch (...) {
          st = arrow::Status::UnknownError("unknown exception in worker");
        }
      }
      std::lock_guard<std::mutex> lock(state->mutex);
      if (!st.ok()) {
        if (state->first_error.ok()) state->first_error = st;
        state->failed.store(true);
      }
      if (++state->done == n) state->cv.notify_all();
    }
  };
  auto pool = CurrentPool();
  if (pool) {
    // The calling thread works too and waits only for items already started, never for queued
    // helpers: nested calls (a scan opening group layouts that open files) on a pool whose threads
    // all wait in an outer call used to deadlock.
    for (size_t w = 1; w < workers; ++w) {
      if (!pool->Spawn(work).ok()) break;  // shutting down: this thread does the rest
    }
    work();
    std::unique_lock<std::mutex> lock(state->mutex);
    state->cv.wait(lock, [&] { return state->done == n; });
    return state->first_error;
  }
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  std::lock_guard<std::mutex> lock(state->mutex);
  return state->first_error;
}

}  // namespace loon
