#include "image/shell_words.h"

#include <cctype>
#include <vector>

// A hand-written lexer because no Debian library implements Dockerfile word expansion
// (it is a subset of POSIX sh expansion with Docker's own escape character and no field
// splitting, globbing or command substitution). The structure follows BuildKit's
// shell_parser.go: one recursive "process until a stop character" routine.

namespace silo::image {

namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

class Expander {
 public:
  Expander(std::string_view s, const Vars& vars, char escape)
      : s_(s), vars_(vars), escape_(escape) {}

  // Processes up to `stop` (consumed) or the end when stop is 0.
  Result<std::string> process(char stop) {
    std::string out;
    while (pos_ < s_.size()) {
      char ch = s_[pos_];
      if (stop && ch == stop) {
        ++pos_;
        return out;
      }
      if (ch == '\'') {
        SILO_TRY(single_quoted(out));
      } else if (ch == '"') {
        SILO_TRY(double_quoted(out));
      } else if (ch == '$') {
        SILO_TRY(dollar(out));
      } else if (ch == escape_) {
        ++pos_;  // the escaped character is literal; a trailing escape is dropped
        if (pos_ < s_.size()) out += s_[pos_++];
      } else {
        out += ch;
        ++pos_;
      }
    }
    if (stop)
      return fail(Code::Invalid, "syntax error: missing '}' in \"" + std::string(s_) + "\"");
    return out;
  }

 private:
  Status single_quoted(std::string& out) {
    size_t end = s_.find('\'', pos_ + 1);
    if (end == std::string_view::npos)
      return fail(Code::Invalid,
                  "unexpected end of statement while looking for matching "
                  "single-quote in \"" +
                      std::string(s_) + "\"");
    out += s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return {};
  }

  Status double_quoted(std::string& out) {
    for (++pos_; pos_ < s_.size();) {
      char ch = s_[pos_];
      if (ch == '"') {
        ++pos_;
        return {};
      }
      if (ch == '$') {
        SILO_TRY(dollar(out));
        continue;
      }
      // Inside "...", the escape character only escapes ", $ and itself.
      if (ch == escape_ && pos_ + 1 < s_.size()) {
        char next = s_[pos_ + 1];
        if (next == '"' || next == '$' || next == escape_) ++pos_, ch = next;
      }
      out += ch;
      ++pos_;
    }
    return fail(Code::Invalid,
                "unexpected end of statement while looking for matching "
                "double-quote in \"" +
                    std::string(s_) + "\"");
  }

  std::string name() {
    size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  const std::string* lookup(const std::string& n) const {
    auto it = vars_.find(n);
    return it == vars_.end() ? nullptr : &it->second;
  }

  Status dollar(std::string& out) {
    ++pos_;
    if (pos_ >= s_.size()) return out += '$', Status{};
    if (s_[pos_] != '{') {
      std::string n = name();
      if (n.empty()) return out += '$', Status{};
      if (const std::string* v = lookup(n)) out += *v;
      return {};
    }
    ++pos_;
    std::string n = name();
    if (pos_ >= s_.size())
      return fail(Code::Invalid, "syntax error: missing '}' in \"" + std::string(s_) + "\"");
    if (n.empty())
      return fail(Code::Invalid, "bad substitution in \"" + std::string(s_) +
                                     "\": ${ must be followed by a variable name");
    char c = s_[pos_++];
    if (c == '}') {
      if (const std::string* v = lookup(n)) out += *v;
      return {};
    }
    bool colon = c == ':';
    if (colon) {
      if (pos_ >= s_.size()) return fail(Code::Invalid, "syntax error: missing '}'");
      c = s_[pos_++];
    }
    if (c != '-' && c != '+' && c != '?')
      return fail(Code::Invalid, std::string("unsupported modifier (") + (colon ? ":" : "") + c +
                                     ") in substitution \"" + std::string(s_) +
                                     "\"; Dockerfiles allow :-, -, :+, +, :? and ?");
    auto word = process('}');
    if (!word) return std::unexpected(word.error());
    const std::string* v = lookup(n);
    bool set = v != nullptr && (!colon || !v->empty());
    if (c == '-') out += set ? *v : *word;
    if (c == '+' && set) out += *word;
    if (c == '?') {
      if (!set)
        return fail(Code::Invalid,
                    n + ": " + (word->empty() ? "is not allowed to be unset" : *word));
      out += *v;
    }
    return {};
  }

  std::string_view s_;
  size_t pos_ = 0;
  const Vars& vars_;
  char escape_;
};

}  // namespace

Result<std::string> expand_word(std::string_view word, const Vars& vars, char escape) {
  return Expander(word, vars, escape).process(0);
}

Vars vars_from_env(const std::vector<std::string>& env) {
  Vars out;
  for (const std::string& kv : env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos)
      out[kv] = "";
    else
      out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

}  // namespace silo::image
