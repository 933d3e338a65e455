// Exported data symbols (ffi_c.h: exported objects): error codes are `const int` objects and keys are
// `const char*` pointer objects, both with C linkage. The header's extern declarations (with
// default visibility) give these const definitions external linkage.
#include "milvus-storage/ffi_c.h"

extern "C" {

const int loon_errcode_success = 0;
const int loon_errcode_invalid_args = 1;
const int loon_errcode_memory = 2;
const int loon_errcode_arrow = 3;
const int loon_errcode_logical = 4;
const int loon_errcode_got_exception = 5;
const int loon_errcode_unreachable = 6;
const int loon_errcode_invalid_properties = 7;
const int loon_errcode_fault_inject = 8;
const int loon_errcode_not_support = 9;
const int loon_errcode_file_not_found = 12;
const int loon_errcode_aws_no_such_upload = 101;
const int loon_errcode_aws_conflict = 102;
const int loon_errcode_aws_precondition_failed = 103;
const int loon_errcode_aws_not_found = 104;
const int loon_errcode_aws_access_denied = 105;
const int loon_errcode_aws_non_retryable = 106;
const int loon_errcode_transient_network = 107;
const int loon_errcode_transient_timeout = 108;
const int loon_errcode_transient_throttling = 109;
const int loon_errcode_transient_service = 110;
const int loon_errcode_txn_exhausted_retry = 111;
const int loon_errcode_txn_resolution_failed = 112;

#define LOON_DEFINE_PROPERTY_KEY(sym, str) const char* loon_properties_##sym = str;
LOON_PROPERTY_KEYS(LOON_DEFINE_PROPERTY_KEY)
#undef LOON_DEFINE_PROPERTY_KEY

#define LOON_DEFINE_FAULT_KEY(sym, str) const char* loon_fiukey_##sym = str;
LOON_FAULT_POINTS(LOON_DEFINE_FAULT_KEY)
#undef LOON_DEFINE_FAULT_KEY

}  // extern "C"
