#include "image/dockerfile.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "image/dockerfile_parse.h"

// The line handling follows BuildKit's frontend/dockerfile/parser/parser.go: parser
// directives only at the very top, comment lines dropped (also inside a continued
// instruction), a line ending in the escape character (plus blanks) continues on the next
// one, and empty continuation lines are skipped (Docker warns about them; they still parse).

namespace silo::image {

namespace {

using detail::parse_error;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

bool is_comment(std::string_view line) {
  line = trim_left(line);
  return !line.empty() && line.front() == '#';
}

// Removes a trailing escape character (and the blanks after it). True when there was one,
// i.e. the instruction continues on the next line.
bool trim_continuation(std::string& line, char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) --end;
  if (end == 0 || line[end - 1] != escape) {
    if (end < line.size() && line.back() == '\r') line.pop_back();
    return false;
  }
  line.resize(end - 1);
  return true;
}

// The directives at the top of the file: `# escape=`` and `# syntax=...` (ignored: Silo
// has one frontend). Reading stops at the first line that is not a directive.
class Directives {
 public:
  // Returns false once `line` ends the directive block.
  Result<bool> take(std::string_view line, int line_no) {
    if (done_) return false;
    std::string_view s = trim_left(line);
    if (s.empty() || s.front() != '#') return done_ = true, false;
    s = trim(s.substr(1));
    size_t eq = s.find('=');
    std::string key = lower(trim(s.substr(0, eq == std::string_view::npos ? 0 : eq)));
    bool word = !key.empty() && std::isalpha(static_cast<unsigned char>(key[0])) &&
                std::all_of(key.begin(), key.end(), [](char c) { return std::isalnum(c); });
    if (eq == std::string_view::npos || !word) return done_ = true, false;
    std::string value(trim(s.substr(eq + 1)));
    if (key != "escape" && key != "syntax" && key != "check") return done_ = true, false;
    if (!seen_.insert(key).second)
      return parse_error(line_no, "only one " + key + " parser directive can be used");
    if (key == "escape") {
      if (value != "\\" && value != "`")
        return parse_error(line_no, "invalid escape token '" + value + "' does not match ` or \\");
      escape_ = value[0];
    }
    return true;
  }
  char escape() const { return escape_; }

 private:
  bool done_ = false;
  char escape_ = '\\';
  std::set<std::string> seen_;
};

// The logical lines of the file: each instruction with its continuations joined.
struct LogicalLine {
  int line;
  std::string text;
};

Result<std::pair<std::vector<LogicalLine>, char>> logical_lines(std::string_view text) {
  std::vector<std::string> raw;
  for (size_t start = 0; start <= text.size();) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    raw.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (!raw.empty() && raw[0].starts_with("\xEF\xBB\xBF")) raw[0].erase(0, 3);  // UTF-8 BOM
  Directives directives;
  std::vector<LogicalLine> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto directive = directives.take(raw[i], static_cast<int>(i + 1));
    if (!directive) return std::unexpected(directive.error());
    if (*directive || is_comment(raw[i])) continue;
    int start = static_cast<int>(i + 1);
    std::string line(trim_left(raw[i]));
    bool more = trim_continuation(line, directives.escape());
    if (!more && trim(line).empty()) continue;
    while (more && i + 1 < raw.size()) {
      std::string next = raw[++i];
      if (is_comment(next) || trim(next).empty()) continue;
      more = trim_continuation(next, directives.escape());
      line += next;
    }
    if (trim(line).empty()) continue;
    out.push_back({start, std::move(line)});
  }
  return std::pair{std::move(out), directives.escape()};
}

bool is_stage_name(std::string_view name) {
  if (name.empty() || !std::islower(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

Result<Stage> new_stage(Instruction from, size_t index, const std::vector<Stage>& before) {
  Stage s;
  s.index = index;
  s.base = from.args[0];
  if (const Flag* p = from.flag("platform")) s.platform = p->value;
  if (from.args.size() == 3) {
    s.name = lower(from.args[2]);
    if (!is_stage_name(s.name))
      return parse_error(from.line, "invalid name for build stage: \"" + from.args[2] +
                                        "\", name can't start with a number or contain symbols");
    for (const Stage& b : before)
      if (b.name == s.name)
        return parse_error(from.line, "duplicate stage name \"" + s.name + "\"");
  }
  s.from = std::move(from);
  return s;
}

}  // namespace

namespace detail {

std::unexpected<Error> parse_error(int line, std::string_view what) {
  return fail(Code::Invalid,
              "Dockerfile parse error line " + std::to_string(line) + ": " + std::string(what));
}

}  // namespace detail

std::string_view keyword_name(Keyword k) {
  static constexpr std::string_view kNames[] = {
      "FROM",   "RUN",        "CMD",         "ENTRYPOINT", "COPY",    "ADD",
      "ENV",    "ARG",        "WORKDIR",     "USER",       "EXPOSE",  "LABEL",
      "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "SHELL",      "ONBUILD", "MAINTAINER"};
  return kNames[static_cast<size_t>(k)];
}

const Flag* Instruction::flag(std::string_view name) const {
  for (const Flag& f : flags)
    if (f.name == name) return &f;
  return nullptr;
}

const Stage* Dockerfile::find_stage(std::string_view name_or_index) const {
  std::string name = lower(name_or_index);
  for (const Stage& s : stages)
    if (!s.name.empty() && s.name == name) return &s;
  size_t index = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
  if (ec == std::errc() && p == name.data() + name.size() && index < stages.size())
    return &stages[index];
  return nullptr;
}

Result<Dockerfile> parse_dockerfile(std::string_view text) {
  auto lines = logical_lines(text);
  if (!lines) return std::unexpected(lines.error());
  Dockerfile df;
  df.escape = lines->second;
  for (const LogicalLine& l : lines->first) {
    auto ins = parse_instruction(l.text, l.line, df.escape);
    if (!ins) return std::unexpected(ins.error());
    if (ins->keyword == Keyword::From) {
      auto stage = new_stage(std::move(*ins), df.stages.size(), df.stages);
      if (!stage) return std::unexpected(stage.error());
      df.stages.push_back(std::move(*stage));
    } else if (df.stages.empty() && ins->keyword == Keyword::Arg) {
      df.meta_args.push_back(std::move(*ins));
    } else if (df.stages.empty()) {
      return parse_error(
          l.line, "no build stage in current context: " + std::string(keyword_name(ins->keyword)) +
                      " must come after a FROM (only ARG may come before it)");
    } else {
      df.stages.back().instructions.push_back(std::move(*ins));
    }
  }
  if (df.stages.empty())
    return fail(Code::Invalid,
                "Dockerfile parse error: file with no instructions: a Dockerfile needs at "
                "least a FROM");
  return df;
}

// Go's time.ParseDuration: a sequence of decimal numbers with units ("1h30m", "1.5s").
Result<int64_t> parse_go_duration(std::string_view text) {
  auto bad = [&] {
    return fail(Code::Invalid, "time: invalid duration \"" + std::string(text) +
                                   "\" (write it as Go does: 30s, 1m30s, 500ms, 2h)");
  };
  std::string_view s = text;
  bool neg = s.starts_with("-");
  if (neg || s.starts_with("+")) s.remove_prefix(1);
  if (s == "0") return int64_t{0};
  if (s.empty()) return bad();
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ns", 1},         {"us", 1'000},        {"\xC2\xB5s", 1'000},  {"\xCE\xBCs", 1'000},
      {"ms", 1'000'000}, {"s", 1'000'000'000}, {"m", 60'000'000'000}, {"h", 3'600'000'000'000}};
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    std::string_view number = s.substr(0, i);
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1)
      return bad();
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    auto it = std::find_if(std::begin(kUnits), std::end(kUnits),
                           [&](const auto& k) { return k.first == unit; });
    if (it == std::end(kUnits)) return bad();
    total += std::stold(std::string(number)) * static_cast<long double>(it->second);
    if (total > 9.2e18L) return bad();
  }
  auto ns = static_cast<int64_t>(total + 0.5L);
  return neg ? -ns : ns;
}

namespace {
// "<int>[.<frac without trailing zeros>]" for v / 10^digits.
std::string decimal(uint64_t v, int digits) {
  uint64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  std::string out = std::to_string(v / scale);
  std::string frac = std::to_string(v % scale);
  frac.insert(0, static_cast<size_t>(digits) - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? out : out + "." + frac;
}
}  // namespace

std::string format_go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? uint64_t(0) - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  if (u < 1'000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + decimal(u, 3) + "\xC2\xB5s";
  if (u < 1'000'000'000) return sign + decimal(u, 6) + "ms";
  uint64_t secs = u / 1'000'000'000, minutes = secs / 60, hours = minutes / 60;
  std::string out = sign;
  if (hours) out += std::to_string(hours) + "h";
  if (minutes) out += std::to_string(minutes % 60) + "m";
  return out + decimal((secs % 60) * 1'000'000'000 + u % 1'000'000'000, 9) + "s";
}

}  // namespace silo::image
