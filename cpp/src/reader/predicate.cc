#include "reader/predicate.h"

#include <arrow/compute/api_scalar.h>
#include <arrow/scalar.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

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

class Parser {
 public:
  Parser(std::vector<Token> toks, const arrow::Schema& schema) : toks_(std::move(toks)), schema_(schema) {}

  arrow::Result<ParsedPredicate> Run() {
    ARROW_ASSIGN_OR_RAISE(auto e, Or());
    if (Peek().kind != Tok::kEnd) return arrow::Status::Invalid("unexpected '", Peek().text, "' in predicate");
    return ParsedPredicate{std::move(e), columns_};
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  bool IsKeyword(const char* kw) const { return Peek().kind == Tok::kIdent && Upper(Peek().text) == kw; }
  bool IsOp(const char* op) const { return Peek().kind == Tok::kOp && Peek().text == op; }

  arrow::Result<cp::Expression> Or() {
    ARROW_ASSIGN_OR_RAISE(auto left, And());
    while (IsKeyword("OR")) {
      ++pos_;
      ARROW_ASSIGN_OR_RAISE(auto right, And());
      left = cp::or_(left, right);
    }
    return left;
  }

  arrow::Result<cp::Expression> And() {
    ARROW_ASSIGN_OR_RAISE(auto left, Not());
    while (IsKeyword("AND")) {
      ++pos_;
      ARROW_ASSIGN_OR_RAISE(auto right, Not());
      left = cp::and_(left, right);
    }
    return left;
  }

  arrow::Result<cp::Expression> Not() {
    if (IsKeyword("NOT")) {
      ++pos_;
      ARROW_ASSIGN_OR_RAISE(auto inner, Not());
      return cp::not_(inner);
    }
    return Comparison();
  }

  arrow::Result<cp::Expression> Comparison() {
    ARROW_ASSIGN_OR_RAISE(auto left, Unary());
    if (Peek().kind == Tok::kOp && Peek().text != "-") {
      std::string op = toks_[pos_++].text;
      ARROW_ASSIGN_OR_RAISE(auto right, Unary());
      if (op == "=" || op == "==") return cp::equal(left, right);
      if (op == "!=" || op == "<>") return cp::not_equal(left, right);
      if (op == "<") return cp::less(left, right);
      if (op == "<=") return cp::less_equal(left, right);
      if (op == ">") return cp::greater(left, right);
      return cp::greater_equal(left, right);
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
      // IN as a disjunction of equalities: binds with the usual implicit casts and simplifies
      // well against row-group statistics.
      std::vector<cp::Expression> alternatives;
      while (true) {
        ARROW_ASSIGN_OR_RAISE(auto item, Unary());
        alternatives.push_back(cp::equal(left, item));
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
      auto any = cp::or_(alternatives);
      return negate ? cp::not_(any) : any;
    }
    if (negate) return arrow::Status::Invalid("expected IN after NOT");
    return left;
  }

  arrow::Result<cp::Expression> Unary() {
    if (IsOp("-")) {
      ++pos_;
      ARROW_ASSIGN_OR_RAISE(auto inner, Unary());
      if (const arrow::Datum* lit = inner.literal()) {
        if (lit->is_scalar()) {
          const auto& sc = lit->scalar();
          if (sc->type->id() == arrow::Type::INT64 && sc->is_valid) {
            return cp::literal(-static_cast<const arrow::Int64Scalar&>(*sc).value);
          }
          if (sc->type->id() == arrow::Type::DOUBLE && sc->is_valid) {
            return cp::literal(-static_cast<const arrow::DoubleScalar&>(*sc).value);
          }
        }
      }
      return cp::call("negate", {inner});
    }
    return Primary();
  }

  arrow::Result<cp::Expression> Primary() {
    Token t = toks_[pos_];
    switch (t.kind) {
      case Tok::kInt: {
        ++pos_;
        errno = 0;
        char* end = nullptr;
        long long v = std::strtoll(t.text.c_str(), &end, 10);
        if (errno == ERANGE) return cp::literal(std::strtod(t.text.c_str(), nullptr));
        return cp::literal(static_cast<int64_t>(v));
      }
      case Tok::kFloat:
        ++pos_;
        return cp::literal(std::strtod(t.text.c_str(), nullptr));
      case Tok::kString:
        ++pos_;
        return cp::literal(arrow::Datum(std::make_shared<arrow::StringScalar>(t.text)));
      case Tok::kLParen: {
        ++pos_;
        ARROW_ASSIGN_OR_RAISE(auto e, Or());
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
          if (up == "TRUE") return cp::literal(true);
          if (up == "FALSE") return cp::literal(false);
          if (up == "NULL") return cp::literal(arrow::MakeNullScalar(arrow::null()));
          if (up == "AND" || up == "OR" || up == "NOT" || up == "IN") {
            return arrow::Status::Invalid("unexpected keyword '", name, "' in predicate");
          }
        }
        if (schema_.GetFieldIndex(name) < 0) {
          return arrow::Status::Invalid("predicate references unknown column '", name, "'");
        }
        if (std::find(columns_.begin(), columns_.end(), name) == columns_.end()) columns_.push_back(name);
        return cp::field_ref(name);
      }
      default:
        return arrow::Status::Invalid("unexpected '", t.text.empty() ? "end of input" : t.text, "' in predicate");
    }
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  const arrow::Schema& schema_;
  std::vector<std::string> columns_;
};

}  // namespace

arrow::Result<ParsedPredicate> ParsePredicate(const std::string& text, const arrow::Schema& schema) {
  ARROW_ASSIGN_OR_RAISE(auto toks, Lex(text));
  return Parser(std::move(toks), schema).Run();
}

}  // namespace loon
