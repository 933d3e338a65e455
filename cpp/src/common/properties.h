// Typed view of a LoonProperties set: validation of known keys (ffi_c.h 4.2 property keys) and defaults.
#pragma once

#include <arrow/result.h>
#include <arrow/status.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "milvus-storage/ffi_c.h"

namespace loon {

class Properties {
 public:
  Properties() = default;

  // Copies and validates a C property set (NULL-safe only where the caller allows it).
  // Bad values of known keys give CodedError(7, ...).
  static arrow::Result<Properties> FromC(const LoonProperties* props);
  static arrow::Result<Properties> FromMap(std::map<std::string, std::string> values);

  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  // Raw value, or the key's registered default when absent ("" for unknown keys).
  std::string GetString(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  uint64_t GetUInt(const std::string& key) const;
  std::vector<std::string> GetList(const std::string& key) const;

  const std::map<std::string, std::string>& values() const { return values_; }
  // Keys with the given prefix, prefix stripped (e.g. "extfs.prod." -> {"bucket_name": ...}).
  std::map<std::string, std::string> WithPrefix(const std::string& prefix) const;

  // Validates one value against the registry; OK for unknown keys.
  static arrow::Status Validate(const std::string& key, const std::string& value);

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace loon
