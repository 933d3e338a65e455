#include "fiu/fault.h"

#include <map>
#include <mutex>

#include "common/status.h"
#include "milvus-storage/ffi_fiu.h"

#ifdef LOON_WITH_FIU
#define FIU_ENABLE 1
#include <fiu-control.h>
#include <fiu.h>
#endif

namespace loon::fault {

#ifdef LOON_WITH_FIU
namespace {

std::once_flag g_init_once;
std::mutex g_counts_mutex;
// Remaining failures of points armed with n > 1.
std::map<std::string, int> g_remaining;

void InitOnce() {
  std::call_once(g_init_once, [] { fiu_init(0); });
}

// libfiu external callback: fail while the point's counter is positive.
int CountdownCallback(const char* name, int* /*failnum*/, void** /*failinfo*/, unsigned int* /*flags*/) {
  std::lock_guard<std::mutex> lock(g_counts_mutex);
  auto it = g_remaining.find(name);
  if (it == g_remaining.end() || it->second <= 0) return 0;
  --it->second;
  return 1;
}

}  // namespace

bool Enabled() { return true; }

bool ShouldFail(const char* point) {
  InitOnce();
  return fiu_fail(point) != 0;
}

arrow::Status Enable(const std::string& name, int n) {
  InitOnce();
  {
    std::lock_guard<std::mutex> lock(g_counts_mutex);
    g_remaining.erase(name);
  }
  int rc;
  if (n > 1) {
    {
      std::lock_guard<std::mutex> lock(g_counts_mutex);
      g_remaining[name] = n;
    }
    rc = fiu_enable_external(name.c_str(), 1, nullptr, 0, CountdownCallback);
  } else {
    rc = fiu_enable(name.c_str(), 1, nullptr, n == 1 ? FIU_ONETIME : 0);
  }
  if (rc != 0) return CodedError(kLogical, "libfiu could not arm fault point '" + name + "'");
  return arrow::Status::OK();
}

arrow::Status Disable(const std::string& name) {
  InitOnce();
  fiu_disable(name.c_str());  // disarming a point that is not armed is fine
  std::lock_guard<std::mutex> lock(g_counts_mutex);
  g_remaining.erase(name);
  return arrow::Status::OK();
}

void DisableAllBuiltin() {
#define LOON_DISABLE_POINT(sym, str) (void)Disable(str);
  LOON_FAULT_POINTS(LOON_DISABLE_POINT)
#undef LOON_DISABLE_POINT
}

#else  // built without libfiu

bool Enabled() { return false; }
bool ShouldFail(const char*) { return false; }
arrow::Status Enable(const std::string&, int) {
  return CodedError(kLogical, "engine built without fault injection (libfiu)");
}
arrow::Status Disable(const std::string&) {
  return CodedError(kLogical, "engine built without fault injection (libfiu)");
}
void DisableAllBuiltin() {}

#endif

arrow::Status Check(const char* point) {
  if (ShouldFail(point)) return arrow::Status::IOError("injected fault: ", point);
  return arrow::Status::OK();
}

arrow::Status CheckCoded(const char* point, int code) {
  if (ShouldFail(point)) return CodedError(code, std::string("injected fault: ") + point);
  return arrow::Status::OK();
}

}  // namespace loon::fault
