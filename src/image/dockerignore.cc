#include "image/dockerignore.h"

#include <cctype>

// Hand-written because Debian has no library with Docker's ignore semantics (fnmatch(3)
// has no "**", and gitignore's rules differ: no anchoring to the root, "!" cannot
// re-include below an excluded directory there). Patterns become ECMAScript regexes the
// way patternmatcher builds its Go regexps.

namespace silo::image {

namespace {

// The characters a regex gives meaning to that a pattern does not.
bool needs_escape(char c) {
  return std::string_view(".+()|{}$^").find(c) != std::string_view::npos;
}

// patternmatcher's compile(): `*` -> [^/]*, `?` -> [^/], `**/` -> (.*/)?, a trailing
// `**` -> .*, `\x` -> literal x, `[...]` kept as a class ("[!...]" negates, as in Go).
std::string to_regex(std::string_view p) {
  std::string re = "^";
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '*') {
      if (i + 1 < p.size() && p[i + 1] == '*') {
        ++i;
        if (i + 1 < p.size() && p[i + 1] == '/') ++i;
        re += i + 1 == p.size() ? ".*" : "(.*/)?";
      } else {
        re += "[^/]*";
      }
    } else if (c == '?') {
      re += "[^/]";
    } else if (c == '\\') {
      if (i + 1 < p.size() && std::isalnum(static_cast<unsigned char>(p[i + 1])))
        re += p[++i];
      else if (i + 1 < p.size())
        re += std::string("\\") + p[++i];
      else
        re += "\\\\";
    } else if (c == '[') {
      re += '[';
      if (i + 1 < p.size() && (p[i + 1] == '!' || p[i + 1] == '^')) re += '^', ++i;
    } else if (needs_escape(c)) {
      re += std::string("\\") + c;
    } else {
      re += c;
    }
  }
  return re + "$";
}

Result<IgnoreMatcher::Pattern> compile(std::string_view line) {
  IgnoreMatcher::Pattern p;
  std::string_view s = line;
  if (s.starts_with("!")) {
    p.exception = true;
    s.remove_prefix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    if (s.empty()) return fail(Code::Invalid, "illegal exclusion pattern: \"!\"");
  }
  p.text = clean_path(s);
  if (p.text.size() > 1 && p.text.front() == '/') p.text.erase(0, 1);
  try {
    p.regex = std::regex(to_regex(p.text), std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error&) {
    return fail(Code::Invalid, "pattern \"" + std::string(line) + "\": syntax error in pattern");
  }
  return p;
}

}  // namespace

std::string clean_path(std::string_view path) {
  bool rooted = path.starts_with("/");
  std::vector<std::string_view> out;
  for (size_t i = 0; i <= path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view e = path.substr(i, j - i);
    if (e == "..") {
      if (!out.empty() && out.back() != "..")
        out.pop_back();
      else if (!rooted)
        out.push_back(e);
    } else if (!e.empty() && e != ".") {
      out.push_back(e);
    }
    i = j + 1;
  }
  std::string s = rooted ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) s += (i ? "/" : "") + std::string(out[i]);
  return s.empty() ? "." : s;
}

Result<IgnoreMatcher> IgnoreMatcher::parse(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<std::string> lines;
  for (size_t i = 0; i <= text.size();) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    lines.emplace_back(text.substr(i, j - i));
    i = j + 1;
  }
  IgnoreMatcher m;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view s = lines[n];
    while (!s.empty() && std::string_view(" \t\r").find(s.back()) != std::string_view::npos)
      s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    if (s.empty() || s.front() == '#') continue;
    auto p = compile(s);
    if (!p) return wrap(p.error(), ".dockerignore line " + std::to_string(n + 1));
    m.patterns_.push_back(std::move(*p));
  }
  return m;
}

Result<IgnoreMatcher> IgnoreMatcher::from_patterns(const std::vector<std::string>& lines) {
  IgnoreMatcher m;
  for (const std::string& l : lines) {
    if (l.empty()) continue;
    auto p = compile(l);
    if (!p) return std::unexpected(p.error());
    m.patterns_.push_back(std::move(*p));
  }
  return m;
}

bool IgnoreMatcher::excluded(std::string_view path) const {
  std::string file = clean_path(path);
  if (file.starts_with("/")) file.erase(0, 1);
  // The parents: "a", "a/b" for "a/b/c".
  std::vector<std::string> parents;
  for (size_t j = file.find('/'); j != std::string::npos; j = file.find('/', j + 1))
    parents.push_back(file.substr(0, j));
  bool matched = false;
  for (const Pattern& p : patterns_) {
    // An exception only matters once something matched, a pattern only while nothing has.
    if (p.exception != matched) continue;
    bool match = std::regex_match(file, p.regex);
    for (size_t i = 0; !match && i < parents.size(); ++i)
      match = std::regex_match(parents[i], p.regex);
    if (match) matched = !p.exception;
  }
  return matched;
}

bool IgnoreMatcher::may_include_inside(std::string_view dir) const {
  std::string prefix = clean_path(dir) + "/";
  for (const Pattern& p : patterns_) {
    if (!p.exception) continue;
    // Docker's check (fileutils walk): an exception whose text starts with the directory,
    // or one with a wildcard, which might match anywhere.
    if ((p.text + "/").starts_with(prefix)) return true;
    if (p.text.find_first_of("*?[\\") != std::string::npos) return true;
  }
  return false;
}

}  // namespace silo::image
