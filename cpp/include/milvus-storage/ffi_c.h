/* Public C ABI of the loon engine (libmilvus-storage.so).
 *
 * Names, parameter types, struct layouts and exported variable shapes are those of milvus-storage's
 * C FFI (section numbers below group the declarations), so a caller can load this engine or a real
 * milvus-storage build interchangeably. Only loon_* symbols are exported.
 */
#ifndef LOON_FFI_C_H
#define LOON_FFI_C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arrow/c/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOON_EXPORT __attribute__((visibility("default")))

/* ---- 3.1 result and handles ------------------------------------------------------------ */
typedef struct LoonFFIResult {
  int err_code;
  char* message;
} LoonFFIResult;

typedef uintptr_t LoonWriterHandle;
typedef uintptr_t LoonReaderHandle;
typedef uintptr_t LoonChunkReaderHandle;
typedef uintptr_t LoonTransactionHandle;
typedef uintptr_t FileSystemHandle;
typedef uintptr_t FileSystemWriterHandle;
typedef uintptr_t FileSystemReaderHandle;

/* ---- 3.2 properties --------------------------------------------------------------------- */
typedef struct LoonProperty {
  char* key;
  char* value;
} LoonProperty;

typedef struct LoonProperties {
  LoonProperty* properties;
  size_t count;
} LoonProperties;

/* ---- 3.3 column groups ------------------------------------------------------------------ */
typedef struct LoonColumnGroupFile {
  const char* path;
  int64_t start_index;
  int64_t end_index;
  const char** property_keys;
  const char** property_values;
  uint32_t num_properties;
} LoonColumnGroupFile;

typedef struct LoonColumnGroup {
  const char** columns;
  uint32_t num_of_columns;
  const char* format;
  LoonColumnGroupFile* files;
  uint32_t num_of_files;
} LoonColumnGroup;

typedef struct LoonColumnGroups {
  LoonColumnGroup* column_group_array;
  uint32_t num_of_column_groups;
} LoonColumnGroups;

/* ---- 3.4 manifest ----------------------------------------------------------------------- */
typedef struct LoonDeltaLogs {
  const char** delta_log_paths;
  uint32_t* delta_log_num_entries;
  uint32_t num_delta_logs;
} LoonDeltaLogs;

typedef struct LoonStatsLog {
  const char** stat_keys;
  const char*** stat_files;
  uint32_t* stat_file_counts;
  const char*** stat_metadata_keys;
  const char*** stat_metadata_values;
  uint32_t* stat_metadata_counts;
  uint32_t num_stats;
} LoonStatsLog;

typedef struct LoonLobFileInfo {
  const char* path;
  int64_t field_id;
  int64_t total_rows;
  int64_t valid_rows;
  int64_t file_size_bytes;
} LoonLobFileInfo;

typedef struct LoonLobFiles {
  LoonLobFileInfo* files;
  uint32_t num_files;
} LoonLobFiles;

typedef struct LoonIndexInfo {
  const char* column_name;
  const char* index_name;
  const char* index_type;
  const char* path;
  int64_t field_id;
  int64_t index_id;
  int64_t build_id;
  int64_t index_version;
  int64_t num_rows;
  int64_t serialized_size;
  int64_t mem_size;
  int32_t current_index_version;
  int32_t current_scalar_index_version;
  int32_t index_store_path_version;
  const char** index_file_keys;
  uint32_t num_index_file_keys;
  const char** property_keys;
  const char** property_values;
  uint32_t num_properties;
} LoonIndexInfo;

typedef struct LoonIndexes {
  LoonIndexInfo* indexes;
  uint32_t num_indexes;
} LoonIndexes;

typedef struct LoonManifest {
  LoonColumnGroups column_groups;
  LoonDeltaLogs delta_logs;
  LoonStatsLog stats;
  LoonLobFiles lob_files;
  LoonIndexes indexes;
} LoonManifest;

/* ---- 3.5 chunk metadata ----------------------------------------------------------------- */
#define LOON_CHUNK_METADATA_ESTIMATED_MEMORY 0x01
#define LOON_CHUNK_METADATA_NUMOFROWS 0x02
#define LOON_CHUNK_METADATA_ALL 0x03

typedef struct LoonChunkMetadata {
  uint32_t metadata_type;
  union result_u {
    uint64_t estimated_memsz;
    uint64_t number_of_rows;
  } * data;
  uint64_t number_of_chunks;
} LoonChunkMetadata;

typedef struct LoonChunkMetadatas {
  LoonChunkMetadata* metadatas;
  uint8_t metadatas_size;
} LoonChunkMetadatas;

/* ---- 3.6 filesystem --------------------------------------------------------------------- */
typedef struct LoonFileSystemMeta {
  char* key;
  char* value;
} LoonFileSystemMeta;

typedef struct LoonFileInfo {
  char* path;
  uint32_t path_len;
  bool is_dir;
  uint64_t size;
  int64_t mtime_ns;
} LoonFileInfo;

typedef struct LoonFileInfoList {
  LoonFileInfo* entries;
  uint32_t count;
} LoonFileInfoList;

/* ---- 3.8 metrics ------------------------------------------------------------------------ */
typedef struct LoonFilesystemMetricsSnapshot {
  int64_t read_count;
  int64_t write_count;
  int64_t read_bytes;
  int64_t write_bytes;
  int64_t get_file_info_count;
  int64_t create_dir_count;
  int64_t delete_dir_count;
  int64_t delete_file_count;
  int64_t move_count;
  int64_t copy_file_count;
  int64_t failed_count;
  int64_t multi_part_upload_created;
  int64_t multi_part_upload_finished;
} LoonFilesystemMetricsSnapshot;

/* ---- 4.5 transaction resolve strategies ------------------------------------------------- */
#define LOON_TRANSACTION_RESOLVE_FAIL 0
#define LOON_TRANSACTION_RESOLVE_MERGE 1 /* extension of this engine; FAIL upstream */
#define LOON_TRANSACTION_RESOLVE_OVERWRITE 2

/* ---- 4.1 error codes (const int objects) ------------------------------------------------ */
LOON_EXPORT extern const int loon_errcode_success;
LOON_EXPORT extern const int loon_errcode_invalid_args;
LOON_EXPORT extern const int loon_errcode_memory;
LOON_EXPORT extern const int loon_errcode_arrow;
LOON_EXPORT extern const int loon_errcode_logical;
LOON_EXPORT extern const int loon_errcode_got_exception;
LOON_EXPORT extern const int loon_errcode_unreachable;
LOON_EXPORT extern const int loon_errcode_invalid_properties;
LOON_EXPORT extern const int loon_errcode_fault_inject;
LOON_EXPORT extern const int loon_errcode_not_support;
LOON_EXPORT extern const int loon_errcode_file_not_found;
LOON_EXPORT extern const int loon_errcode_aws_no_such_upload;
LOON_EXPORT extern const int loon_errcode_aws_conflict;
LOON_EXPORT extern const int loon_errcode_aws_precondition_failed;
LOON_EXPORT extern const int loon_errcode_aws_not_found;
LOON_EXPORT extern const int loon_errcode_aws_access_denied;
LOON_EXPORT extern const int loon_errcode_aws_non_retryable;
LOON_EXPORT extern const int loon_errcode_transient_network;
LOON_EXPORT extern const int loon_errcode_transient_timeout;
LOON_EXPORT extern const int loon_errcode_transient_throttling;
LOON_EXPORT extern const int loon_errcode_transient_service;
LOON_EXPORT extern const int loon_errcode_txn_exhausted_retry;
LOON_EXPORT extern const int loon_errcode_txn_resolution_failed;

/* ---- 4.2 property keys (const char* pointer objects) ------------------------------------ */
#define LOON_PROPERTY_KEYS(X)                                                         \
  X(fs_address, "fs.address")                                                         \
  X(fs_bucket_name, "fs.bucket_name")                                                 \
  X(fs_access_key_id, "fs.access_key_id")                                             \
  X(fs_access_key_value, "fs.access_key_value")                                       \
  X(fs_root_path, "fs.root_path")                                                     \
  X(fs_storage_type, "fs.storage_type")                                               \
  X(fs_cloud_provider, "fs.cloud_provider")                                           \
  X(fs_iam_endpoint, "fs.iam_endpoint")                                               \
  X(fs_log_level, "fs.log_level")                                                     \
  X(fs_region, "fs.region")                                                           \
  X(fs_use_ssl, "fs.use_ssl")                                                         \
  X(fs_ssl_ca_cert, "fs.ssl_ca_cert")                                                 \
  X(fs_use_iam, "fs.use_iam")                                                         \
  X(fs_use_virtual_host, "fs.use_virtual_host")                                       \
  X(fs_request_timeout_ms, "fs.request_timeout_ms")                                   \
  X(fs_gcp_native_without_auth, "fs.gcp_native_without_auth")                         \
  X(fs_gcp_credential_json, "fs.gcp_credential_json")                                 \
  X(fs_use_custom_part_upload, "fs.use_custom_part_upload")                           \
  X(fs_max_connections, "fs.max_connections")                                         \
  X(fs_multi_part_upload_size, "fs.multi_part_upload_size")                           \
  X(fs_role_arn, "fs.role_arn")                                                       \
  X(fs_session_name, "fs.session_name")                                               \
  X(fs_external_id, "fs.external_id")                                                 \
  X(fs_load_frequency, "fs.load_frequency")                                           \
  X(fs_s3_crt_async_read, "fs.s3.crt_async_read")                                     \
  X(fs_lance_io_parallelism, "fs.lance_io_parallelism")                               \
  X(fs_iops_initial_rate, "fs.iops_initial_rate")                                     \
  X(fs_iops_max_rate, "fs.iops_max_rate")                                             \
  X(writer_policy, "writer.policy")                                                   \
  X(writer_format, "writer.format")                                                   \
  X(writer_schema_base_patterns, "writer.split.schema_based.patterns")                \
  X(writer_schema_base_formats, "writer.split.schema_based.formats")                  \
  X(writer_size_base_macs, "writer.split.size_based.max_avg_column_size")             \
  X(writer_size_base_mcig, "writer.split.size_based.max_columns_in_group")            \
  X(writer_buffer_size, "writer.buffer_size")                                         \
  X(writer_file_rolling_size, "writer.file_rolling.size")                             \
  X(writer_compression, "writer.compression")                                         \
  X(writer_compression_level, "writer.compression_level")                             \
  X(writer_enable_dictionary, "writer.enable_dictionary")                             \
  X(writer_enc_enable, "writer.enc.enable")                                           \
  X(writer_enc_key, "writer.enc.key")                                                 \
  X(writer_enc_meta, "writer.enc.meta")                                               \
  X(writer_enc_algorithm, "writer.enc.algorithm")                                     \
  X(writer_vortex_enable_statistics, "writer.vortex.enable_statistics")               \
  X(reader_record_batch_max_rows, "reader.record_batch_max_rows")                     \
  X(reader_record_batch_max_size, "reader.record_batch_max_size")                     \
  X(reader_logical_chunk_rows, "reader.logical_chunk_rows")                           \
  X(reader_metadata_cache_enable, "reader.metadata_cache.enable")                     \
  X(paimon_scan_mode, "paimon.scan_mode")                                             \
  X(paimon_snapshot_id, "paimon.snapshot_id")                                         \
  X(transaction_commit_num_retries, "transaction.commit.num-retries")                 \
  X(fs_tls_min_version, "fs.tls_min_version")                                         \
  X(fs_background_writes, "fs.background_writes")                                     \
  X(fs_use_crc32c_checksum, "fs.use_crc32c_checksum")                                 \
  X(reader_parquet_prebuffer_hole_size_limit, "reader.parquet.prebuffer.hole_size_limit") \
  X(reader_parquet_prebuffer_range_size_limit, "reader.parquet.prebuffer.range_size_limit") \
  X(reader_vortex_split_row_indices, "reader.vortex.split_row_indices")               \
  X(reader_async_task_split_strategy, "reader.async.task_split_strategy")             \
  X(iceberg_snapshot_id, "iceberg.snapshot_id")

#define LOON_DECLARE_PROPERTY_KEY(sym, str) LOON_EXPORT extern const char* loon_properties_##sym;
LOON_PROPERTY_KEYS(LOON_DECLARE_PROPERTY_KEY)
#undef LOON_DECLARE_PROPERTY_KEY

/* ---- 2.1 results, errors and string release --------------------------------------------- */
LOON_EXPORT int loon_ffi_is_success(LoonFFIResult* result);
LOON_EXPORT const char* loon_ffi_get_errmsg(LoonFFIResult* result);
LOON_EXPORT void loon_ffi_free_result(LoonFFIResult* result);
LOON_EXPORT int loon_ffi_is_retryable_errcode(int err_code);
LOON_EXPORT void loon_free_cstr(char* c_str);

/* Extension: a static string naming this engine and its version. */
LOON_EXPORT const char* loon_engine_info(void);

/* Extension: a static, space-separated list of behaviours beyond milvus-storage that no single call
 * can show and that clients may rely on (lib/loon/capability.py lists them and probes the others).
 *   commit_retries_property  transaction.commit.num-retries is a commit retry budget: effective
 *                            retries = max(property, retry_limit of loon_transaction_begin) */
LOON_EXPORT const char* loon_engine_extensions(void);

/* ---- 2.2 properties --------------------------------------------------------------------- */
LOON_EXPORT LoonFFIResult loon_properties_create(const char* const* keys, const char* const* values, size_t count,
                                                 LoonProperties* properties);
LOON_EXPORT const char* loon_properties_get(const LoonProperties* properties, const char* key);
LOON_EXPORT void loon_properties_free(LoonProperties* properties);

/* ---- 2.3 column groups and manifests ---------------------------------------------------- */
LOON_EXPORT void loon_column_groups_destroy(LoonColumnGroups* cgroups);
LOON_EXPORT char* loon_column_groups_debug_string(const LoonColumnGroups* cgroups);
LOON_EXPORT void loon_manifest_destroy(LoonManifest* manifest);
LOON_EXPORT char* loon_manifest_debug_string(const LoonManifest* manifest);

/* ---- 2.4 thread pool -------------------------------------------------------------------- */
LOON_EXPORT LoonFFIResult loon_thread_pool_singleton(size_t num_of_thread);
LOON_EXPORT void loon_thread_pool_singleton_release();

/* ---- 2.5 writer ------------------------------------------------------------------------- */
LOON_EXPORT LoonFFIResult loon_writer_new(const char* base_path, struct ArrowSchema* schema,
                                          const LoonProperties* properties, LoonWriterHandle* out_handle);
LOON_EXPORT LoonFFIResult loon_writer_write(LoonWriterHandle handle, struct ArrowArray* array);
LOON_EXPORT LoonFFIResult loon_writer_flush(LoonWriterHandle handle);
LOON_EXPORT LoonFFIResult loon_writer_close(LoonWriterHandle handle, char** meta_keys, char** meta_vals,
                                            uint16_t meta_len, LoonColumnGroups** out_columngroups);
LOON_EXPORT void loon_writer_destroy(LoonWriterHandle handle);

/* ---- 2.6 reader ------------------------------------------------------------------------- */
LOON_EXPORT LoonFFIResult loon_reader_new(const LoonColumnGroups* column_groups, struct ArrowSchema* schema,
                                          const char* const* needed_columns, size_t num_columns,
                                          const LoonProperties* properties, LoonReaderHandle* out_handle);
LOON_EXPORT void loon_reader_set_keyretriever(LoonReaderHandle reader,
                                              const char* (*key_retriever)(const char* metadata));
LOON_EXPORT LoonFFIResult loon_get_record_batch_reader(LoonReaderHandle reader, const char* predicate,
                                                       struct ArrowArrayStream* out_array_stream);
LOON_EXPORT LoonFFIResult loon_get_chunk_reader(LoonReaderHandle reader, int64_t column_group_id,
                                                const char* const* needed_columns, size_t num_columns,
                                                LoonChunkReaderHandle* out_handle);
LOON_EXPORT LoonFFIResult loon_take(LoonReaderHandle reader, const int64_t* row_indices, size_t num_indices,
                                    size_t parallelism, const char* const* needed_columns, size_t num_columns,
                                    struct ArrowArray** out_arrays, size_t* num_arrays,
                                    struct ArrowSchema* out_schema);
LOON_EXPORT void loon_reader_destroy(LoonReaderHandle reader);

/* ---- 2.7 chunk reader ------------------------------------------------------------------- */
LOON_EXPORT LoonFFIResult loon_get_number_of_chunks(LoonChunkReaderHandle chunk_reader,
                                                    uint64_t* out_number_of_chunks);
LOON_EXPORT LoonFFIResult loon_get_chunk_metadatas(LoonChunkReaderHandle reader, uint32_t metadata_type,
                                                   LoonChunkMetadatas* out_chunk_metadata);
LOON_EXPORT LoonFFIResult loon_get_chunk_indices(LoonChunkReaderHandle reader, const int64_t* row_indices,
                                                 size_t num_indices, int64_t** chunk_indices,
                                                 size_t* num_chunk_indices);
LOON_EXPORT void loon_free_chunk_indices(int64_t* chunk_indices);
LOON_EXPORT LoonFFIResult loon_get_chunk(LoonChunkReaderHandle reader, int64_t chunk_index,
                                         struct ArrowArray* out_array, struct ArrowSchema* out_schema);
LOON_EXPORT LoonFFIResult loon_get_chunks(LoonChunkReaderHandle reader, const int64_t* chunk_indices,
                                          size_t num_indices, size_t parallelism, struct ArrowArray** arrays,
                                          size_t* num_arrays, struct ArrowSchema* out_schema);
LOON_EXPORT void loon_free_chunk_arrays(struct ArrowArray* arrays, size_t num_arrays);
LOON_EXPORT void loon_free_chunk_metadatas(LoonChunkMetadatas* chunk_metadata);
LOON_EXPORT void loon_chunk_reader_destroy(LoonChunkReaderHandle reader);

/* ---- 2.8 transaction -------------------------------------------------------------------- */
LOON_EXPORT LoonFFIResult loon_transaction_begin(const char* base_path, const LoonProperties* properties,
                                                 int64_t read_version, int32_t resolve_id, uint32_t retry_limit,
                                                 LoonTransactionHandle* out_handle);
LOON_EXPORT LoonFFIResult loon_transaction_get_manifest(LoonTransactionHandle handle, LoonManifest** out_manifest);
LOON_EXPORT LoonFFIResult loon_transaction_get_read_version(LoonTransactionHandle handle,
                                                            int64_t* out_read_version);
LOON_EXPORT LoonFFIResult loon_transaction_commit(LoonTransactionHandle handle, int64_t* out_committed_version);
LOON_EXPORT void loon_transaction_destroy(LoonTransactionHandle handle);
LOON_EXPORT LoonFFIResult loon_transaction_drop_column(LoonTransactionHandle handle, const char* column_name);
LOON_EXPORT LoonFFIResult loon_transaction_drop_index(LoonTransactionHandle handle, int64_t index_id);
LOON_EXPORT LoonFFIResult loon_transaction_add_column_group(LoonTransactionHandle handle,
                                                            const LoonColumnGroup* column_group);
LOON_EXPORT LoonFFIResult loon_transaction_append_files(LoonTransactionHandle handle,
                                                        const LoonColumnGroups* column_groups);
LOON_EXPORT LoonFFIResult loon_transaction_add_delta_log(LoonTransactionHandle handle, const char* path,
                                                         int64_t num_entries);
LOON_EXPORT LoonFFIResult loon_transaction_update_stat(LoonTransactionHandle handle, const char* key,
                                                       const char* const* files, size_t files_len,
                                                       const char* const* metadata_keys,
                                                       const char* const* metadata_values, size_t metadata_len);

/* ---- 2.9 external table ----------------------------------------------------------------- */
LOON_EXPORT LoonFFIResult loon_exttable_explore(const char** columns, size_t col_lens, const char* format,
                                                const char* base_dir, const char* explore_dir,
                                                const LoonProperties* properties, uint64_t* out_num_of_files,
                                                char** out_column_groups_file_path);
LOON_EXPORT LoonFFIResult loon_exttable_get_file_info(const char* format, const char* file_path,
                                                      const LoonProperties* properties, uint64_t* out_num_of_rows);
LOON_EXPORT LoonFFIResult loon_exttable_read_manifest(const char* manifest_file_path,
                                                      const LoonProperties* properties, LoonManifest** out_manifest);

/* ---- 2.10 filesystem and metrics -------------------------------------------------------- */
LOON_EXPORT LoonFFIResult loon_filesystem_get(const LoonProperties* properties, const char* path, uint32_t path_len,
                                              FileSystemHandle* out_handle);
LOON_EXPORT void loon_filesystem_destroy(FileSystemHandle handle);
LOON_EXPORT void loon_close_filesystems();
LOON_EXPORT LoonFFIResult loon_filesystem_open_writer(FileSystemHandle handle, const char* path_ptr,
                                                      uint32_t path_len, const LoonFileSystemMeta* meta_array,
                                                      uint32_t num_of_meta, bool conditional,
                                                      FileSystemWriterHandle* out_handle);
LOON_EXPORT LoonFFIResult loon_filesystem_writer_write(FileSystemWriterHandle handle, const uint8_t* data,
                                                       uint64_t size);
LOON_EXPORT LoonFFIResult loon_filesystem_writer_flush(FileSystemWriterHandle handle);
LOON_EXPORT LoonFFIResult loon_filesystem_writer_close(FileSystemWriterHandle handle);
LOON_EXPORT void loon_filesystem_writer_destroy(FileSystemWriterHandle handle);
LOON_EXPORT LoonFFIResult loon_filesystem_get_file_info(FileSystemHandle handle, const char* path_ptr,
                                                        uint32_t path_len, uint64_t* out_size);
LOON_EXPORT LoonFFIResult loon_filesystem_read_file(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                                    uint64_t offset, uint64_t nbytes, uint8_t* out_data);
LOON_EXPORT LoonFFIResult loon_filesystem_open_reader(FileSystemHandle handle, const char* path_ptr,
                                                      uint32_t path_len, uint64_t file_size,
                                                      FileSystemReaderHandle* out_reader_ptr);
LOON_EXPORT LoonFFIResult loon_filesystem_reader_readat(FileSystemReaderHandle handle, uint64_t offset,
                                                        uint64_t nbytes, uint8_t* out_data);
LOON_EXPORT LoonFFIResult loon_filesystem_reader_close(FileSystemReaderHandle handle);
LOON_EXPORT void loon_filesystem_reader_destroy(FileSystemReaderHandle handle);
LOON_EXPORT LoonFFIResult loon_filesystem_get_file_stats(FileSystemHandle handle, const char* path_ptr,
                                                         uint32_t path_len, uint64_t* out_size,
                                                         LoonFileSystemMeta** out_meta_array,
                                                         uint32_t* out_meta_count);
LOON_EXPORT void loon_filesystem_free_meta_array(LoonFileSystemMeta* meta_array, uint32_t meta_count);
LOON_EXPORT LoonFFIResult loon_filesystem_read_file_all(FileSystemHandle handle, const char* path_ptr,
                                                        uint32_t path_len, uint8_t** out_data, uint64_t* out_size);
LOON_EXPORT LoonFFIResult loon_filesystem_write_file(FileSystemHandle handle, const char* path_ptr,
                                                     uint32_t path_len, const uint8_t* data, uint64_t data_size,
                                                     const LoonFileSystemMeta* meta_array, uint32_t meta_count);
LOON_EXPORT LoonFFIResult loon_filesystem_delete_file(FileSystemHandle handle, const char* path_ptr,
                                                      uint32_t path_len);
LOON_EXPORT LoonFFIResult loon_filesystem_get_path_info(FileSystemHandle handle, const char* path_ptr,
                                                        uint32_t path_len, bool* out_exists, bool* out_is_dir,
                                                        int64_t* out_mtime_ns);
LOON_EXPORT LoonFFIResult loon_filesystem_create_dir(FileSystemHandle handle, const char* path_ptr,
                                                     uint32_t path_len, bool recursive);
LOON_EXPORT LoonFFIResult loon_filesystem_list_dir(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                                   bool recursive, LoonFileInfoList* out_list);
LOON_EXPORT void loon_filesystem_free_file_info_list(LoonFileInfoList* list);
LOON_EXPORT LoonFFIResult loon_filesystem_get_metrics(FileSystemHandle handle,
                                                      LoonFilesystemMetricsSnapshot* out_metrics);
LOON_EXPORT LoonFFIResult loon_filesystem_reset_metrics(FileSystemHandle handle);

/* ---- 2.11 fault injection (points: milvus-storage/ffi_fiu.h) ---------------------------- */
LOON_EXPORT LoonFFIResult loon_fiu_enable(const char* name, uint32_t name_len, int one_time);
LOON_EXPORT LoonFFIResult loon_fiu_disable(const char* name, uint32_t name_len);
LOON_EXPORT void loon_fiu_disable_all(void);
LOON_EXPORT int loon_fiu_is_enabled(void);

#ifdef __cplusplus
}
#endif

#include "milvus-storage/ffi_fiu.h"

#endif /* LOON_FFI_C_H */
