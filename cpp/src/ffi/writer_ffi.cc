// 2.5 writer: thin C edge over loon::Writer.
#include <arrow/c/bridge.h>
#include <arrow/record_batch.h>

#include "common/column_groups.h"
#include "common/properties.h"
#include "common/status.h"
#include "milvus-storage/ffi_c.h"
#include "writer/writer.h"

namespace {

loon::Writer* AsWriter(LoonWriterHandle h) { return reinterpret_cast<loon::Writer*>(h); }

// Releases a C array the import did not take over (the ABI moves it in even on failure).
void ReleaseIfSet(struct ArrowArray* array) {
  if (array != nullptr && array->release != nullptr) array->release(array);
}

}  // namespace

extern "C" {

LoonFFIResult loon_writer_new(const char* base_path, struct ArrowSchema* schema, const LoonProperties* properties,
                              LoonWriterHandle* out_handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(base_path != nullptr, "base_path is NULL");
    LOON_REQUIRE_ARG(schema != nullptr, "schema is NULL");
    LOON_REQUIRE_ARG(properties != nullptr, "properties is NULL");
    LOON_REQUIRE_ARG(out_handle != nullptr, "out_handle is NULL");
    auto props = loon::Properties::FromC(properties);
    if (!props.ok()) return loon::ToFFIResult(props.status(), loon::kInvalidProperties);
    // Cross-key property checks come before the import too: on code 7 the caller keeps the schema.
    auto valid = loon::ValidateWriterProperties(*props);
    if (!valid.ok()) return loon::ToFFIResult(valid, loon::kInvalidProperties);
    auto imported = arrow::ImportSchema(schema);
    if (!imported.ok()) return loon::ToFFIResult(imported.status(), loon::kArrow);
    auto writer = loon::Writer::Make(base_path, *imported, std::move(*props));
    if (!writer.ok()) return loon::ToFFIResult(writer.status(), loon::kArrow);
    *out_handle = reinterpret_cast<LoonWriterHandle>(writer->release());
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_writer_write(LoonWriterHandle handle, struct ArrowArray* array) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(handle != 0, "writer handle is 0");
    LOON_REQUIRE_ARG(array != nullptr, "array is NULL");
    loon::Writer* writer = AsWriter(handle);
    auto batch = arrow::ImportRecordBatch(array, writer->schema());
    ReleaseIfSet(array);
    if (!batch.ok()) return loon::ToFFIResult(batch.status(), loon::kArrow);
    return loon::ToFFIResult(writer->Write(*batch), loon::kArrow);
  })
}

LoonFFIResult loon_writer_flush(LoonWriterHandle handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(handle != 0, "writer handle is 0");
    return loon::ToFFIResult(AsWriter(handle)->Flush(), loon::kArrow);
  })
}

LoonFFIResult loon_writer_close(LoonWriterHandle handle, char** meta_keys, char** meta_vals, uint16_t meta_len,
                                LoonColumnGroups** out_columngroups) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(handle != 0, "writer handle is 0");
    LOON_REQUIRE_ARG(out_columngroups != nullptr, "out_columngroups is NULL");
    if (meta_len > 0) {
      LOON_REQUIRE_ARG(meta_keys != nullptr && meta_vals != nullptr, "meta_keys/meta_vals are NULL");
      for (uint16_t i = 0; i < meta_len; ++i) {
        LOON_REQUIRE_ARG(meta_keys[i] != nullptr && meta_vals[i] != nullptr, "NULL metadata entry");
      }
    }
    // Upstream accepts but does not persist the metadata; so do we.
    auto groups = AsWriter(handle)->Close();
    if (!groups.ok()) return loon::ToFFIResult(groups.status(), loon::kArrow);
    *out_columngroups = loon::NewColumnGroupsC(*groups);
    return loon::FFISuccess();
  })
}

void loon_writer_destroy(LoonWriterHandle handle) {
  try {
    delete AsWriter(handle);
  } catch (...) {
  }
}

}  // extern "C"
