#include "reader/predicate.h"

#include "reader/numeric_compare.h"

#include <arrow/compute/api_scalar.h>
#include <arrow/array/builder_base.h>
#include <arrow/builder.h>
#include <arrow/scalar.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>

namespace loon {

namespace cp = arrow::compute;

namespace {

enum class Tok { kEnd, kIdent, kInt, kFloat, kString, kOp, kLParen, kRParen, kComma };

struct Token {
  Tok kind;
  std::string text;
};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

arrow::Result<std::vector<Token>> Lex(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.')) ++j;
      out.push_back({Tok::kIdent, s.substr(i, j - i)});
      i = j;
    } else if (c == '`') {
      size_t j = s.find('`', i + 1);
      if (j == std::string::npos) return arrow::Status::Invalid("unterminated `identifier` in predicate");
      out.push_back({Tok::kIdent, s.substr(i + 1, j - i - 1)});
      // Mark quoted identifiers so keywords can still be used as column names.
      out.back().text.insert(0, 1, '\0');
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      bool is_float = false;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && s[j] == '.') {
        is_float = true;
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
          is_float = true;
          j = k;
          while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        }
      }
      out.push_back({is_float ? Tok::kFloat : Tok::kInt, s.substr(i, j - i)});
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string text;
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c) {
            text.push_back(c);
            j += 2;
            continue;
          }
          closed = true;
          ++j;
          break;
        }
        text.push_back(s[j++]);
      }
      if (!closed) return arrow::Status::Invalid("unterminated string literal in predicate");
      out.push_back({Tok::kString, text});
      i = j;
    } else if (c == '(') {
      out.push_back({Tok::kLParen, "("});
      ++i;
    } else if (c == ')') {
      out.push_back({Tok::kRParen, ")"});
      ++i;
    } else if (c == ',') {
      out.push_back({Tok::kComma, ","});
      ++i;
    } else {
      static const char* ops[] = {"<=", ">=", "<>", "!=", "==", "=", "<", ">", "-"};
      bool matched = false;
      for (const char* op : ops) {
        size_t n = std::char_traits<char>::length(op);
        if (s.compare(i, n, op) == 0) {
          out.push_back({Tok::kOp, op});
          i += n;
          matched = true;
          break;
        }
      }
      if (!matched) return arrow::Status::Invalid("unexpected character '", std::string(1, c), "' in predicate");
    }
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

using Node = PredicateNode;
using Kind = PredicateNode::Kind;

Node Leaf(cp::Expression e) {
  Node n;
  n.leaf = std::move(e);
  return n;
}

Node Compound(Kind kind, std::vector<Node> children) {
  Node n;
  n.kind = kind;
  n.children = std::move(children);
  return n;
}

bool IsNullLiteral(const cp::Expression& e) {
  const arrow::Datum* lit = e.literal();
  return lit != nullptr && lit->is_scalar() && lit->scalar()->type->id() == arrow::Type::NA;
}

cp::Expression NullBoolean() { return cp::literal(arrow::MakeNullScalar(arrow::boolean())); }

size_t CountLeaves(const Node& n) {
  if (n.kind == Kind::kLeaf) return 1;
  size_t total = 0;
  for (const auto& c : n.children) total += CountLeaves(c);
  return total;
}

// A compound boolean used as a value ("(a = 1 OR b = 2) = true") becomes one Arrow expression;
// only small ones, as Arrow's passes over it recurse once per term.
constexpr size_t kMaxCompoundValueLeaves = 64;

cp::Expression ToExpression(const Node& n) {
  switch (n.kind) {
    case Kind::kLeaf:
      return IsNullLiteral(n.leaf) ? NullBoolean() : n.leaf;
    case Kind::kNot:
      return cp::not_(ToExpression(n.children[0]));
    case Kind::kAnd:
    case Kind::kOr: {
      std::vector<cp::Expression> parts;
      for (const auto& c : n.children) parts.push_back(ToExpression(c));
      return n.kind == Kind::kAnd ? cp::and_(parts) : cp::or_(parts);
    }
  }
  return n.leaf;
}

// IN over a column and literals of the column's own type: one is_in leaf (NULL for a NULL row,
// as SQL has it) instead of one equality per value. nullopt when the list does not qualify.
std::optional<cp::Expression> IsIn(const cp::Expression& left, const std::vector<cp::Expression>& items,
                                   const arrow::Schema& schema) {
  const arrow::FieldRef* ref = left.field_ref();
  if (ref == nullptr || ref->name() == nullptr) return std::nullopt;
  auto field = schema.GetFieldByName(*ref->name());
  if (field == nullptr) return std::nullopt;
  const auto& type = field->type();
  const bool int64_column = type->id() == arrow::Type::INT64;
  const bool string_column = type->id() == arrow::Type::STRING;
  if (!int64_column && !string_column) return std::nullopt;
  auto made = arrow::MakeBuilder(type);
  if (!made.ok()) return std::nullopt;
  std::unique_ptr<arrow::ArrayBuilder> builder = std::move(made).ValueUnsafe();
  for (const auto& item : items) {
    const arrow::Datum* lit = item.literal();
    if (lit == nullptr || !lit->is_scalar() || !lit->scalar()->is_valid || !lit->scalar()->type->Equals(*type)) {
      return std::nullopt;
    }
    if (!builder->AppendScalar(*lit->scalar()).ok()) return std::nullopt;
  }
  std::shared_ptr<arrow::Array> values;
  if (!builder->Finish(&values).ok()) return std::nullopt;
  return cp::call("is_in", {left},
                  cp::SetLookupOptions(values, cp::SetLookupOptions::NullMatchingBehavior::EMIT_NULL));
}

class Parser {
 public:
  Parser(std::vector<Token> toks, const arrow::Schema& schema) : toks_(std::move(toks)), schema_(schema) {}

  arrow::Result<ParsedPredicate> Run() {
    ARROW_ASSIGN_OR_RAISE(auto root, Or());
    if (Peek().kind != Tok::kEnd) return arrow::Status::Invalid("unexpected '", Peek().text, "' in predicate");
    return ParsedPredicate{std::move(root), columns_};
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  bool IsKeyword(const char* kw) const { return Peek().kind == Tok::kIdent && Upper(Peek().text) == kw; }
  bool IsOp(const char* op) const { return Peek().kind == Tok::kOp && Peek().text == op; }

  // The operand of a comparison or of unary minus as one Arrow value expression.
  arrow::Result<cp::Expression> ValueOf(const Node& n) const {
    if (n.kind == Kind::kLeaf) return n.leaf;
    if (CountLeaves(n) > kMaxCompoundValueLeaves) {
      return arrow::Status::Invalid("a parenthesized condition of more than ", kMaxCompoundValueLeaves,
                                    " terms cannot be used as a value in a predicate");
    }
    return ToExpression(n);
  }

  arrow::Result<Node> Or() { return List("OR", Kind::kOr); }

  arrow::Result<Node> And() { return List("AND", Kind::kAnd); }

  // term ( KEYWORD term )*: one n-ary node, however long the list.
  arrow::Result<Node> List(const char* keyword, Kind kind) {
    std::vector<Node> terms;
    while (true) {
      arrow::Result<Node> term = kind == Kind::kOr ? And() : Not();
      ARROW_RETURN_NOT_OK(term.status());
      terms.push_back(std::move(term).ValueUnsafe());
      if (!IsKeyword(keyword)) break;
      ++pos_;
    }
    if (terms.size() == 1) return std::move(terms.front());
    return Compound(kind, std::move(terms));
  }

  // A run of NOTs is counted, not recursed into: NOT NOT x is x in three-valued logic too.
  arrow::Result<Node> Not() {
    size_t nots = 0;
    while (IsKeyword("NOT")) {
      ++pos_;
      ++nots;
    }
    ARROW_ASSIGN_OR_RAISE(auto inner, Comparison());
    if (nots % 2 == 0) return inner;
    std::vector<Node> one;
    one.push_back(std::move(inner));
    return Compound(Kind::kNot, std::move(one));
  }

  arrow::Result<Node> Comparison() {
    ARROW_ASSIGN_OR_RAISE(auto left_node, Unary());
    if (Peek().kind == Tok::kOp && Peek().text != "-") {
      std::string op = toks_[pos_++].text;
      ARROW_ASSIGN_OR_RAISE(auto left, ValueOf(left_node));
      ARROW_ASSIGN_OR_RAISE(auto right_node, Unary());
      ARROW_ASSIGN_OR_RAISE(auto right, ValueOf(right_node));
      CompareOp cmp = op == "=" || op == "==" ? CompareOp::kEq
                      : op == "!=" || op == "<>" ? CompareOp::kNe
                      : op == "<"  ? CompareOp::kLt
                      : op == "<=" ? CompareOp::kLe
                      : op == ">"  ? CompareOp::kGt
                                   : CompareOp::kGe;
      return Leaf(Compare(cmp, std::move(left), std::move(right)));
    }
    bool negate = false;
    if (IsKeyword("NOT") && pos_ + 1 < toks_.size() && toks_[pos_ + 1].kind == Tok::kIdent &&
        Upper(toks_[pos_ + 1].text) == "IN") {
      negate = true;
      ++pos_;
    }
    if (IsKeyword("IN")) {
      ++pos_;
      if (Peek().kind != Tok::kLParen) return arrow::Status::Invalid("expected '(' after IN");
      ++pos_;
      ARROW_ASSIGN_OR_RAISE(auto left, ValueOf(left_node));
      std::vector<cp::Expression> items;
      while (true) {
        ARROW_ASSIGN_OR_RAISE(auto item_node, Unary());
        ARROW_ASSIGN_OR_RAISE(auto item, ValueOf(item_node));
        items.push_back(std::move(item));
        if (Peek().kind == Tok::kComma) {
          ++pos_;
          continue;
        }
        if (Peek().kind == Tok::kRParen) {
          ++pos_;
          break;
        }
        return arrow::Status::Invalid("expected ',' or ')' in IN list");
      }
      Node any;
      if (auto is_in = IsIn(left, items, schema_)) {
        any = Leaf(std::move(*is_in));
      } else {
        // Otherwise a disjunction of exact equalities (SQL's NULL rules follow from Kleene OR).
        std::vector<Node> alternatives;
        for (auto& item : items) alternatives.push_back(Leaf(Compare(CompareOp::kEq, left, std::move(item))));
        any = alternatives.size() == 1 ? std::move(alternatives.front()) : Compound(Kind::kOr, std::move(alternatives));
      }
      if (!negate) return any;
      std::vector<Node> one;
      one.push_back(std::move(any));
      return Compound(Kind::kNot, std::move(one));
    }
    if (negate) return arrow::Status::Invalid("expected IN after NOT");
    return left_node;
  }

  // Exact comparison: numeric literals against numeric columns go through CompareExact.
  cp::Expression Compare(CompareOp op, cp::Expression left, cp::Expression right) const {
    if (IsNullLiteral(left) || IsNullLiteral(right)) return NullBoolean();  // x op NULL is NULL
    if (left.literal() != nullptr && right.field_ref() != nullptr) {
      std::swap(left, right);
      op = Mirror(op);
    }
    if (const arrow::FieldRef* ref = left.field_ref(); ref != nullptr && ref->name() != nullptr) {
      const arrow::Datum* lit = right.literal();
      auto field = schema_.GetFieldByName(*ref->name());
      if (lit != nullptr && lit->is_scalar() && field != nullptr) {
        if (auto exact = CompareExact(op, left, *field->type(), *lit->scalar())) return *exact;
      }
    }
    return CompareCall(op, std::move(left), std::move(right));
  }

  arrow::Result<Node> Unary() {
    // A run of minus signs is counted, not recursed into.
    size_t minuses = 0;
    while (IsOp("-")) {
      ++pos_;
      ++minuses;
    }
    ARROW_ASSIGN_OR_RAISE(auto inner_node, Primary());
    if (minuses % 2 == 0) return inner_node;
    ARROW_ASSIGN_OR_RAISE(auto inner, ValueOf(inner_node));
    if (const arrow::Datum* lit = inner.literal()) {
      if (lit->is_scalar()) {
        const auto& sc = lit->scalar();
        if (sc->type->id() == arrow::Type::INT64 && sc->is_valid) {
          int64_t v = static_cast<const arrow::Int64Scalar&>(*sc).value;
          if (v == INT64_MIN) return Leaf(cp::literal(-static_cast<double>(v)));
          return Leaf(cp::literal(-v));
        }
        if (sc->type->id() == arrow::Type::DOUBLE && sc->is_valid) {
          double d = static_cast<const arrow::DoubleScalar&>(*sc).value;
          // -9223372036854775808 is lexed as a double (beyond int64) but is an int64.
          if (d == 9223372036854775808.0) return Leaf(cp::literal(INT64_MIN));
          return Leaf(cp::literal(-d));
        }
      }
    }
    return Leaf(cp::call("negate", {inner}));
  }

  arrow::Result<Node> Primary() {
    Token t = toks_[pos_];
    switch (t.kind) {
      case Tok::kInt: {
        ++pos_;
        errno = 0;
        char* end = nullptr;
        long long v = std::strtoll(t.text.c_str(), &end, 10);
        if (errno == ERANGE) return Leaf(cp::literal(std::strtod(t.text.c_str(), nullptr)));
        return Leaf(cp::literal(static_cast<int64_t>(v)));
      }
      case Tok::kFloat:
        ++pos_;
        return Leaf(cp::literal(std::strtod(t.text.c_str(), nullptr)));
      case Tok::kString:
        ++pos_;
        return Leaf(cp::literal(arrow::Datum(std::make_shared<arrow::StringScalar>(t.text))));
      case Tok::kLParen: {
        ++pos_;
        if (++depth_ > kMaxPredicateNesting) {
          return arrow::Status::Invalid("predicate nests parentheses deeper than ", kMaxPredicateNesting, " levels");
        }
        ARROW_ASSIGN_OR_RAISE(auto e, Or());
        --depth_;
        if (Peek().kind != Tok::kRParen) return arrow::Status::Invalid("missing ')' in predicate");
        ++pos_;
        return e;
      }
      case Tok::kIdent: {
        ++pos_;
        bool quoted = !t.text.empty() && t.text[0] == '\0';
        std::string name = quoted ? t.text.substr(1) : t.text;
        if (!quoted) {
          std::string up = Upper(name);
          if (up == "TRUE") return Leaf(cp::literal(true));
          if (up == "FALSE") return Leaf(cp::literal(false));
          if (up == "NULL") return Leaf(cp::literal(arrow::MakeNullScalar(arrow::null())));
          if (up == "AND" || up == "OR" || up == "NOT" || up == "IN") {
            return arrow::Status::Invalid("unexpected keyword '", name, "' in predicate");
          }
        }
        if (schema_.GetFieldIndex(name) < 0) {
          return arrow::Status::Invalid("predicate references unknown column '", name, "'");
        }
        if (std::find(columns_.begin(), columns_.end(), name) == columns_.end()) columns_.push_back(name);
        return Leaf(cp::field_ref(name));
      }
      default:
        return arrow::Status::Invalid("unexpected '", t.text.empty() ? "end of input" : t.text, "' in predicate");
    }
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;  // parentheses open
  const arrow::Schema& schema_;
  std::vector<std::string> columns_;
};

}  // namespace

arrow::Result<ParsedPredicate> ParsePredicate(const std::string& text, const arrow::Schema& schema) {
  ARROW_ASSIGN_OR_RAISE(auto toks, Lex(text));
  return Parser(std::move(toks), schema).Run();
}

}  // namespace loon
