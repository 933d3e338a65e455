/* Format providers: an extension of the loon engine (not in milvus-storage).
 *
 * milvus-storage reads the column-group formats "vortex" and "lance-table" through Rust libraries
 * linked into it. This engine has no reader of its own for them; instead the host process (for
 * example the Python binding, with the formats' own libraries) registers a *provider* per format
 * name: callbacks that list, describe and stream the data as Arrow C streams. Everything the
 * engine does with such a format goes through them:
 *
 *   loon_exttable_explore       list(): a dataset's fragments or a directory's data files
 *                               (optional: without it the engine lists regular files itself)
 *   loon_exttable_get_file_info describe(): the row count of one file or fragment
 *   reading column groups       open_stream(): the rows [start, end) of a set of columns
 *                               (scan with projection and predicates, chunk reader whose
 *                               chunks hold at most `reader.logical_chunk_rows` rows)
 *   take                        take() (optional): given rows of one file or fragment;
 *                               without it, spans read through open_stream()
 *
 * Without a provider, the engine refuses those formats with code 1, as before. "parquet" is read
 * by the engine itself and cannot be replaced.
 *
 * Locations. The engine resolves every path (fs-relative or an external URI matched by an
 * `extfs.<alias>.*` configuration) to a LoonFormatLocation: a URI the formats' libraries open and
 * the storage options of the store holding it, derived from the engine's `fs.*` keys (or the
 * alias's) so that the provider reaches the same store with the same endpoint and credentials:
 *
 *   local storage    uri: the absolute OS path; no options
 *   S3 and S3-compatibles (aws, aliyun, tencent, huawei; gcp with HMAC keys)
 *                    uri: "s3://<bucket>/<key>"; options: aws_endpoint (absent for AWS's public
 *                    endpoint), aws_region, aws_access_key_id + aws_secret_access_key
 *                    (+ aws_session_token with fs.use_iam: the credentials the engine resolved),
 *                    aws_skip_signature=true without credentials, aws_virtual_hosted_style_request
 *   GCS (native)     uri: "gs://<bucket>/<key>"; options: google_service_account_key, a JSON
 *                    service account: fs.gcp_credential_json, or (fs.gcp_native_without_auth) one
 *                    that disables OAuth; with an endpoint other than storage.googleapis.com it
 *                    carries "gcs_base_url" (the library's way to reach an emulator)
 *   Azure Blob       uri: "az://<container>/<key>"; options: azure_storage_account_name,
 *                    azure_storage_account_key (or azure_storage_client_id /
 *                    azure_storage_tenant_id for a managed identity), azure_storage_endpoint
 *                    ("<scheme>://<host>/<account>" for path-style hosts such as emulators)
 *   every object store: allow_http=true over http; connect_timeout=<fs.request_timeout_ms>ms
 *
 * The option names are the configuration keys of the Rust object_store crate, which Lance
 * (`storage_options`) and Vortex (`vortex.store`) read. A configuration those keys cannot express
 * (fs.role_arn assume-role, fs.gcp_target_service_account impersonation, fs.ssl_ca_cert) is
 * refused with code 9 naming the key, before any callback runs. A file or fragment is named by
 * its location plus a fragment id: -1 for a plain file (Vortex), the fragment number for a
 * fragment of the dataset at the location (Lance, recorded in manifests as
 * "<dataset-uri>?fragment_id=<n>").
 *
 * Threads and lifetime. Callbacks are called from engine worker threads, several at once, and
 * must be thread-safe. Registration, replacement and removal are thread-safe: a call already
 * running keeps the registration it started with, and `release(private_data)` is called exactly
 * once, when the engine no longer uses a registration (after it was replaced or removed and its
 * last call returned). Streams handed out by open_stream() are released by the engine through
 * their own `release`.
 *
 * Errors. A callback returns 0 on success. Any other value is a failure; the callback should
 * say why with loon_format_sink_set_error(); the engine reports it as an error code (3 unless
 * the callback returns one of the codes below) whose message carries the provider's text. A
 * stream whose get_next fails, ends before the rows asked for, yields more rows, or lacks a
 * requested column or has one whose type cannot be cast to the dataset's schema fails the read
 * with code 3 and a message naming the file; it never crashes the engine.
 */
#ifndef LOON_FFI_FORMAT_PROVIDER_H
#define LOON_FFI_FORMAT_PROVIDER_H

#include "milvus-storage/ffi_c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOON_FORMAT_PROVIDER_ABI_VERSION 3

/* Failure codes a callback may return to choose the engine's error code; any other non-zero
 * value is reported as 3. */
#define LOON_FORMAT_NOT_FOUND 12 /* the file, directory or fragment does not exist */
#define LOON_FORMAT_INVALID 1    /* e.g. a directory where a file was expected */

/* Engine-owned collector handed to each callback; valid only during that call. */
typedef struct LoonFormatSink LoonFormatSink;

/* list(): one entry. For a plain file, `name` is its base name inside the listed directory and
 * `fragment_id` is -1; `num_rows` may be -1 (unknown: explore records files with the range
 * [-1, -1), as for Parquet). For a fragment of the dataset at the listed location, `name` is
 * NULL or "" and `fragment_id` >= 0 with its exact (visible, after deletions) `num_rows`. */
LOON_EXPORT void loon_format_sink_add_entry(LoonFormatSink* sink, const char* name, int64_t fragment_id,
                                            int64_t num_rows);
/* Why a callback failed (copied; the last call wins). */
LOON_EXPORT void loon_format_sink_set_error(LoonFormatSink* sink, const char* message);

/* Where a directory, file or dataset is (see "Locations" above); valid only during the call. */
typedef struct LoonFormatLocation {
  const char* uri;
  const LoonProperties* storage_options; /* never NULL; count 0 for local storage */
} LoonFormatLocation;

typedef struct LoonFormatProvider {
  uint32_t abi_version; /* LOON_FORMAT_PROVIDER_ABI_VERSION */
  void* private_data;   /* passed back to every callback */

  /* The data files directly inside the directory `location` (no recursion), or every fragment
   * of the dataset at `location`, reported through loon_format_sink_add_entry. A directory with
   * no data files is an empty, successful listing. May be NULL: the engine then lists the
   * directory's regular files itself, through its own filesystem (as for Parquet). `properties`
   * are the engine properties of the call. */
  int (*list)(void* private_data, const LoonFormatLocation* location, const LoonProperties* properties,
              LoonFormatSink* sink);

  /* Row count (after deletions) and Arrow schema of one file (fragment_id -1) or fragment.
   * `out_schema` may be NULL when only the row count is wanted; otherwise the provider fills it
   * and the engine releases it. */
  int (*describe)(void* private_data, const LoonFormatLocation* location, int64_t fragment_id,
                  const LoonProperties* properties,
                  int64_t* out_num_rows, struct ArrowSchema* out_schema, LoonFormatSink* sink);

  /* A stream over rows [start, end) of one file or fragment (row numbers after deletions),
   * holding the named columns (any order; the engine selects by name). The engine consumes
   * exactly end - start rows and releases the stream. */
  int (*open_stream)(void* private_data, const LoonFormatLocation* location, int64_t fragment_id,
                     const char* const* columns,
                     size_t num_columns, int64_t start, int64_t end, const LoonProperties* properties,
                     struct ArrowArrayStream* out_stream, LoonFormatSink* sink);

  /* Random access, optional (may be NULL): a stream over exactly `num_rows` rows of one file or
   * fragment, `rows[i]` (row numbers after deletions; ascending, no repeats) in that order, holding
   * the named columns. The engine takes rows with it; without it, a take reads the span from
   * the lowest to the highest row asked of each chunk through open_stream. */
  int (*take)(void* private_data, const LoonFormatLocation* location, int64_t fragment_id,
              const char* const* columns, size_t num_columns, const int64_t* rows, size_t num_rows,
              const LoonProperties* properties, struct ArrowArrayStream* out_stream, LoonFormatSink* sink);

  /* Called once when the engine is done with this registration; may be NULL. */
  void (*release)(void* private_data);
} LoonFormatProvider;

/* Registers `provider` for `format` (copied), replacing any earlier registration of that name.
 * NULL arguments, a NULL describe or open_stream, a wrong abi_version or the name "parquet" -> 1. On failure
 * the engine does not call `provider->release`. */
LOON_EXPORT LoonFFIResult loon_format_provider_register(const char* format, const LoonFormatProvider* provider);

/* Removes the registration of `format`; *out_removed tells whether there was one (may be NULL). */
LOON_EXPORT LoonFFIResult loon_format_provider_unregister(const char* format, bool* out_removed);

/* Whether this engine can read `format` now: built in ("parquet") or with a registered provider. */
LOON_EXPORT LoonFFIResult loon_format_supported(const char* format, bool* out_supported);

#ifdef __cplusplus
}
#endif

#endif /* LOON_FFI_FORMAT_PROVIDER_H */
