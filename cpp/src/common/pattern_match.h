// Whole-string matching of column-group patterns (writer.split.schema_based.patterns) in time
// linear in the subject: patterns are compiled to a small program run as a Thompson/Pike NFA
// simulation (every alternative advanced one character at a time, each program state at most
// once per character), so no pattern can backtrack exponentially and no subject length can
// deepen the stack. std::regex did both: `(x*)*y` hung the writer and a 50,000-character column
// name overflowed its recursive matcher.
//
// Syntax (ECMAScript's, as the property is specified): literals, `.`, classes `[a-z0-9_]` and
// `[^...]`, escapes `\d \D \w \W \s \S \t \n \r \f \v \0 \xHH \uHHHH` and escaped punctuation,
// groups `( )` and `(?: )`, alternation `|`, quantifiers `* + ? {n} {n,} {n,m}` (lazy forms
// accepted: they do not change whether a whole string matches), anchors `^ $`. Subjects are
// matched by code point (UTF-8 decoded; a stray byte counts as one character).
//
// Refused: backreferences, lookahead/lookbehind and word boundaries (no linear-time form) and
// patterns whose program would exceed kMaxPatternProgram instructions or nest groups deeper than
// kMaxPatternNesting — PatternError::kUnsafe; malformed syntax — PatternError::kSyntax.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace loon {

constexpr size_t kMaxPatternProgram = 10000;
constexpr int kMaxPatternNesting = 64;

enum class PatternError { kNone, kSyntax, kUnsafe };

class CompiledPattern {
 public:
  // On failure returns nullptr and sets `error` and `message`.
  static std::unique_ptr<CompiledPattern> Compile(const std::string& pattern, PatternError* error,
                                                  std::string* message);
  bool FullMatch(const std::string& subject) const;

  struct Inst;
  struct CharClass {
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  // inclusive
    bool negated = false;
    bool Contains(uint32_t c) const;
  };

 private:
  std::vector<Inst> prog_;
  std::vector<CharClass> classes_;
  friend class PatternCompiler;
};

struct CompiledPattern::Inst {
  enum Op : uint8_t { kChar, kClass, kSplit, kJmp, kBegin, kEnd, kMatch } op;
  uint32_t arg = 0;  // kChar: code point; kClass: class index; kSplit/kJmp: target
  uint32_t arg2 = 0; // kSplit: second target
};

}  // namespace loon
