// Column-group writer (ffi_c.h 2.5; README "Data files"): splits record batches by a column-group policy,
// buffers them and writes one Parquet file sequence per group under <base>/_data/.
#pragma once

#include <arrow/array.h>
#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/status.h>
#include <arrow/type.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/column_groups.h"
#include "common/properties.h"

namespace loon {

// In-memory Arrow bytes of the logical slice [offset, offset+length) of `data` (sliced views are
// not charged for the parts of the buffers they do not use).
int64_t EstimateMemorySize(const arrow::ArrayData& data);
int64_t EstimateMemorySize(const arrow::RecordBatch& batch);

// One column group chosen by a policy: schema field indices (schema order) and the file format.
struct GroupSpec {
  std::vector<int> fields;
  std::string format;
};

// Applies `writer.policy` (README "Data files": writer.policy). `sample` is needed by size_based only (may be null for the
// others); the result never contains an empty group.
arrow::Result<std::vector<GroupSpec>> SplitColumns(const arrow::Schema& schema, const Properties& props,
                                                   const arrow::RecordBatch* sample);

// Canonical lowercase random (version 4) UUID.
std::string NewUuid4();

// Checks the cross-key writer properties (encryption key length, cipher name) that the per-key
// registry cannot; fails with code 7. Called before the schema is imported (the caller keeps what a failed call did not take: on a
// property failure the caller still owns the schema) and again by Writer::Make.
arrow::Status ValidateWriterProperties(const Properties& props);

class Writer {
 public:
  // Validates the writer properties (codec, encryption, policy) without creating any file.
  static arrow::Result<std::unique_ptr<Writer>> Make(std::string base_path, std::shared_ptr<arrow::Schema> schema,
                                                     Properties props);
  ~Writer();

  const std::shared_ptr<arrow::Schema>& schema() const;
  arrow::Status Write(const std::shared_ptr<arrow::RecordBatch>& batch);
  arrow::Status Flush();
  arrow::Result<ColumnGroupList> Close();

  struct Impl;

 private:
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace loon
