// 2.3 manifest objects: release and debug dump of library-allocated LoonManifest.
#include <cstdlib>

#include "common/status.h"
#include "manifest/manifest.h"
#include "milvus-storage/ffi_c.h"

extern "C" {

void loon_manifest_destroy(LoonManifest* manifest) {
  try {
    loon::manifest::FreeManifestC(manifest);
  } catch (...) {
  }
}

char* loon_manifest_debug_string(const LoonManifest* manifest) {
  try {
    if (manifest == nullptr) return loon::MallocString("Manifest(null)");
    return loon::MallocString(loon::manifest::DebugString(*manifest));
  } catch (...) {
    return nullptr;
  }
}

}  // extern "C"
