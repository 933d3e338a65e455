#include "exttable/provider_registry.h"

#include <arrow/c/bridge.h>

#include <map>
#include <mutex>

#include "common/status.h"

// The collector behind LoonFormatSink: filled by the callback, read by the engine after it.
struct LoonFormatSink {
  std::vector<loon::exttable::ProviderEntry> entries;
  std::string error;
  bool has_error = false;
};

extern "C" {

LOON_EXPORT void loon_format_sink_add_entry(LoonFormatSink* sink, const char* name, int64_t fragment_id,
                                            int64_t num_rows) {
  if (sink == nullptr) return;
  try {
    sink->entries.push_back({name == nullptr ? std::string() : std::string(name), fragment_id, num_rows});
  } catch (...) {  // out of memory: the listing is then reported as failed
    sink->has_error = true;
  }
}

LOON_EXPORT void loon_format_sink_set_error(LoonFormatSink* sink, const char* message) {
  if (sink == nullptr) return;
  try {
    sink->error = message == nullptr ? std::string() : std::string(message);
    sink->has_error = true;
  } catch (...) {
    sink->has_error = true;
  }
}

}  // extern "C"

namespace loon::exttable {

namespace {

// A LoonProperties view of `props` (pointers into it; valid while `props` lives).
class CProperties {
 public:
  explicit CProperties(const Properties& props) {
    for (const auto& [k, v] : props.values()) {
      items_.push_back(LoonProperty{const_cast<char*>(k.c_str()), const_cast<char*>(v.c_str())});
    }
    c_.properties = items_.empty() ? nullptr : items_.data();
    c_.count = items_.size();
  }
  const LoonProperties* get() const { return &c_; }

 private:
  std::vector<LoonProperty> items_;
  LoonProperties c_{};
};

std::string Target(const ProviderLocation& location, int64_t fragment_id) {
  if (fragment_id < 0) return "'" + location.uri + "'";
  return "fragment " + std::to_string(fragment_id) + " of '" + location.uri + "'";
}

// The engine's status for a callback that returned `rc`.
arrow::Status CallbackFailure(const std::string& format, const std::string& what, int rc, const LoonFormatSink& sink) {
  std::string message = "format provider '" + format + "' failed to " + what + ": " +
                        (sink.error.empty() ? "(no message, code " + std::to_string(rc) + ")" : sink.error);
  int code = rc == LOON_FORMAT_NOT_FOUND ? kFileNotFound : rc == LOON_FORMAT_INVALID ? kInvalidArgs : kArrow;
  return CodedError(code, message);
}

struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const FormatProvider>> providers;
};

Registry& GlobalRegistry() {
  static Registry* registry = new Registry();  // leaked on purpose: usable during static destruction
  return *registry;
}

}  // namespace

FormatProvider::FormatProvider(std::string format, const LoonFormatProvider& callbacks)
    : format_(std::move(format)), callbacks_(callbacks) {}

FormatProvider::~FormatProvider() {
  if (callbacks_.release != nullptr) callbacks_.release(callbacks_.private_data);
}

arrow::Result<std::vector<ProviderEntry>> FormatProvider::List(const ProviderLocation& location,
                                                               const Properties& props) const {
  if (callbacks_.list == nullptr) return arrow::Status::Invalid("format provider '", format_, "' has no list()");
  LoonFormatSink sink;
  CProperties c_props(props);
  CLocation c_location(location);
  int rc = callbacks_.list(callbacks_.private_data, c_location.get(), c_props.get(), &sink);
  if (rc != 0) return CallbackFailure(format_, "list '" + location.uri + "'", rc, sink);
  if (sink.has_error) return CallbackFailure(format_, "list '" + location.uri + "'", -1, sink);
  return std::move(sink.entries);
}

arrow::Result<int64_t> FormatProvider::Describe(const ProviderLocation& location, int64_t fragment_id,
                                                const Properties& props,
                                                std::shared_ptr<arrow::Schema>* schema) const {
  LoonFormatSink sink;
  CProperties c_props(props);
  CLocation c_location(location);
  int64_t rows = -1;
  struct ArrowSchema c_schema {};
  c_schema.release = nullptr;
  int rc = callbacks_.describe(callbacks_.private_data, c_location.get(), fragment_id, c_props.get(), &rows,
                               schema != nullptr ? &c_schema : nullptr, &sink);
  // Whatever happens, a schema the provider filled is released.
  std::shared_ptr<arrow::Schema> imported;
  arrow::Status import_status;
  if (c_schema.release != nullptr) {
    auto r = arrow::ImportSchema(&c_schema);  // consumes (releases) it even on failure
    if (r.ok()) {
      imported = *r;
    } else {
      import_status = r.status();
    }
  }
  std::string what = "describe " + Target(location, fragment_id);
  if (rc != 0) return CallbackFailure(format_, what, rc, sink);
  if (rows < 0) {
    return CodedError(kArrow, "format provider '" + format_ + "' gave no row count for " + Target(location, fragment_id));
  }
  if (schema != nullptr) {
    if (!import_status.ok()) {
      return CodedError(kArrow, "format provider '" + format_ + "' gave an invalid schema for " +
                                    Target(location, fragment_id) + ": " + import_status.message());
    }
    if (!imported) {
      return CodedError(kArrow, "format provider '" + format_ + "' gave no schema for " + Target(location, fragment_id));
    }
    *schema = std::move(imported);
  }
  return rows;
}

template <typename Call>
arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> FormatProvider::CallForStream(
    const ProviderLocation& location, const std::vector<std::string>& columns, const Properties& props,
    const std::string& what, Call call) const {
  LoonFormatSink sink;
  CProperties c_props(props);
  CLocation c_location(location);
  std::vector<const char*> names;
  for (const auto& c : columns) names.push_back(c.c_str());
  struct ArrowArrayStream stream {};
  stream.release = nullptr;
  int rc = call(c_location.get(), names.empty() ? nullptr : names.data(), names.size(), c_props.get(), &stream, &sink);
  return ImportStream(rc, &stream, sink, what);
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> FormatProvider::Open(const ProviderLocation& location,
                                                                              int64_t fragment_id,
                                                                              const std::vector<std::string>& columns,
                                                                              int64_t start, int64_t end,
                                                                              const Properties& props) const {
  std::string what = "open rows [" + std::to_string(start) + ", " + std::to_string(end) + ") of " +
                     Target(location, fragment_id);
  return CallForStream(location, columns, props, what,
                       [&](auto c_location, auto names, size_t num_names, auto c_props, auto stream, auto sink) {
                         return callbacks_.open_stream(callbacks_.private_data, c_location, fragment_id, names,
                                                       num_names, start, end, c_props, stream, sink);
                       });
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> FormatProvider::Take(const ProviderLocation& location,
                                                                              int64_t fragment_id,
                                                                              const std::vector<std::string>& columns,
                                                                              const std::vector<int64_t>& rows,
                                                                              const Properties& props) const {
  if (callbacks_.take == nullptr) return arrow::Status::Invalid("format provider '", format_, "' has no take()");
  std::string what = "take " + std::to_string(rows.size()) + " rows of " + Target(location, fragment_id);
  return CallForStream(location, columns, props, what,
                       [&](auto c_location, auto names, size_t num_names, auto c_props, auto stream, auto sink) {
                         return callbacks_.take(callbacks_.private_data, c_location, fragment_id, names, num_names,
                                                rows.data(), rows.size(), c_props, stream, sink);
                       });
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> FormatProvider::ImportStream(int rc,
                                                                                      struct ArrowArrayStream* stream,
                                                                                      const LoonFormatSink& sink,
                                                                                      const std::string& what) const {
  if (rc != 0) {
    if (stream->release != nullptr) stream->release(stream);
    return CallbackFailure(format_, what, rc, sink);
  }
  if (stream->release == nullptr) {
    return CodedError(kArrow, "format provider '" + format_ + "' returned no stream to " + what);
  }
  auto reader = arrow::ImportRecordBatchReader(stream);  // takes ownership, also on failure
  if (!reader.ok()) {
    return CodedError(kArrow, "format provider '" + format_ + "' returned an invalid stream to " + what + ": " +
                                  reader.status().message());
  }
  return *reader;
}

std::shared_ptr<const FormatProvider> FindProvider(const std::string& format) {
  Registry& registry = GlobalRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  auto it = registry.providers.find(format);
  return it == registry.providers.end() ? nullptr : it->second;
}

arrow::Status RegisterProvider(const std::string& format, const LoonFormatProvider& callbacks) {
  if (format.empty()) return CodedError(kInvalidArgs, "format provider: the format name is empty");
  if (format == "parquet") return CodedError(kInvalidArgs, "format provider: 'parquet' is read by the engine itself");
  if (callbacks.abi_version != LOON_FORMAT_PROVIDER_ABI_VERSION) {
    return CodedError(kInvalidArgs, "format provider '" + format + "': abi_version " +
                                        std::to_string(callbacks.abi_version) + ", this engine speaks " +
                                        std::to_string(LOON_FORMAT_PROVIDER_ABI_VERSION));
  }
  if (callbacks.describe == nullptr || callbacks.open_stream == nullptr) {
    return CodedError(kInvalidArgs, "format provider '" + format + "': describe and open_stream are required");
  }
  auto provider = std::make_shared<const FormatProvider>(format, callbacks);
  std::shared_ptr<const FormatProvider> previous;  // released outside the lock
  Registry& registry = GlobalRegistry();
  {
    std::lock_guard<std::mutex> lock(registry.mu);
    previous = std::move(registry.providers[format]);
    registry.providers[format] = std::move(provider);
  }
  return arrow::Status::OK();
}

bool UnregisterProvider(const std::string& format) {
  std::shared_ptr<const FormatProvider> previous;  // released outside the lock
  Registry& registry = GlobalRegistry();
  {
    std::lock_guard<std::mutex> lock(registry.mu);
    auto it = registry.providers.find(format);
    if (it == registry.providers.end()) return false;
    previous = std::move(it->second);
    registry.providers.erase(it);
  }
  return true;
}

arrow::Result<std::pair<std::string, int64_t>> SplitFragment(const std::string& path) {
  static const std::string kKey = "?fragment_id=";
  size_t pos = path.find(kKey);
  if (pos == std::string::npos) return std::make_pair(path, int64_t{-1});
  std::string digits = path.substr(pos + kKey.size());
  bool ok = !digits.empty() && digits.size() <= 18 &&
            digits.find_first_not_of("0123456789") == std::string::npos;
  if (!ok) return CodedError(kInvalidArgs, "malformed fragment id in '" + path + "'");
  return std::make_pair(path.substr(0, pos), static_cast<int64_t>(std::stoll(digits)));
}

}  // namespace loon::exttable
