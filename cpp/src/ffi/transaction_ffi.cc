// 2.8 transactions: C shims over loon::transaction::Transaction (handle = owning pointer).
#include <string>

#include "common/column_groups.h"
#include "common/properties.h"
#include "common/status.h"
#include "fiu/fault.h"
#include "manifest/manifest.h"
#include "milvus-storage/ffi_c.h"
#include "transaction/transaction.h"

namespace {

using loon::transaction::Transaction;

Transaction* Txn(LoonTransactionHandle h) { return reinterpret_cast<Transaction*>(h); }

}  // namespace

#define LOON_TXN_HANDLE() LOON_REQUIRE_ARG(handle != 0, "transaction handle is 0")

extern "C" {

LoonFFIResult loon_transaction_begin(const char* base_path, const LoonProperties* properties, int64_t read_version,
                                     int32_t resolve_id, uint32_t retry_limit, LoonTransactionHandle* out_handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(base_path != nullptr, "base_path is NULL");
    LOON_REQUIRE_ARG(properties != nullptr, "properties is NULL");
    LOON_REQUIRE_ARG(out_handle != nullptr, "out_handle is NULL");
    *out_handle = 0;
    auto props = loon::Properties::FromC(properties);
    if (!props.ok()) return loon::ToFFIResult(props.status(), loon::kInvalidProperties);
    auto txn = Transaction::Begin(base_path, *props, read_version, resolve_id, retry_limit);
    if (!txn.ok()) return loon::ToFFIResult(txn.status(), loon::kArrow);
    *out_handle = reinterpret_cast<LoonTransactionHandle>(txn->release());
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_transaction_get_manifest(LoonTransactionHandle handle, LoonManifest** out_manifest) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    LOON_REQUIRE_ARG(out_manifest != nullptr, "out_manifest is NULL");
    *out_manifest = loon::manifest::NewManifestC(Txn(handle)->snapshot());
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_transaction_get_read_version(LoonTransactionHandle handle, int64_t* out_read_version) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    LOON_REQUIRE_ARG(out_read_version != nullptr, "out_read_version is NULL");
    *out_read_version = Txn(handle)->read_version();
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_transaction_commit(LoonTransactionHandle handle, int64_t* out_committed_version) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    auto v = Txn(handle)->Commit();
    if (!v.ok()) return loon::ToFFIResult(v.status(), loon::kLogical);
    if (out_committed_version != nullptr) *out_committed_version = *v;
    return loon::FFISuccess();
  })
}

void loon_transaction_destroy(LoonTransactionHandle handle) {
  // Destroy without commit is the abort path: nothing was written.
  delete Txn(handle);
}

LoonFFIResult loon_transaction_drop_column(LoonTransactionHandle handle, const char* column_name) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    LOON_REQUIRE_ARG(column_name != nullptr, "column_name is NULL");
    Txn(handle)->DropColumn(column_name);
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_transaction_drop_index(LoonTransactionHandle handle, int64_t index_id) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    LOON_REQUIRE_ARG(index_id != 0, "index_id is 0");
    Txn(handle)->DropIndex(index_id);
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_transaction_add_column_group(LoonTransactionHandle handle, const LoonColumnGroup* column_group) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    LOON_REQUIRE_ARG(column_group != nullptr, "column_group is NULL");
    auto group = loon::ColumnGroupFromC(*column_group);
    if (!group.ok()) return loon::ToFFIResult(group.status(), loon::kLogical);
    Txn(handle)->AddColumnGroup(std::move(*group));
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_transaction_append_files(LoonTransactionHandle handle, const LoonColumnGroups* column_groups) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    LOON_REQUIRE_ARG(column_groups != nullptr, "column_groups is NULL");
    auto groups = loon::ColumnGroupsFromC(*column_groups);
    if (!groups.ok()) return loon::ToFFIResult(groups.status(), loon::kLogical);
    Txn(handle)->AppendFiles(std::move(*groups));
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_transaction_add_delta_log(LoonTransactionHandle handle, const char* path, int64_t num_entries) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    LOON_REQUIRE_ARG(path != nullptr, "path is NULL");
    Txn(handle)->AddDeltaLog(path, num_entries);
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_transaction_update_stat(LoonTransactionHandle handle, const char* key, const char* const* files,
                                           size_t files_len, const char* const* metadata_keys,
                                           const char* const* metadata_values, size_t metadata_len) {
  LOON_FFI_GUARD({
    LOON_TXN_HANDLE();
    LOON_REQUIRE_ARG(key != nullptr, "key is NULL");
    LOON_REQUIRE_ARG(files != nullptr, "files is NULL");
    loon::manifest::Statistics stat;
    for (size_t i = 0; i < files_len; ++i) {
      if (files[i] != nullptr) stat.paths.emplace_back(files[i]);
    }
    if (metadata_keys != nullptr && metadata_values != nullptr) {
      for (size_t i = 0; i < metadata_len; ++i) {
        if (metadata_keys[i] != nullptr && metadata_values[i] != nullptr) {
          stat.metadata[metadata_keys[i]] = metadata_values[i];
        }
      }
    }
    Txn(handle)->UpdateStat(key, std::move(stat));
    return loon::FFISuccess();
  })
}

}  // extern "C"
