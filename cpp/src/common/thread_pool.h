// The process-wide I/O thread pool (ffi_c.h 2.4) and a ParallelFor helper that honours it.
#pragma once

#include <arrow/status.h>

#include <cstddef>
#include <functional>

namespace loon {

arrow::Status SetSingletonPool(size_t num_threads);
void ReleaseSingletonPool();
// Threads of the singleton pool, 0 when none exists.
size_t SingletonPoolSize();

// Effective parallelism: the pool size when the singleton exists, else `requested` (>= 1).
size_t EffectiveParallelism(size_t requested);

// Runs fn(0..n-1) with at most EffectiveParallelism(parallelism) concurrent workers and returns
// the first error (remaining items are skipped once one fails).
arrow::Status ParallelFor(size_t n, size_t parallelism, const std::function<arrow::Status(size_t)>& fn);

}  // namespace loon
