// Minimal assertion helpers for the engine's C++ tests (no framework dependency).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "milvus-storage/ffi_c.h"

inline int g_failures = 0;

#define CHECK(cond)                                                               \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                               \
    }                                                                             \
  } while (0)

#define CHECK_EQ(a, b)                                                                        \
  do {                                                                                        \
    auto _va = (a);                                                                           \
    auto _vb = (b);                                                                           \
    if (!(_va == _vb)) {                                                                      \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s != %s\n", __FILE__, __LINE__, #a, #b); \
      ++g_failures;                                                                           \
    }                                                                                         \
  } while (0)

// Checks the result code, prints the message on mismatch and frees the result.
inline void CheckCode(LoonFFIResult r, int expected, const char* expr, const char* file, int line) {
  if (r.err_code != expected) {
    std::fprintf(stderr, "%s:%d: %s returned %d, expected %d: %s\n", file, line, expr, r.err_code, expected,
                 r.message ? r.message : "(no message)");
    ++g_failures;
  }
  loon_ffi_free_result(&r);
}
#define CHECK_CODE(expr, code) CheckCode((expr), (code), #expr, __FILE__, __LINE__)
#define CHECK_OK(expr) CheckCode((expr), 0, #expr, __FILE__, __LINE__)

inline int TestMain(const char* name) {
  if (g_failures) {
    std::fprintf(stderr, "%s: %d check(s) failed\n", name, g_failures);
    return 1;
  }
  std::printf("%s: all checks passed\n", name);
  return 0;
}
