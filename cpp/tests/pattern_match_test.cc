// The column-group pattern matcher (compiled into this test directly): fixed cases, a seeded
// differential run against std::regex (ECMAScript) on small inputs, and hostile patterns and
// subjects that hung or crashed std::regex.
#include <chrono>
#include <cstdio>
#include <random>
#include <regex>
#include <string>

#include "common/pattern_match.h"
#include "test_util.h"

using loon::CompiledPattern;
using loon::PatternError;

static bool Matches(const std::string& pattern, const std::string& subject) {
  PatternError error;
  std::string message;
  auto p = CompiledPattern::Compile(pattern, &error, &message);
  if (p == nullptr) {
    std::fprintf(stderr, "pattern '%s' refused: %s\n", pattern.c_str(), message.c_str());
    ++g_failures;
    return false;
  }
  return p->FullMatch(subject);
}

static PatternError ErrorOf(const std::string& pattern) {
  PatternError error;
  std::string message;
  auto p = CompiledPattern::Compile(pattern, &error, &message);
  return p == nullptr ? error : PatternError::kNone;
}

static void TestFixedCases() {
  struct Case {
    const char* pattern;
    const char* subject;
    bool match;
  } cases[] = {
      {"id", "id", true},          {"id", "ids", false},          {"id|name", "name", true},
      {"vec_.*", "vec_1", true},   {"vec_.*", "xvec_1", false},   {"[a-c]+\\d{2}", "abc12", true},
      {"[a-c]+\\d{2}", "abc1", false}, {"[^0-9]*", "abc", true},  {"[^0-9]*", "ab1", false},
      {"(ab)*", "", true},         {"(ab)*", "abab", true},       {"(ab)*", "aba", false},
      {"a{2,3}", "aaa", true},     {"a{2,3}", "aaaa", false},     {"a{2,}", "aaaaa", true},
      {"^id$", "id", true},        {"x?y+?", "yy", true},         {"(?:a|b)c", "bc", true},
      {"\\w+", "col_9", true},     {"\\W", "_", false},           {"\\s", " ", true},
      {"a.c", "a\nc", false},      {"a{", "a{", true},            {"[]", "", false},
      {"\\x41\\u00e9", "A\xc3\xa9", true}, {"caf.", "caf\xc3\xa9", true}, {"[\\d-]+", "1-2", true},
      {"(x*)*y", "xxxxy", true},   {"(x*)*y", "xxxx", false},     {"(a|ab)(c|bcd)(d*)", "abcd", true},
  };
  for (const auto& c : cases) {
    if (Matches(c.pattern, c.subject) != c.match) {
      std::fprintf(stderr, "'%s' on '%s': expected %d\n", c.pattern, c.subject, c.match);
      ++g_failures;
    }
  }
  CHECK(ErrorOf("(unclosed") == PatternError::kSyntax);
  CHECK(ErrorOf("a)") == PatternError::kSyntax);
  CHECK(ErrorOf("*a") == PatternError::kSyntax);
  CHECK(ErrorOf("a**") == PatternError::kSyntax);
  CHECK(ErrorOf("[b-a]") == PatternError::kSyntax);
  CHECK(ErrorOf("(a)\\1") == PatternError::kUnsafe);
  CHECK(ErrorOf("a(?=b)") == PatternError::kUnsafe);
  CHECK(ErrorOf("(?<!a)b") == PatternError::kUnsafe);
  CHECK(ErrorOf("\\bword") == PatternError::kUnsafe);
  CHECK(ErrorOf("(a{1000}){1000}") == PatternError::kUnsafe);  // a million instructions
  CHECK(ErrorOf(std::string(100, '(') + "a" + std::string(100, ')')) == PatternError::kUnsafe);
  CHECK(ErrorOf(std::string(20, '(') + "a" + std::string(20, ')')) == PatternError::kNone);
}

// Random patterns over {a, b} against std::regex on subjects of up to 8 characters.
static void TestAgainstStdRegex() {
  std::mt19937 rng(20261202);
  const char* atoms[] = {"a", "b", ".", "[ab]", "[^a]", "(a|b)", "(ab)", "(a*)", "(?:b|)", "\\w"};
  const char* quants[] = {"", "", "", "*", "+", "?", "{2}", "{1,2}", "{0,}"};
  int compared = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string pattern;
    int n = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k) {
      pattern += atoms[rng() % std::size(atoms)];
      pattern += quants[rng() % std::size(quants)];
      if (rng() % 6 == 0) pattern += "|";
    }
    std::regex reference;
    try {
      reference = std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      continue;
    }
    std::string subject;
    int len = static_cast<int>(rng() % 9);
    for (int k = 0; k < len; ++k) subject += "ab"[rng() % 2];
    bool want = std::regex_match(subject, reference);
    if (Matches(pattern, subject) != want) {
      std::fprintf(stderr, "'%s' on '%s': std::regex says %d\n", pattern.c_str(), subject.c_str(), want);
      ++g_failures;
    }
    ++compared;
  }
  CHECK(compared > 2000);
}

// Inputs that made std::regex hang (exponential backtracking) or overflow its stack.
static void TestHostileInputsAreLinear() {
  auto start = std::chrono::steady_clock::now();
  CHECK(!Matches("(x*)*y", std::string(50000, 'x')));
  CHECK(Matches("(x*)*y", std::string(50000, 'x') + "y"));
  CHECK(Matches("col.*", "col" + std::string(100000, 'z')));
  CHECK(Matches("(a|aa)+", std::string(60000, 'a')));
  CHECK(!Matches("(a|aa)+b", std::string(60000, 'a')));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("hostile subjects matched in %.3f s\n", seconds);
}

int main() {
  TestFixedCases();
  TestAgainstStdRegex();
  TestHostileInputsAreLinear();
  if (g_failures != 0) {
    std::fprintf(stderr, "%d failures\n", g_failures);
    return 1;
  }
  std::printf("pattern_match_test: ok\n");
  return 0;
}
