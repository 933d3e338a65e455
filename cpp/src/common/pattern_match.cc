#include "common/pattern_match.h"

#include <algorithm>

namespace loon {

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

// One code point from UTF-8 at s[*i]; a byte that starts no valid sequence counts as itself.
uint32_t NextCodePoint(const std::string& s, size_t* i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(*i);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len <= 1 || *i + len > s.size()) {
    ++*i;
    return c;
  }
  uint32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    if ((b(*i + k) & 0xC0) != 0x80) {
      ++*i;
      return c;
    }
    cp = (cp << 6) | (b(*i + k) & 0x3F);
  }
  *i += len;
  return cp;
}

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

Ranges Complement(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : r) {
    if (lo > next) out.emplace_back(next, lo - 1);
    if (hi >= next) next = hi + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return out;
}

const Ranges kDigit = {{'0', '9'}};
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges kSpace = {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A},
                       {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
const Ranges kLineTerminators = {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}};

struct Node {
  enum Kind { kEmpty, kChar, kClass, kBegin, kEnd, kConcat, kAlt, kRepeat } kind = kEmpty;
  uint32_t ch = 0;
  CompiledPattern::CharClass cls;
  std::vector<Node> children;
  int min = 0, max = 0;  // kRepeat; max -1 = unbounded
};

struct Failure {
  PatternError error;
  std::string message;
};

}  // namespace

bool CompiledPattern::CharClass::Contains(uint32_t c) const {
  bool in = false;
  for (const auto& [lo, hi] : ranges) {
    if (c >= lo && c <= hi) {
      in = true;
      break;
    }
  }
  return in != negated;
}

class PatternCompiler {
 public:
  explicit PatternCompiler(const std::string& p) : p_(p) {}

  bool Run(CompiledPattern* out, Failure* failure) {
    Node root;
    if (!ParseAlt(0, &root)) {
      *failure = failure_;
      return false;
    }
    if (pos_ < p_.size()) {  // only an unbalanced ')' stops the top level early
      *failure = {PatternError::kSyntax, "unmatched ')'"};
      return false;
    }
    out_ = out;
    if (!Emit(root)) {
      *failure = failure_;
      return false;
    }
    Push({CompiledPattern::Inst::kMatch});
    return true;
  }

 private:
  bool Fail(PatternError e, std::string m) {
    failure_ = {e, std::move(m)};
    return false;
  }
  bool AtEnd() const { return pos_ >= p_.size(); }
  char Peek() const { return p_[pos_]; }
  bool Starts(const char* s) const { return p_.compare(pos_, std::char_traits<char>::length(s), s) == 0; }

  bool ParseAlt(int depth, Node* out) {
    Node first;
    if (!ParseConcat(depth, &first)) return false;
    if (AtEnd() || Peek() != '|') {
      *out = std::move(first);
      return true;
    }
    out->kind = Node::kAlt;
    out->children.push_back(std::move(first));
    while (!AtEnd() && Peek() == '|') {
      ++pos_;
      Node next;
      if (!ParseConcat(depth, &next)) return false;
      out->children.push_back(std::move(next));
    }
    return true;
  }

  bool ParseConcat(int depth, Node* out) {
    out->kind = Node::kConcat;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      Node item;
      if (!ParseRepeat(depth, &item)) return false;
      out->children.push_back(std::move(item));
    }
    return true;
  }

  // {n}, {n,}, {n,m} at pos_; false (pos_ unchanged) when the brace is a literal.
  bool ParseBraces(int* min, int* max) {
    size_t i = pos_ + 1;
    auto number = [&](int* v) {
      size_t start = i;
      long long x = 0;
      while (i < p_.size() && p_[i] >= '0' && p_[i] <= '9') {
        x = std::min<long long>(x * 10 + (p_[i] - '0'), 1 << 20);
        ++i;
      }
      *v = static_cast<int>(x);
      return i > start;
    };
    if (!number(min)) return false;
    *max = *min;
    if (i < p_.size() && p_[i] == ',') {
      ++i;
      if (!number(max)) *max = -1;
    }
    if (i >= p_.size() || p_[i] != '}') return false;
    pos_ = i + 1;
    return true;
  }

  bool ParseRepeat(int depth, Node* out) {
    if (!ParseAtom(depth, out)) return false;
    bool repeated = false;
    while (!AtEnd()) {
      int min = 0, max = 0;
      char c = Peek();
      if (c == '*') {
        min = 0, max = -1, ++pos_;
      } else if (c == '+') {
        min = 1, max = -1, ++pos_;
      } else if (c == '?') {
        min = 0, max = 1, ++pos_;
      } else if (c == '{') {
        if (!ParseBraces(&min, &max)) break;  // a literal '{': the next atom
        if (max >= 0 && max < min) return Fail(PatternError::kSyntax, "numbers out of order in {} quantifier");
      } else {
        break;
      }
      if (repeated) return Fail(PatternError::kSyntax, "nothing to repeat");
      repeated = true;
      if (!AtEnd() && Peek() == '?') ++pos_;  // lazy: same whole-string matches
      Node rep;
      rep.kind = Node::kRepeat;
      rep.min = min;
      rep.max = max;
      rep.children.push_back(std::move(*out));
      *out = std::move(rep);
    }
    return true;
  }

  bool ParseAtom(int depth, Node* out) {
    char c = Peek();
    switch (c) {
      case '(': {
        if (depth + 1 > kMaxPatternNesting) {
          return Fail(PatternError::kUnsafe, "groups nest deeper than " + std::to_string(kMaxPatternNesting));
        }
        if (Starts("(?=") || Starts("(?!") || Starts("(?<=") || Starts("(?<!")) {
          return Fail(PatternError::kUnsafe, "lookahead/lookbehind cannot be matched in linear time");
        }
        if (Starts("(?:")) {
          pos_ += 3;
        } else if (Starts("(?<")) {
          size_t close = p_.find('>', pos_);
          if (close == std::string::npos) return Fail(PatternError::kSyntax, "unterminated group name");
          pos_ = close + 1;
        } else if (Starts("(?")) {
          return Fail(PatternError::kSyntax, "invalid group");
        } else {
          ++pos_;
        }
        if (!ParseAlt(depth + 1, out)) return false;
        if (AtEnd() || Peek() != ')') return Fail(PatternError::kSyntax, "missing ')'");
        ++pos_;
        return true;
      }
      case '[':
        return ParseClass(out);
      case '.':
        ++pos_;
        out->kind = Node::kClass;
        out->cls.ranges = kLineTerminators;
        out->cls.negated = true;
        return true;
      case '^':
        ++pos_;
        out->kind = Node::kBegin;
        return true;
      case '$':
        ++pos_;
        out->kind = Node::kEnd;
        return true;
      case '*':
      case '+':
      case '?':
        return Fail(PatternError::kSyntax, "nothing to repeat");
      case '\\':
        return ParseEscape(out, /*in_class=*/false);
      default:
        out->kind = Node::kChar;
        out->ch = NextCodePoint(p_, &pos_);
        return true;
    }
  }

  // After '\\': a character (kChar) or a class (kClass).
  bool ParseEscape(Node* out, bool in_class) {
    ++pos_;
    if (AtEnd()) return Fail(PatternError::kSyntax, "trailing backslash");
    char c = Peek();
    auto set_class = [&](const Ranges& r, bool negated) {
      ++pos_;
      out->kind = Node::kClass;
      out->cls.ranges = negated ? Complement(r) : r;
      return true;
    };
    auto set_char = [&](uint32_t ch, size_t advance) {
      pos_ += advance;
      out->kind = Node::kChar;
      out->ch = ch;
      return true;
    };
    auto hex = [&](size_t digits) -> bool {
      if (pos_ + 1 + digits > p_.size()) return Fail(PatternError::kSyntax, "bad hex escape");
      uint32_t v = 0;
      for (size_t k = 0; k < digits; ++k) {
        char h = p_[pos_ + 1 + k];
        int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0) return Fail(PatternError::kSyntax, "bad hex escape");
        v = v * 16 + static_cast<uint32_t>(d);
      }
      return set_char(v, 1 + digits);
    };
    switch (c) {
      case 'd': return set_class(kDigit, false);
      case 'D': return set_class(kDigit, true);
      case 'w': return set_class(kWord, false);
      case 'W': return set_class(kWord, true);
      case 's': return set_class(kSpace, false);
      case 'S': return set_class(kSpace, true);
      case 't': return set_char('\t', 1);
      case 'n': return set_char('\n', 1);
      case 'r': return set_char('\r', 1);
      case 'f': return set_char('\f', 1);
      case 'v': return set_char('\v', 1);
      case '0': return set_char(0, 1);
      case 'x': return hex(2);
      case 'u': return hex(4);
      case 'b':
        if (in_class) return set_char('\b', 1);
        return Fail(PatternError::kUnsafe, "word boundaries (\\b) are not supported");
      case 'B':
        return Fail(PatternError::kUnsafe, "word boundaries (\\B) are not supported");
      default:
        if (c >= '1' && c <= '9') {
          return Fail(PatternError::kUnsafe, "backreferences cannot be matched in linear time");
        }
        out->kind = Node::kChar;
        out->ch = NextCodePoint(p_, &pos_);
        return true;
    }
  }

  bool ParseClass(Node* out) {
    ++pos_;  // '['
    out->kind = Node::kClass;
    if (!AtEnd() && Peek() == '^') {
      out->cls.negated = true;
      ++pos_;
    }
    Ranges ranges;
    while (true) {
      if (AtEnd()) return Fail(PatternError::kSyntax, "missing ']'");
      if (Peek() == ']') {
        ++pos_;
        break;
      }
      uint32_t lo = 0;
      if (Peek() == '\\') {
        Node esc;
        if (!ParseEscape(&esc, /*in_class=*/true)) return false;
        if (esc.kind == Node::kClass) {
          ranges.insert(ranges.end(), esc.cls.ranges.begin(), esc.cls.ranges.end());
          continue;
        }
        lo = esc.ch;
      } else {
        lo = NextCodePoint(p_, &pos_);
      }
      uint32_t hi = lo;
      if (pos_ + 1 < p_.size() && Peek() == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        if (Peek() == '\\') {
          Node esc;
          if (!ParseEscape(&esc, /*in_class=*/true)) return false;
          if (esc.kind == Node::kClass) return Fail(PatternError::kSyntax, "bad class range");
          hi = esc.ch;
        } else {
          hi = NextCodePoint(p_, &pos_);
        }
        if (hi < lo) return Fail(PatternError::kSyntax, "range out of order in character class");
      }
      ranges.emplace_back(lo, hi);
    }
    out->cls.ranges = std::move(ranges);
    return true;
  }

  // ---- code generation ----

  bool Push(CompiledPattern::Inst inst) {
    if (out_->prog_.size() >= kMaxPatternProgram) {
      return Fail(PatternError::kUnsafe, "pattern needs more than " + std::to_string(kMaxPatternProgram) +
                                             " instructions");
    }
    out_->prog_.push_back(inst);
    return true;
  }
  uint32_t Here() const { return static_cast<uint32_t>(out_->prog_.size()); }

  bool Emit(const Node& n) {
    using I = CompiledPattern::Inst;
    switch (n.kind) {
      case Node::kEmpty:
        return true;
      case Node::kChar:
        return Push({I::kChar, n.ch});
      case Node::kClass:
        out_->classes_.push_back(n.cls);
        return Push({I::kClass, static_cast<uint32_t>(out_->classes_.size() - 1)});
      case Node::kBegin:
        return Push({I::kBegin});
      case Node::kEnd:
        return Push({I::kEnd});
      case Node::kConcat:
        for (const auto& c : n.children) {
          if (!Emit(c)) return false;
        }
        return true;
      case Node::kAlt: {
        // split L1, next; L1: a; jmp end; next: split L2, ...; last: z; end:
        std::vector<uint32_t> jumps;
        for (size_t i = 0; i < n.children.size(); ++i) {
          uint32_t split = Here();
          bool last = i + 1 == n.children.size();
          if (!last && !Push({I::kSplit, split + 1, 0})) return false;
          if (!Emit(n.children[i])) return false;
          if (!last) {
            jumps.push_back(Here());
            if (!Push({I::kJmp})) return false;
            out_->prog_[split].arg2 = Here();
          }
        }
        for (uint32_t j : jumps) out_->prog_[j].arg = Here();
        return true;
      }
      case Node::kRepeat: {
        const Node& body = n.children[0];
        for (int i = 0; i < n.min; ++i) {
          if (!Emit(body)) return false;
        }
        if (n.max < 0) {  // loop: split body, out; body; jmp loop
          uint32_t loop = Here();
          if (!Push({I::kSplit, loop + 1, 0})) return false;
          if (!Emit(body)) return false;
          if (!Push({I::kJmp, loop})) return false;
          out_->prog_[loop].arg2 = Here();
          return true;
        }
        std::vector<uint32_t> splits;  // each optional copy may be skipped to the end
        for (int i = n.min; i < n.max; ++i) {
          splits.push_back(Here());
          if (!Push({I::kSplit, Here() + 1, 0})) return false;
          if (!Emit(body)) return false;
        }
        for (uint32_t s : splits) out_->prog_[s].arg2 = Here();
        return true;
      }
    }
    return false;
  }

  const std::string& p_;
  size_t pos_ = 0;
  Failure failure_{PatternError::kNone, ""};
  CompiledPattern* out_ = nullptr;
};

std::unique_ptr<CompiledPattern> CompiledPattern::Compile(const std::string& pattern, PatternError* error,
                                                          std::string* message) {
  auto out = std::unique_ptr<CompiledPattern>(new CompiledPattern());
  Failure failure{PatternError::kNone, ""};
  if (!PatternCompiler(pattern).Run(out.get(), &failure)) {
    *error = failure.error;
    *message = failure.message;
    return nullptr;
  }
  *error = PatternError::kNone;
  return out;
}

bool CompiledPattern::FullMatch(const std::string& subject) const {
  std::vector<uint32_t> text;
  for (size_t i = 0; i < subject.size();) text.push_back(NextCodePoint(subject, &i));
  const size_t n = text.size();
  // Threads per position: program counters, each added once per position (marked with the step).
  std::vector<uint64_t> mark(prog_.size(), 0);
  std::vector<uint32_t> current, next, stack;
  uint64_t step = 0;
  auto add = [&](std::vector<uint32_t>& list, uint32_t start, size_t pos) {
    stack.push_back(start);
    while (!stack.empty()) {
      uint32_t pc = stack.back();
      stack.pop_back();
      if (mark[pc] == step) continue;
      mark[pc] = step;
      const Inst& in = prog_[pc];
      switch (in.op) {
        case Inst::kJmp: stack.push_back(in.arg); break;
        case Inst::kSplit: stack.push_back(in.arg2); stack.push_back(in.arg); break;
        case Inst::kBegin: if (pos == 0) stack.push_back(pc + 1); break;
        case Inst::kEnd: if (pos == n) stack.push_back(pc + 1); break;
        default: list.push_back(pc); break;
      }
    }
  };
  ++step;
  add(current, 0, 0);
  for (size_t i = 0; i < n && !current.empty(); ++i) {
    ++step;
    next.clear();
    for (uint32_t pc : current) {
      const Inst& in = prog_[pc];
      bool ok = in.op == Inst::kChar ? in.arg == text[i] : in.op == Inst::kClass && classes_[in.arg].Contains(text[i]);
      if (ok) add(next, pc + 1, i + 1);
    }
    std::swap(current, next);
  }
  for (uint32_t pc : current) {
    if (prog_[pc].op == Inst::kMatch) return true;
  }
  return false;
}

}  // namespace loon
