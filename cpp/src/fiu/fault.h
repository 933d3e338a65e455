// Fault points evaluated inside the engine (names: milvus-storage/ffi_fiu.h).
#pragma once

#include <arrow/status.h>

#include <string>

namespace loon::fault {

// True when the point is armed and should fail at this evaluation (always false without libfiu).
bool ShouldFail(const char* point);

// IOError "injected fault: <point>" when the point fires, else OK. The FFI layer maps it to the
// calling function's fallback code.
arrow::Status Check(const char* point);

// Same, but with an explicit loon code (for FFI-level points returning 8).
arrow::Status CheckCoded(const char* point, int code);

// Engine built with libfiu?
bool Enabled();

// Arming (n == 0: always, n == 1: once, n > 1: next n evaluations).
arrow::Status Enable(const std::string& name, int n);
arrow::Status Disable(const std::string& name);
void DisableAllBuiltin();

}  // namespace loon::fault

#define LOON_RETURN_ON_FAULT(point) ARROW_RETURN_NOT_OK(::loon::fault::Check(point))
