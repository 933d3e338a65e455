// Binding, evaluation and statistics pruning of a parsed predicate (see predicate.h): the
// AND/OR/NOT structure is walked here, each leaf is one shallow Arrow expression.
#include <arrow/array/util.h>
#include <arrow/compute/api_scalar.h>
#include <arrow/compute/exec.h>
#include <arrow/scalar.h>

#include "reader/predicate.h"

namespace loon {

namespace cp = arrow::compute;

namespace {

using Node = PredicateNode;
using Kind = PredicateNode::Kind;

// ---- binding and evaluation ------------------------------------------------------------------

bool IsLogicalType(const arrow::DataType& t) { return t.id() == arrow::Type::BOOL || t.id() == arrow::Type::NA; }

arrow::Status BindNode(Node* n, const arrow::Schema& schema, size_t* leaves) {
  if (n->kind == Kind::kLeaf) {
    ++*leaves;
    ARROW_ASSIGN_OR_RAISE(n->leaf, n->leaf.Bind(schema));
    if (!IsLogicalType(*n->leaf.type())) {
      return arrow::Status::Invalid("predicate term is not boolean: ", n->leaf.ToString().substr(0, 200));
    }
    return arrow::Status::OK();
  }
  for (auto& c : n->children) ARROW_RETURN_NOT_OK(BindNode(&c, schema, leaves));
  return arrow::Status::OK();
}

// A NULL-typed result (a bare NULL) as the boolean unknown, so Kleene kernels accept it.
arrow::Datum AsBoolean(arrow::Datum d) {
  if (d.type() != nullptr && d.type()->id() == arrow::Type::NA) {
    if (d.is_scalar()) return arrow::Datum(arrow::MakeNullScalar(arrow::boolean()));
    auto nulls = arrow::MakeArrayOfNull(arrow::boolean(), d.length());
    if (nulls.ok()) return arrow::Datum(*nulls);
  }
  return d;
}

bool IsScalarBool(const arrow::Datum& d, bool value) {
  if (!d.is_scalar() || !d.scalar()->is_valid || d.scalar()->type->id() != arrow::Type::BOOL) return false;
  return static_cast<const arrow::BooleanScalar&>(*d.scalar()).value == value;
}

arrow::Result<arrow::Datum> EvaluateNode(const Node& n, const arrow::Schema& schema, const arrow::Datum& input) {
  switch (n.kind) {
    case Kind::kLeaf: {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::ExecuteScalarExpression(n.leaf, schema, input));
      return AsBoolean(std::move(d));
    }
    case Kind::kNot: {
      ARROW_ASSIGN_OR_RAISE(auto d, EvaluateNode(n.children[0], schema, input));
      return cp::CallFunction("invert", {d});
    }
    case Kind::kAnd:
    case Kind::kOr: {
      const bool is_and = n.kind == Kind::kAnd;
      // A constant FALSE (AND) or TRUE (OR) decides the whole list.
      ARROW_ASSIGN_OR_RAISE(auto acc, EvaluateNode(n.children[0], schema, input));
      for (size_t i = 1; i < n.children.size() && !IsScalarBool(acc, !is_and); ++i) {
        ARROW_ASSIGN_OR_RAISE(auto next, EvaluateNode(n.children[i], schema, input));
        ARROW_ASSIGN_OR_RAISE(acc, cp::CallFunction(is_and ? "and_kleene" : "or_kleene", {acc, next}));
      }
      return acc;
    }
  }
  return arrow::Status::Invalid("bad predicate node");
}

// The truth values a node can take on rows satisfying a guarantee, as a bit set.
constexpr unsigned kTrue = 1, kFalse = 2, kNull = 4, kAny = 7;

unsigned Possible(const Node& n, const cp::Expression& guarantee) {
  switch (n.kind) {
    case Kind::kLeaf: {
      auto simplified = cp::SimplifyWithGuarantee(n.leaf, guarantee);
      if (!simplified.ok()) return kAny;
      const arrow::Datum* lit = simplified->literal();
      if (lit == nullptr || !lit->is_scalar()) return kAny;
      const auto& sc = *lit->scalar();
      if (!sc.is_valid) return kNull;
      if (sc.type->id() != arrow::Type::BOOL) return kAny;
      return static_cast<const arrow::BooleanScalar&>(sc).value ? kTrue : kFalse;
    }
    case Kind::kNot: {
      unsigned in = Possible(n.children[0], guarantee);
      return (in & kTrue ? kFalse : 0) | (in & kFalse ? kTrue : 0) | (in & kNull);
    }
    case Kind::kAnd:
    case Kind::kOr: {
      const bool is_and = n.kind == Kind::kAnd;
      unsigned acc = Possible(n.children[0], guarantee);
      for (size_t i = 1; i < n.children.size(); ++i) {
        unsigned next = Possible(n.children[i], guarantee);
        unsigned out = 0;
        for (unsigned a : {kTrue, kFalse, kNull}) {
          if (!(acc & a)) continue;
          for (unsigned b : {kTrue, kFalse, kNull}) {
            if (!(next & b)) continue;
            unsigned dominant = is_and ? kFalse : kTrue;  // FALSE decides AND, TRUE decides OR
            if (a == dominant || b == dominant) out |= dominant;
            else if (a == kNull || b == kNull) out |= kNull;
            else out |= a;  // both the neutral value
          }
        }
        acc = out;
      }
      return acc;
    }
  }
  return kAny;
}

}  // namespace

arrow::Result<BoundPredicate> BoundPredicate::Bind(const PredicateNode& root, std::shared_ptr<arrow::Schema> schema) {
  BoundPredicate out;
  out.root_ = root;
  out.schema_ = std::move(schema);
  ARROW_RETURN_NOT_OK(BindNode(&out.root_, *out.schema_, &out.leaves_));
  return out;
}

arrow::Result<arrow::Datum> BoundPredicate::Evaluate(const std::shared_ptr<arrow::RecordBatch>& batch) const {
  return EvaluateNode(root_, *schema_, arrow::Datum(batch));
}

bool BoundPredicate::MayMatch(const cp::Expression& guarantee) const {
  if (leaves_ > kMaxPrunedLeaves) return true;
  return (Possible(root_, guarantee) & kTrue) != 0;
}

}  // namespace loon
