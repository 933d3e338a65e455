// Predicate parser for scans (filtering is exact: rows whose predicate is not TRUE are dropped).
//
// Grammar (keywords case-insensitive, whitespace free-form):
//   predicate  := or_expr
//   or_expr    := and_expr ( OR and_expr )*
//   and_expr   := not_expr ( AND not_expr )*
//   not_expr   := NOT not_expr | comparison
//   comparison := unary [ ( '=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>=' ) unary
//                       | [NOT] IN '(' unary ( ',' unary )* ')' ]
//   unary      := '-' unary | primary
//   primary    := INTEGER | FLOAT | STRING | TRUE | FALSE | NULL | column | '(' or_expr ')'
//   STRING     := '...' or "..." (a doubled quote inside stands for the quote itself)
//   column     := identifier [A-Za-z_][A-Za-z0-9_.]*  or  `any text`
// Column names must be fields of the reader schema; anything left after the expression is an
// error.
//
// Semantics are SQL's: comparisons with NULL are NULL, AND/OR/NOT use three-valued logic (a NULL
// operand included), and rows where the predicate is NULL are dropped. A numeric literal compares
// exactly with any numeric column (an integer above 2^24 against a float32 column, 2^53 + 1
// against a float64 column, 2.5 against an integer column): the comparison is rewritten into one
// of the column's own type, never a lossy cast.
//
// Hostile input: lists of AND/OR terms and IN values of any length become balanced trees (depth
// log2 of the count); runs of NOT or unary minus are counted, not nested; parentheses nested deeper
// than kMaxPredicateNesting levels are refused with Invalid (code 3), so neither parsing nor
// evaluation can exhaust the stack.
#pragma once

#include <arrow/compute/expression.h>
#include <arrow/result.h>
#include <arrow/type.h>

#include <arrow/datum.h>
#include <arrow/record_batch.h>

#include <memory>
#include <string>
#include <vector>

namespace loon {

// Deepest nesting of parentheses a predicate may use.
constexpr int kMaxPredicateNesting = 128;

// The boolean structure of a predicate: AND/OR/NOT over leaves (comparisons, IN tests, literals,
// boolean columns), each leaf an Arrow expression. The structure is evaluated here, node by node,
// not handed to Arrow as one expression: Arrow's expression passes recurse and re-chain
// associative calls (canonicalization turns a balanced OR of 9,000 terms back into a chain 9,000
// calls deep), which exhausts the stack.
struct PredicateNode {
  enum class Kind { kLeaf, kAnd, kOr, kNot };
  Kind kind = Kind::kLeaf;
  arrow::compute::Expression leaf;     // kLeaf
  std::vector<PredicateNode> children; // kAnd/kOr: two or more; kNot: one
};

struct ParsedPredicate {
  PredicateNode root;
  std::vector<std::string> columns;  // referenced field names, first-seen order
};

// Parses `text` against `schema`; errors are arrow::Status::Invalid (code 3 at the FFI).
arrow::Result<ParsedPredicate> ParsePredicate(const std::string& text, const arrow::Schema& schema);

// A predicate bound to the schema of the batches it filters.
class BoundPredicate {
 public:
  // Invalid when a leaf does not bind or is not boolean.
  static arrow::Result<BoundPredicate> Bind(const PredicateNode& root, std::shared_ptr<arrow::Schema> schema);

  // A boolean array (or scalar) over `batch`: TRUE, FALSE or NULL per row (Kleene logic).
  arrow::Result<arrow::Datum> Evaluate(const std::shared_ptr<arrow::RecordBatch>& batch) const;

  // False when no row that satisfies `guarantee` (e.g. a row group's statistics) can make the
  // predicate TRUE. Predicates of more than kMaxPrunedLeaves leaves are not pruned (always true):
  // simplifying every leaf per row group would cost more than it saves.
  bool MayMatch(const arrow::compute::Expression& guarantee) const;

  static constexpr size_t kMaxPrunedLeaves = 64;

 private:
  PredicateNode root_;
  std::shared_ptr<arrow::Schema> schema_;
  size_t leaves_ = 0;
};

}  // namespace loon
