// Predicate parser for scans (README "Predicates"; exact filtering is an engine extension).
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
// error. Comparisons with NULL follow SQL: rows where the predicate is NULL are dropped.
#pragma once

#include <arrow/compute/expression.h>
#include <arrow/result.h>
#include <arrow/type.h>

#include <string>
#include <vector>

namespace loon {

struct ParsedPredicate {
  arrow::compute::Expression expr;  // unbound
  std::vector<std::string> columns; // referenced field names, first-seen order
};

// Parses `text` against `schema`; errors are arrow::Status::Invalid (code 3 at the FFI).
arrow::Result<ParsedPredicate> ParsePredicate(const std::string& text, const arrow::Schema& schema);

}  // namespace loon
