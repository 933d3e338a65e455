// 2.1 results, errors and string release; 2.2 properties; 2.3 column-group helpers.
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "common/column_groups.h"
#include "common/status.h"
#include "milvus-storage/ffi_c.h"
#include "version.h"

using loon::MakeFFIError;

extern "C" {

int loon_ffi_is_success(LoonFFIResult* result) { return result != nullptr && result->err_code == 0 ? 1 : 0; }

const char* loon_ffi_get_errmsg(LoonFFIResult* result) {
  if (result == nullptr || result->err_code == 0) return nullptr;
  return result->message;
}

void loon_ffi_free_result(LoonFFIResult* result) {
  if (result == nullptr) return;
  std::free(result->message);
  // Clearing makes an accidental second call harmless (upstream would double free).
  result->message = nullptr;
}

int loon_ffi_is_retryable_errcode(int err_code) {
  switch (err_code) {
    case loon::kAwsNoSuchUpload:
    case loon::kTransientNetwork:
    case loon::kTransientTimeout:
    case loon::kTransientThrottling:
    case loon::kTransientService:
      return 1;
    default:
      return 0;
  }
}

void loon_free_cstr(char* c_str) { std::free(c_str); }

const char* loon_engine_info(void) { return "loon-engine " LOON_ENGINE_VERSION " (arrow " LOON_ARROW_VERSION ")"; }

// Keep in step with the header's list and lib/loon/capability.py.
const char* loon_engine_extensions(void) { return "commit_retries_property"; }

LoonFFIResult loon_properties_create(const char* const* keys, const char* const* values, size_t count,
                                     LoonProperties* properties) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(properties != nullptr, "properties is NULL");
    LOON_REQUIRE_ARG(keys != nullptr && values != nullptr, "keys or values is NULL");
    LOON_REQUIRE_ARG(count > 0, "count is 0 (pass {NULL, 0} for an empty set)");
    properties->properties = nullptr;
    properties->count = 0;
    std::set<std::string> seen;
    for (size_t i = 0; i < count; ++i) {
      if (keys[i] == nullptr || values[i] == nullptr) {
        return MakeFFIError(loon::kInvalidProperties, "property " + std::to_string(i) + " has a NULL key or value");
      }
      if (!seen.insert(keys[i]).second) {
        return MakeFFIError(loon::kInvalidProperties, std::string("duplicate property key '") + keys[i] + "'");
      }
    }
    auto* array = static_cast<LoonProperty*>(std::calloc(count, sizeof(LoonProperty)));
    if (array == nullptr) return MakeFFIError(loon::kMemory, "out of memory");
    for (size_t i = 0; i < count; ++i) {
      array[i].key = loon::MallocString(keys[i]);
      array[i].value = loon::MallocString(values[i]);
    }
    properties->properties = array;
    properties->count = count;
    return loon::FFISuccess();
  })
}

const char* loon_properties_get(const LoonProperties* properties, const char* key) {
  if (properties == nullptr || key == nullptr || properties->properties == nullptr) return nullptr;
  for (size_t i = 0; i < properties->count; ++i) {
    const LoonProperty& p = properties->properties[i];
    if (p.key != nullptr && std::strcmp(p.key, key) == 0) return p.value;
  }
  return nullptr;
}

void loon_properties_free(LoonProperties* properties) {
  if (properties == nullptr) return;
  for (size_t i = 0; properties->properties != nullptr && i < properties->count; ++i) {
    std::free(properties->properties[i].key);
    std::free(properties->properties[i].value);
  }
  std::free(properties->properties);
  properties->properties = nullptr;
  properties->count = 0;
}

void loon_column_groups_destroy(LoonColumnGroups* cgroups) {
  if (cgroups == nullptr) return;
  loon::FreeColumnGroupsContents(cgroups);
  std::free(cgroups);
}

char* loon_column_groups_debug_string(const LoonColumnGroups* cgroups) {
  try {
    if (cgroups == nullptr) return loon::MallocString("ColumnGroups: NULL");
    auto groups = loon::ColumnGroupsFromC(*cgroups);
    if (!groups.ok()) return loon::MallocString("ColumnGroups: malformed: " + groups.status().message());
    return loon::MallocString(loon::DebugString(*groups));
  } catch (...) {
    return nullptr;
  }
}

}  // extern "C"
