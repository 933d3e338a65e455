// Format-provider registration (our extension; milvus-storage/ffi_format_provider.h). The
// registry and the calls into providers live in exttable/provider_registry.h.
#include <string>

#include "common/status.h"
#include "exttable/provider_registry.h"
#include "milvus-storage/ffi_format_provider.h"

extern "C" {

LoonFFIResult loon_format_provider_register(const char* format, const LoonFormatProvider* provider) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(format != nullptr, "format is NULL");
    LOON_REQUIRE_ARG(provider != nullptr, "provider is NULL");
    return loon::ToFFIResult(loon::exttable::RegisterProvider(format, *provider), loon::kInvalidArgs);
  })
}

LoonFFIResult loon_format_provider_unregister(const char* format, bool* out_removed) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(format != nullptr, "format is NULL");
    bool removed = loon::exttable::UnregisterProvider(format);
    if (out_removed != nullptr) *out_removed = removed;
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_format_supported(const char* format, bool* out_supported) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(format != nullptr, "format is NULL");
    LOON_REQUIRE_ARG(out_supported != nullptr, "out_supported is NULL");
    std::string name(format);
    *out_supported = name == "parquet" || loon::exttable::FindProvider(name) != nullptr;
    return loon::FFISuccess();
  })
}

}  // extern "C"
