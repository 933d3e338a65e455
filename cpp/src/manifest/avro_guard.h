// Checks that make a manifest safe to hand to libavro. A manifest file is untrusted input, and
// libavro trusts what it is given: a writer schema with a recursive type or a `fixed` of size -1
// crashes it when it builds a value class, and a block declaring 2^62 items of an empty type
// makes it allocate until memory runs out. So, before libavro sees a manifest:
//  - the embedded writer schema is walked: no recursive type, at most kMaxSchemaDepth levels,
//    `fixed` sizes in [0, kMaxFixedSize], and no array whose items take no bytes (their count
//    could not be checked against the data);
//  - the encoded value is walked without allocating: every block count, string length and
//    `fixed` must fit in the bytes that remain, and enum and union indexes must exist.
// Only then is a value class built and the data decoded.
#pragma once

#ifdef LOON_WITH_AVRO

#include <arrow/status.h>
#include <avro.h>

#include <cstddef>
#include <cstdint>

namespace loon::manifest {

constexpr int kMaxSchemaDepth = 32;
constexpr int64_t kMaxFixedSize = 1 << 20;

// Invalid naming what is wrong; the schema is not modified.
arrow::Status CheckWriterSchema(avro_schema_t schema);

// Invalid when `data` is not a well-formed encoding of one value of `schema` (which must have
// passed CheckWriterSchema). Trailing bytes are allowed.
arrow::Status CheckEncoding(avro_schema_t schema, const uint8_t* data, size_t size);

}  // namespace loon::manifest

#endif  // LOON_WITH_AVRO
