#include "common/properties.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <set>

#include "common/status.h"

namespace loon {

namespace {

enum class Type { kString, kBool, kI32, kI64, kU32, kU64, kList };

struct KeySpec {
  Type type;
  const char* default_value;
  std::vector<std::string> allowed;  // empty = any
  bool has_range = false;
  // Inclusive range, compared in the type's domain.
  long double min = 0;
  long double max = 0;
};

const std::vector<std::string> kFormats = {"parquet", "vortex", "lance-table", "iceberg-table"};

const std::map<std::string, KeySpec>& Registry() {
  static const std::map<std::string, KeySpec> registry = {
      {"fs.address", {Type::kString, "localhost:9000", {}}},
      {"fs.bucket_name", {Type::kString, "a-bucket", {}}},
      {"fs.access_key_id", {Type::kString, "minioadmin", {}}},
      {"fs.access_key_value", {Type::kString, "minioadmin", {}}},
      {"fs.root_path", {Type::kString, "files", {}}},
      {"fs.storage_type", {Type::kString, "local", {"local", "remote"}}},
      {"fs.cloud_provider", {Type::kString, "aws", {"aws", "gcp", "aliyun", "azure", "tencent", "huawei"}}},
      {"fs.iam_endpoint", {Type::kString, "", {}}},
      {"fs.log_level", {Type::kString, "fatal", {"fatal", "error", "warn", "info", "debug", "trace", "off"}}},
      {"fs.region", {Type::kString, "", {}}},
      {"fs.use_ssl", {Type::kBool, "false", {}}},
      {"fs.ssl_ca_cert", {Type::kString, "", {}}},
      {"fs.use_iam", {Type::kBool, "false", {}}},
      {"fs.use_virtual_host", {Type::kBool, "false", {}}},
      {"fs.request_timeout_ms", {Type::kI64, "3000", {}}},
      {"fs.gcp_native_without_auth", {Type::kBool, "false", {}}},
      {"fs.gcp_credential_json", {Type::kString, "", {}}},
      {"fs.use_custom_part_upload", {Type::kBool, "true", {}}},
      {"fs.max_connections", {Type::kU32, "100", {}}},
      {"fs.multi_part_upload_size", {Type::kI64, "10485760", {}, true, 10485760.0L, 5368709120.0L}},
      {"fs.role_arn", {Type::kString, "", {}}},
      {"fs.session_name", {Type::kString, "", {}}},
      {"fs.external_id", {Type::kString, "", {}}},
      {"fs.load_frequency", {Type::kI32, "900", {}, true, 900, 43200}},
      {"fs.s3.crt_async_read", {Type::kBool, "true", {}}},
      {"fs.lance_io_parallelism", {Type::kU32, "64", {}, true, 0, 256}},
      {"fs.iops_initial_rate", {Type::kU32, "2000", {}, true, 1, 4294967295.0L}},
      {"fs.iops_max_rate", {Type::kU32, "5000", {}, true, 0, 4294967295.0L}},
      {"fs.tls_min_version", {Type::kString, "", {"", "1.0", "1.1", "1.2", "1.3"}}},
      {"fs.background_writes", {Type::kBool, "true", {}}},
      {"fs.use_crc32c_checksum", {Type::kBool, "false", {}}},
      {"fs.gcp_target_service_account", {Type::kString, "", {}}},
      {"fs.azure_client_id", {Type::kString, "", {}}},
      {"fs.azure_tenant_id", {Type::kString, "", {}}},
      {"fs.azure_credential_endpoint", {Type::kString, "", {}}},
      {"writer.policy", {Type::kString, "single", {"single", "schema_based", "size_based"}}},
      {"writer.format", {Type::kString, "parquet", kFormats}},
      {"writer.split.schema_based.patterns", {Type::kList, "", {}}},
      {"writer.split.schema_based.formats", {Type::kList, "", kFormats}},
      {"writer.split.size_based.max_avg_column_size", {Type::kI64, "0", {}}},
      {"writer.split.size_based.max_columns_in_group", {Type::kI64, "0", {}}},
      {"writer.buffer_size", {Type::kI32, "33554432", {}}},
      {"writer.file_rolling.size", {Type::kU64, "2147483648", {}}},
      {"writer.compression",
       {Type::kString, "zstd", {"uncompressed", "snappy", "gzip", "lz4", "zstd", "brotli"}}},
      {"writer.compression_level", {Type::kI32, "3", {}}},
      {"writer.enable_dictionary", {Type::kBool, "true", {}}},
      {"writer.enc.enable", {Type::kBool, "false", {}}},
      {"writer.enc.key", {Type::kString, "", {}}},
      {"writer.enc.meta", {Type::kString, "", {}}},
      {"writer.enc.algorithm", {Type::kString, "AES_GCM_V1", {"AES_GCM_V1", "AES_GCM_CTR_V1"}}},
      {"writer.vortex.enable_statistics", {Type::kBool, "true", {}}},
      {"writer.vortex.format_version", {Type::kU64, "2", {}, true, 1, 2}},
      {"writer.vortex_v2.row_group_max_size", {Type::kU64, "1048576", {}, true, 131072, 1.8e19L}},
      {"reader.record_batch_max_rows", {Type::kI64, "8192", {}, true, 1, 9223372036854775807.0L}},
      {"reader.record_batch_max_size", {Type::kI64, "33554432", {}, true, 1, 4294967296.0L}},
      {"reader.logical_chunk_rows", {Type::kU64, "8192", {}, true, 1, 1.8e19L}},
      {"reader.metadata_cache.enable", {Type::kBool, "true", {}}},
      {"reader.parquet.prebuffer.hole_size_limit", {Type::kI64, "0", {}, true, 0, 9223372036854775807.0L}},
      {"reader.parquet.prebuffer.range_size_limit", {Type::kI64, "0", {}, true, 0, 9223372036854775807.0L}},
      {"reader.vortex.split_row_indices", {Type::kString, "auto", {"auto", "true", "false"}}},
      {"reader.async.task_split_strategy", {Type::kString, "parallelism", {"parallelism", "none", "all"}}},
      {"paimon.scan_mode", {Type::kString, "auto", {"auto", "direct-file", "data-split"}}},
      {"paimon.snapshot_id", {Type::kI64, "-1", {}, true, -1, 9223372036854775807.0L}},
      {"iceberg.snapshot_id", {Type::kString, "", {}}},
      {"transaction.commit.num-retries", {Type::kI32, "1", {}, true, 0, 10}},
  };
  return registry;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> out;
  if (value.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t comma = value.find(',', start);
    out.push_back(Trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

template <typename T>
bool ParseWhole(const std::string& s, T* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

arrow::Status Invalid(const std::string& key, const std::string& value, const std::string& why) {
  return CodedError(kInvalidProperties, "invalid value '" + value + "' for property '" + key + "': " + why);
}

}  // namespace

arrow::Status Properties::Validate(const std::string& key, const std::string& value) {
  auto it = Registry().find(key);
  if (it == Registry().end()) return arrow::Status::OK();  // unknown keys are accepted
  const KeySpec& spec = it->second;
  long double number = 0;
  switch (spec.type) {
    case Type::kString:
      break;
    case Type::kBool: {
      std::string v = Lower(value);
      if (v != "true" && v != "false") return Invalid(key, value, "expected true or false");
      break;
    }
    case Type::kI32: {
      int32_t v;
      if (!ParseWhole(value, &v)) return Invalid(key, value, "expected a 32-bit integer");
      number = v;
      break;
    }
    case Type::kI64: {
      int64_t v;
      if (!ParseWhole(value, &v)) return Invalid(key, value, "expected a 64-bit integer");
      number = v;
      break;
    }
    case Type::kU32: {
      uint32_t v;
      if (!ParseWhole(value, &v)) return Invalid(key, value, "expected an unsigned 32-bit integer");
      number = v;
      break;
    }
    case Type::kU64: {
      uint64_t v;
      if (!ParseWhole(value, &v)) return Invalid(key, value, "expected an unsigned 64-bit integer");
      number = v;
      break;
    }
    case Type::kList:
      if (!spec.allowed.empty()) {
        for (const auto& item : SplitList(value)) {
          if (std::find(spec.allowed.begin(), spec.allowed.end(), item) == spec.allowed.end()) {
            return Invalid(key, value, "unknown item '" + item + "'");
          }
        }
      }
      return arrow::Status::OK();
  }
  if (spec.type == Type::kString && !spec.allowed.empty() &&
      std::find(spec.allowed.begin(), spec.allowed.end(), value) == spec.allowed.end()) {
    std::string choices;
    for (const auto& a : spec.allowed) choices += (choices.empty() ? "" : ", ") + (a.empty() ? "''" : a);
    return Invalid(key, value, "expected one of " + choices);
  }
  if (spec.has_range && (number < spec.min || number > spec.max)) {
    return Invalid(key, value, "out of range");
  }
  return arrow::Status::OK();
}

arrow::Result<Properties> Properties::FromMap(std::map<std::string, std::string> values) {
  for (const auto& [k, v] : values) {
    ARROW_RETURN_NOT_OK(Validate(k, v));
  }
  // Cross-key rule: schema_based formats must match patterns in length (checked by the policy).
  Properties p;
  p.values_ = std::move(values);
  return p;
}

arrow::Result<Properties> Properties::FromC(const LoonProperties* props) {
  std::map<std::string, std::string> values;
  if (props != nullptr && props->properties != nullptr) {
    for (size_t i = 0; i < props->count; ++i) {
      const LoonProperty& p = props->properties[i];
      if (p.key == nullptr || p.value == nullptr) {
        return CodedError(kInvalidProperties, "property with NULL key or value");
      }
      values.emplace(p.key, p.value);
    }
  }
  return FromMap(std::move(values));
}

std::string Properties::GetString(const std::string& key) const {
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  auto spec = Registry().find(key);
  return spec == Registry().end() ? std::string() : std::string(spec->second.default_value);
}

bool Properties::GetBool(const std::string& key) const { return Lower(GetString(key)) == "true"; }

int64_t Properties::GetInt(const std::string& key) const {
  int64_t v = 0;
  ParseWhole(GetString(key), &v);
  return v;
}

uint64_t Properties::GetUInt(const std::string& key) const {
  uint64_t v = 0;
  ParseWhole(GetString(key), &v);
  return v;
}

std::vector<std::string> Properties::GetList(const std::string& key) const { return SplitList(GetString(key)); }

std::map<std::string, std::string> Properties::WithPrefix(const std::string& prefix) const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : values_) {
    if (k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0) out[k.substr(prefix.size())] = v;
  }
  return out;
}

}  // namespace loon
