// Format providers (our extension, public header milvus-storage/ffi_format_provider.h): the
// registry of host callbacks per format name, and calls into them that turn every failure (an
// error returned by a callback, an exception, a missing stream) into an arrow::Status carrying
// the provider's message.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/status.h>
#include <arrow/type.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/properties.h"
#include "exttable/provider_location.h"
#include "milvus-storage/ffi_format_provider.h"

namespace loon::exttable {

// One entry of a listing: a plain file (`fragment_id` -1, `name` its base name) or a fragment.
struct ProviderEntry {
  std::string name;
  int64_t fragment_id = -1;
  int64_t num_rows = -1;
};

// One registration. Shared by the calls using it; the host's release() runs when the last
// holder lets go (after unregistration or replacement).
class FormatProvider {
 public:
  FormatProvider(std::string format, const LoonFormatProvider& callbacks);
  ~FormatProvider();
  FormatProvider(const FormatProvider&) = delete;
  FormatProvider& operator=(const FormatProvider&) = delete;

  const std::string& format() const { return format_; }

  // Whether the provider lists directories itself (otherwise the engine lists regular files).
  bool lists() const { return callbacks_.list != nullptr; }
  arrow::Result<std::vector<ProviderEntry>> List(const ProviderLocation& location, const Properties& props) const;
  // Row count and (when `schema` is non-null) schema of one file or fragment.
  arrow::Result<int64_t> Describe(const ProviderLocation& location, int64_t fragment_id, const Properties& props,
                                  std::shared_ptr<arrow::Schema>* schema) const;
  // The provider's stream over rows [start, end) of `columns` (unchecked: see ReadRange).
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> Open(const ProviderLocation& location, int64_t fragment_id,
                                                                const std::vector<std::string>& columns, int64_t start,
                                                                int64_t end, const Properties& props) const;
  // Whether the provider has random access (take); otherwise Take is not called.
  bool takes() const { return callbacks_.take != nullptr; }
  // The provider's stream over `rows` (ascending, unique) of one file or fragment (unchecked).
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> Take(const ProviderLocation& location, int64_t fragment_id,
                                                                const std::vector<std::string>& columns,
                                                                const std::vector<int64_t>& rows,
                                                                const Properties& props) const;

 private:
  // Calls a stream callback through `call(location, column names, count, properties, out stream,
  // sink)` with the C forms of the arguments, then imports what it returned (`what`: for messages).
  template <typename Call>
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> CallForStream(const ProviderLocation& location,
                                                                         const std::vector<std::string>& columns,
                                                                         const Properties& props,
                                                                         const std::string& what, Call call) const;
  // The engine's reader of a stream a callback returned with `rc` (`what`: for messages).
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> ImportStream(int rc, struct ArrowArrayStream* stream,
                                                                        const LoonFormatSink& sink,
                                                                        const std::string& what) const;
  std::string format_;
  LoonFormatProvider callbacks_;
};

// The provider registered for `format`, or null.
std::shared_ptr<const FormatProvider> FindProvider(const std::string& format);
// Registers (replacing) or removes a provider; both thread-safe.
arrow::Status RegisterProvider(const std::string& format, const LoonFormatProvider& callbacks);
bool UnregisterProvider(const std::string& format);

// "<uri>?fragment_id=<n>" -> ("<uri>", n); a path without the suffix -> (path, -1). A malformed
// fragment id: CodedError(kInvalidArgs).
arrow::Result<std::pair<std::string, int64_t>> SplitFragment(const std::string& path);

}  // namespace loon::exttable
