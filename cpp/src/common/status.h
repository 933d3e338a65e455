// Error model of the engine: arrow::Status inside, LoonFFIResult at the C boundary only.
#pragma once

#include <arrow/result.h>
#include <arrow/status.h>

#include <memory>
#include <string>

#include "milvus-storage/ffi_c.h"

namespace loon {

// Numeric error codes of ffi_c.h 4.1 (kept as constants for use inside the engine).
enum Code : int {
  kSuccess = 0,
  kInvalidArgs = 1,
  kMemory = 2,
  kArrow = 3,
  kLogical = 4,
  kGotException = 5,
  kUnreachable = 6,
  kInvalidProperties = 7,
  kFaultInject = 8,
  kNotSupport = 9,
  kFileNotFound = 12,
  kAwsNoSuchUpload = 101,
  kAwsConflict = 102,
  kAwsPreconditionFailed = 103,
  kAwsNotFound = 104,
  kAwsAccessDenied = 105,
  kAwsNonRetryable = 106,
  kTransientNetwork = 107,
  kTransientTimeout = 108,
  kTransientThrottling = 109,
  kTransientService = 110,
  kTxnExhaustedRetry = 111,
  kTxnResolutionFailed = 112,
};

// Carries an explicit loon code through arrow::Status so the FFI boundary can report it.
class CodeDetail : public arrow::StatusDetail {
 public:
  explicit CodeDetail(int code) : code_(code) {}
  const char* type_id() const override;
  std::string ToString() const override;
  int code() const { return code_; }

 private:
  int code_;
};

// A Status that the FFI boundary reports with exactly `code` (overrides the fallback).
arrow::Status CodedError(int code, const std::string& message);

// The explicit code attached to `st` by CodedError, or 0 if none.
int CodeOf(const arrow::Status& st);

// How a call's code is chosen (as milvus-storage does): explicit code > ENOENT (12) > fallback.
int ChooseCode(const arrow::Status& st, int fallback);

// Builds the C result for `st`; success is {0, NULL}.
LoonFFIResult ToFFIResult(const arrow::Status& st, int fallback);
LoonFFIResult MakeFFIError(int code, const std::string& message);
inline LoonFFIResult FFISuccess() { return LoonFFIResult{0, nullptr}; }

// strdup-like copy with malloc so callers may free with loon_free_cstr.
char* MallocString(const std::string& s);

}  // namespace loon

// Runs `body` (a block returning LoonFFIResult) and turns any C++ exception into code 5,
// so no exception ever crosses the C ABI.
#define LOON_FFI_GUARD(body)                                                        \
  try {                                                                             \
    body                                                                            \
  } catch (const std::bad_alloc&) {                                                 \
    return ::loon::MakeFFIError(::loon::kMemory, "out of memory");                  \
  } catch (const std::exception& e) {                                               \
    return ::loon::MakeFFIError(::loon::kGotException, std::string("exception: ") + e.what()); \
  } catch (...) {                                                                   \
    return ::loon::MakeFFIError(::loon::kGotException, "unknown exception");        \
  }

// Early return with code 1 when a required argument is missing.
#define LOON_REQUIRE_ARG(cond, what)                                                   \
  do {                                                                                 \
    if (!(cond)) return ::loon::MakeFFIError(::loon::kInvalidArgs, "invalid argument: " what); \
  } while (0)
