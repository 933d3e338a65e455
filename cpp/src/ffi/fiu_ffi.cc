// 2.11 fault injection.
#include <string>

#include "common/status.h"
#include "fiu/fault.h"
#include "milvus-storage/ffi_c.h"

extern "C" {

LoonFFIResult loon_fiu_enable(const char* name, uint32_t name_len, int one_time) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(name != nullptr && name_len > 0, "fault point name is NULL or empty");
    LOON_REQUIRE_ARG(one_time >= 0, "fail count is negative");
    return loon::ToFFIResult(loon::fault::Enable(std::string(name, name_len), one_time), loon::kLogical);
  })
}

LoonFFIResult loon_fiu_disable(const char* name, uint32_t name_len) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(name != nullptr && name_len > 0, "fault point name is NULL or empty");
    return loon::ToFFIResult(loon::fault::Disable(std::string(name, name_len)), loon::kLogical);
  })
}

void loon_fiu_disable_all(void) {
  try {
    loon::fault::DisableAllBuiltin();
  } catch (...) {
  }
}

int loon_fiu_is_enabled(void) { return loon::fault::Enabled() ? 1 : 0; }

}  // extern "C"
