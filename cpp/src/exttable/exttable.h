// External tables (ffi_c.h 2.9 external table; README "External tables": URIs): importing data files that the engine did not write.
//
// Explore lists the regular files directly inside a directory (no recursion, no extension filter),
// records each as a URI with the unknown range [-1, -1) and commits them as one column group to a
// base path (FAIL strategy, one retry). FileRows gives the row count of one external file, so a
// caller can turn explored entries into files with real ranges ([0, rows)) before reading them.
//
// Formats: "parquet" is read by the engine. Any other format is read through a format provider
// registered by the host process (exttable/provider_registry.h; milvus-storage reads "vortex" and
// "lance-table" through its Rust libraries, we through the host's Vortex and Lance libraries).
// Without a provider the format is refused with code 1 before touching storage. For a provider
// format, explore records what the provider lists: plain files as for Parquet, or one entry per
// fragment, "<dataset-uri>?fragment_id=<n>" with the range [0, rows).
#pragma once

#include <arrow/result.h>
#include <arrow/status.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/properties.h"

namespace loon::exttable {

// OK for "parquet" and formats with a registered provider; CodedError(kInvalidArgs) naming the
// reason for any other format.
arrow::Status CheckFormat(const std::string& format);

// The URI under which a file of the `fs.*` filesystem of `props` is recorded (README "External tables": URIs):
// local storage -> "local:///local/<root-relative path>".
arrow::Result<std::string> ExternalUri(const Properties& props, const std::string& fs_path);

struct ExploreResult {
  uint64_t num_files = 0;
  int64_t version = 0;
  std::string manifest_path;  // "<base_dir>/_metadata/manifest-<version>.avro"
};

// Lists `explore_dir` (fs-relative or a URI matched by extfs.*) and commits one column group of
// `columns`/`format` holding every regular file found to `base_dir`. Failures: bad arguments
// CodedError(kInvalidArgs); listing CodedError(kArrow) unless the OS said ENOENT (-> 12); a
// directory without data files commits a group of 0 files (as milvus-storage does); transaction
// failures keep their code (4, 111, 112); a provider's failure keeps the code it chose.
arrow::Result<ExploreResult> Explore(const std::vector<std::string>& columns, const std::string& format,
                                     const std::string& base_dir, const std::string& explore_dir,
                                     const Properties& props);

// Row count of one external file (sum of its row groups) or, for a provider format, of one file
// or fragment as the provider counts it. Absent: CodedError(kFileNotFound); a directory:
// CodedError(kInvalidArgs); unreadable: an error without code (fallback 3).
arrow::Result<int64_t> FileRows(const std::string& format, const std::string& file_path, const Properties& props);

}  // namespace loon::exttable
