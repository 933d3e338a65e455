#include "common/status.h"

#include <arrow/util/io_util.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace loon {

namespace {
constexpr char kCodeDetailType[] = "loon::CodeDetail";

const char* CodeName(int code) {
  switch (code) {
    case kInvalidArgs: return "InvalidArgs";
    case kMemory: return "Memory";
    case kArrow: return "ArrowError";
    case kLogical: return "LogicalError";
    case kGotException: return "GotException";
    case kUnreachable: return "Unreachable";
    case kInvalidProperties: return "InvalidProperties";
    case kFaultInject: return "FaultInject";
    case kNotSupport: return "NotSupport";
    case kFileNotFound: return "FileNotFound";
    case kAwsNoSuchUpload: return "AwsNoSuchUpload";
    case kAwsConflict: return "AwsConflict";
    case kAwsPreconditionFailed: return "AwsPreconditionFailed";
    case kAwsNotFound: return "AwsNotFound";
    case kAwsAccessDenied: return "AwsAccessDenied";
    case kAwsNonRetryable: return "AwsNonRetryable";
    case kTransientNetwork: return "TransientNetwork";
    case kTransientTimeout: return "TransientTimeout";
    case kTransientThrottling: return "TransientThrottling";
    case kTransientService: return "TransientService";
    case kTxnExhaustedRetry: return "TxnExhaustedRetry";
    case kTxnResolutionFailed: return "TxnResolutionFailed";
    default: return "Error";
  }
}
}  // namespace

const char* CodeDetail::type_id() const { return kCodeDetailType; }
std::string CodeDetail::ToString() const { return std::string("loon code ") + std::to_string(code_); }

arrow::Status CodedError(int code, const std::string& message) {
  return arrow::Status(arrow::StatusCode::IOError, message, std::make_shared<CodeDetail>(code));
}

int CodeOf(const arrow::Status& st) {
  const auto& detail = st.detail();
  if (detail && std::strcmp(detail->type_id(), kCodeDetailType) == 0) {
    return static_cast<const CodeDetail&>(*detail).code();
  }
  return 0;
}

int ChooseCode(const arrow::Status& st, int fallback) {
  if (st.ok()) return kSuccess;
  if (int code = CodeOf(st); code != 0) return code;
  if (arrow::internal::ErrnoFromStatus(st) == ENOENT) return kFileNotFound;
  if (st.IsOutOfMemory()) return kMemory;
  return fallback;
}

char* MallocString(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

LoonFFIResult MakeFFIError(int code, const std::string& message) {
  std::string text = std::string("ERROR: ") + CodeName(code) + "(code " + std::to_string(code) +
                     ") details: " + message;
  return LoonFFIResult{code, MallocString(text)};
}

LoonFFIResult ToFFIResult(const arrow::Status& st, int fallback) {
  if (st.ok()) return FFISuccess();
  std::string message = st.message();
  // The OS reason (e.g. "[errno 13] Permission denied", "[errno 28] No space left on device")
  // travels in the status detail; without it a caller cannot tell why a file operation failed.
  if (st.detail() && CodeOf(st) == 0) message += " (" + st.detail()->ToString() + ")";
  return MakeFFIError(ChooseCode(st, fallback), message);
}

}  // namespace loon
