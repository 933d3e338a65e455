#include "reader/numeric_compare.h"

#include <arrow/compute/api_scalar.h>

#include <cmath>
#include <limits>

namespace loon {

namespace cp = arrow::compute;

namespace {

// long double has a 64-bit mantissa on the supported platforms (x86-64): every int64, every
// uint64 and every double is exact in it, so the decisions below are made without rounding.
static_assert(std::numeric_limits<long double>::digits >= 64, "needs an extended long double");
using Wide = long double;

// NULL where the column is NULL, `value` elsewhere.
cp::Expression ConstantOrNull(const cp::Expression& column, bool value) {
  return cp::call("if_else", {cp::is_null(column), cp::literal(arrow::MakeNullScalar(arrow::boolean())),
                              cp::literal(value)});
}

bool IntegerRange(arrow::Type::type id, Wide* lo, Wide* hi) {
  switch (id) {
    case arrow::Type::INT8: *lo = INT8_MIN; *hi = INT8_MAX; return true;
    case arrow::Type::INT16: *lo = INT16_MIN; *hi = INT16_MAX; return true;
    case arrow::Type::INT32: *lo = INT32_MIN; *hi = INT32_MAX; return true;
    case arrow::Type::INT64: *lo = static_cast<Wide>(INT64_MIN); *hi = static_cast<Wide>(INT64_MAX); return true;
    case arrow::Type::UINT8: *lo = 0; *hi = UINT8_MAX; return true;
    case arrow::Type::UINT16: *lo = 0; *hi = UINT16_MAX; return true;
    case arrow::Type::UINT32: *lo = 0; *hi = UINT32_MAX; return true;
    case arrow::Type::UINT64: *lo = 0; *hi = static_cast<Wide>(UINT64_MAX); return true;
    default: return false;
  }
}

// An integral value inside the column's range as a scalar of the column's own type.
std::optional<cp::Expression> IntegerLiteral(Wide bound, const arrow::DataType& type) {
  std::shared_ptr<arrow::Scalar> wide;
  if (bound < 0) {
    wide = std::make_shared<arrow::Int64Scalar>(static_cast<int64_t>(bound));
  } else {
    wide = std::make_shared<arrow::UInt64Scalar>(static_cast<uint64_t>(bound));
  }
  auto cast = wide->CastTo(type.GetSharedPtr());
  if (!cast.ok()) return std::nullopt;
  return cp::literal(*cast);
}

// column op bound for an integer column, `bound` integral.
std::optional<cp::Expression> IntegerCompare(CompareOp op, const cp::Expression& column, const arrow::DataType& type,
                                             Wide bound) {
  Wide lo = 0, hi = 0;
  if (!IntegerRange(type.id(), &lo, &hi)) return std::nullopt;
  std::optional<bool> constant;
  switch (op) {
    case CompareOp::kEq: if (bound < lo || bound > hi) constant = false; break;
    case CompareOp::kNe: if (bound < lo || bound > hi) constant = true; break;
    case CompareOp::kLt: if (bound <= lo) constant = false; else if (bound > hi) constant = true; break;
    case CompareOp::kLe: if (bound < lo) constant = false; else if (bound >= hi) constant = true; break;
    case CompareOp::kGt: if (bound >= hi) constant = false; else if (bound < lo) constant = true; break;
    case CompareOp::kGe: if (bound > hi) constant = false; else if (bound <= lo) constant = true; break;
  }
  if (constant) return ConstantOrNull(column, *constant);
  auto lit = IntegerLiteral(bound, type);
  if (!lit) return std::nullopt;
  return CompareCall(op, column, *lit);
}

// Integer column against a double literal.
std::optional<cp::Expression> IntegerVsDouble(CompareOp op, const cp::Expression& column, const arrow::DataType& type,
                                              double d) {
  if (std::isnan(d)) return ConstantOrNull(column, op == CompareOp::kNe);  // NaN equals nothing
  if (std::isinf(d)) {
    bool above = d > 0;  // every integer is below +inf and above -inf
    switch (op) {
      case CompareOp::kEq: return ConstantOrNull(column, false);
      case CompareOp::kNe: return ConstantOrNull(column, true);
      case CompareOp::kLt: case CompareOp::kLe: return ConstantOrNull(column, above);
      case CompareOp::kGt: case CompareOp::kGe: return ConstantOrNull(column, !above);
    }
  }
  Wide w = d;
  if (std::floor(w) == w) return IntegerCompare(op, column, type, w);
  switch (op) {  // a fraction: no integer equals it; strict and non-strict bounds coincide
    case CompareOp::kEq: return ConstantOrNull(column, false);
    case CompareOp::kNe: return ConstantOrNull(column, true);
    case CompareOp::kLt: case CompareOp::kLe: return IntegerCompare(CompareOp::kLe, column, type, std::floor(w));
    case CompareOp::kGt: case CompareOp::kGe: return IntegerCompare(CompareOp::kGe, column, type, std::ceil(w));
  }
  return std::nullopt;
}

// Float column against an int64 literal.
std::optional<cp::Expression> FloatVsInteger(CompareOp op, const cp::Expression& column, int64_t v) {
  // The column is compared in float64 (a float32 column is widened exactly).
  double d = static_cast<double>(v);
  if (static_cast<Wide>(d) == static_cast<Wide>(v)) return CompareCall(op, column, cp::literal(d));
  // v lies strictly between two neighbouring doubles.
  double below = static_cast<Wide>(d) < static_cast<Wide>(v) ? d : std::nextafter(d, -INFINITY);
  double above = static_cast<Wide>(d) > static_cast<Wide>(v) ? d : std::nextafter(d, INFINITY);
  switch (op) {
    case CompareOp::kEq: return ConstantOrNull(column, false);
    case CompareOp::kNe: return ConstantOrNull(column, true);
    case CompareOp::kLt: case CompareOp::kLe: return CompareCall(CompareOp::kLe, column, cp::literal(below));
    case CompareOp::kGt: case CompareOp::kGe: return CompareCall(CompareOp::kGe, column, cp::literal(above));
  }
  return std::nullopt;
}

}  // namespace

CompareOp Mirror(CompareOp op) {
  switch (op) {
    case CompareOp::kLt: return CompareOp::kGt;
    case CompareOp::kLe: return CompareOp::kGe;
    case CompareOp::kGt: return CompareOp::kLt;
    case CompareOp::kGe: return CompareOp::kLe;
    default: return op;
  }
}

cp::Expression CompareCall(CompareOp op, cp::Expression left, cp::Expression right) {
  switch (op) {
    case CompareOp::kEq: return cp::equal(std::move(left), std::move(right));
    case CompareOp::kNe: return cp::not_equal(std::move(left), std::move(right));
    case CompareOp::kLt: return cp::less(std::move(left), std::move(right));
    case CompareOp::kLe: return cp::less_equal(std::move(left), std::move(right));
    case CompareOp::kGt: return cp::greater(std::move(left), std::move(right));
    case CompareOp::kGe: return cp::greater_equal(std::move(left), std::move(right));
  }
  return cp::equal(std::move(left), std::move(right));
}

std::optional<cp::Expression> CompareExact(CompareOp op, const cp::Expression& column, const arrow::DataType& type,
                                           const arrow::Scalar& literal) {
  if (!literal.is_valid) return std::nullopt;
  const bool int_literal = literal.type->id() == arrow::Type::INT64;
  const bool double_literal = literal.type->id() == arrow::Type::DOUBLE;
  if (!int_literal && !double_literal) return std::nullopt;
  const bool float_column = type.id() == arrow::Type::FLOAT || type.id() == arrow::Type::DOUBLE;
  const bool int_column = arrow::is_integer(type.id());
  if (float_column && int_literal) {
    return FloatVsInteger(op, column, static_cast<const arrow::Int64Scalar&>(literal).value);
  }
  if (int_column && int_literal) {
    return IntegerCompare(op, column, type, static_cast<Wide>(static_cast<const arrow::Int64Scalar&>(literal).value));
  }
  if (int_column && double_literal) {
    return IntegerVsDouble(op, column, type, static_cast<const arrow::DoubleScalar&>(literal).value);
  }
  return std::nullopt;  // float column vs double literal: Arrow widens the column exactly
}

}  // namespace loon
