// Exact comparisons of numeric literals with numeric columns.
//
// Arrow's implicit casts compare an int64 literal with a float32 column in float32 (2^24 + 1 is
// not representable: the cast fails) and a float literal with an int64 column in float64 (values
// above 2^53 round). Here such comparisons are rewritten into equivalent ones in the column's own
// type: an integer that a float column cannot hold exactly becomes the nearest float below or
// above it (x < 2^53 + 1 is x <= 2^53 for float64), a fraction against an integer column becomes
// its floor or ceiling (x < 2.5 is x <= 2), and a bound outside the column's range becomes a
// constant that is still NULL where the column is NULL.
#pragma once

#include <arrow/compute/expression.h>
#include <arrow/scalar.h>
#include <arrow/type.h>

#include <optional>

namespace loon {

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// The operator with its operands swapped (a < b is b > a).
CompareOp Mirror(CompareOp op);

// The plain Arrow comparison call.
arrow::compute::Expression CompareCall(CompareOp op, arrow::compute::Expression left,
                                       arrow::compute::Expression right);

// `column op literal` for a numeric column of type `column_type` and an int64 or double literal,
// exactly; nullopt when the pair is not one this handles (the plain call is then exact or fails).
std::optional<arrow::compute::Expression> CompareExact(CompareOp op, const arrow::compute::Expression& column,
                                                       const arrow::DataType& column_type,
                                                       const arrow::Scalar& literal);

}  // namespace loon
