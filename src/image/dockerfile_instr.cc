// One Dockerfile instruction: keyword, flags and arguments, following BuildKit's
// frontend/dockerfile/parser/line_parsers.go (how each instruction splits its text) and
// instructions/parse.go (what each accepts, and the error wording).

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "common/json.h"
#include "image/dockerfile.h"
#include "image/dockerfile_parse.h"

namespace silo::image {

namespace {

using detail::parse_error;
using detail::split_words;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Whitespace-separated words, quotes not special (parseStringsWhitespaceDelimited).
std::vector<std::string> split_blanks(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_blank(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !is_blank(s[i])) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

constexpr Keyword kAllKeywords[] = {Keyword::From,       Keyword::Run,        Keyword::Cmd,
                                    Keyword::Entrypoint, Keyword::Copy,       Keyword::Add,
                                    Keyword::Env,        Keyword::Arg,        Keyword::Workdir,
                                    Keyword::User,       Keyword::Expose,     Keyword::Label,
                                    Keyword::Volume,     Keyword::StopSignal, Keyword::Healthcheck,
                                    Keyword::Shell,      Keyword::Onbuild,    Keyword::Maintainer};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

Result<Keyword> keyword_of(std::string_view word, int line) {
  std::string up = upper(word);
  for (Keyword k : kAllKeywords)
    if (keyword_name(k) == up) return k;
  std::string msg = "unknown instruction: " + up;
  for (Keyword k : kAllKeywords)
    if (up.size() > 2 && edit_distance(up, keyword_name(k)) <= 2) {
      msg += " (did you mean " + std::string(keyword_name(k)) + "?)";
      break;
    }
  return parse_error(line, msg);
}

// The flags each instruction accepts; `true` marks a boolean flag (`--link`).
std::vector<std::pair<std::string_view, bool>> allowed_flags(Keyword k) {
  switch (k) {
    case Keyword::From:
      return {{"platform", false}};
    case Keyword::Run:
      return {{"mount", false}, {"network", false}, {"security", false}};
    case Keyword::Copy:
      return {{"from", false}, {"chown", false}, {"chmod", false}, {"link", true}};
    case Keyword::Add:
      return {{"chown", false},
              {"chmod", false},
              {"link", true},
              {"checksum", false},
              {"keep-git-dir", true}};
    case Keyword::Healthcheck:
      return {{"interval", false},
              {"timeout", false},
              {"start-period", false},
              {"start-interval", false},
              {"retries", false}};
    default:
      return {};
  }
}

// Takes the leading `--name[=value]` words off `rest` (extractBuilderFlags).
Status take_flags(Instruction& ins, std::string_view& rest) {
  auto allowed = allowed_flags(ins.keyword);
  std::string kw(keyword_name(ins.keyword));
  for (rest = trim(rest); rest.starts_with("--");) {
    size_t end = 0;
    while (end < rest.size() && !is_blank(rest[end])) ++end;
    std::string word(rest.substr(2, end - 2));
    rest = trim(rest.substr(end));
    Flag f;
    size_t eq = word.find('=');
    f.name = word.substr(0, eq);
    if (eq != std::string::npos) {
      f.has_value = true;
      f.value = word.substr(eq + 1);
      if (f.value.size() >= 2 && (f.value.front() == '"' || f.value.front() == '\'') &&
          f.value.back() == f.value.front())
        f.value = f.value.substr(1, f.value.size() - 2);
    }
    auto spec = std::find_if(allowed.begin(), allowed.end(),
                             [&](const auto& a) { return a.first == f.name; });
    if (spec == allowed.end())
      return parse_error(ins.line, "unknown flag: " + f.name + " (on " + kw + ")");
    if (ins.flag(f.name)) return parse_error(ins.line, "duplicate flag specified: " + f.name);
    if (!spec->second && !f.has_value)
      return parse_error(ins.line, "missing a value on flag: --" + f.name);
    if (spec->second && f.has_value && f.value != "true" && f.value != "false")
      return parse_error(ins.line,
                         "expecting boolean value for flag " + f.name + ", not: " + f.value);
    ins.flags.push_back(std::move(f));
  }
  return {};
}

// A JSON array of strings (exec form), or nullopt when `rest` is not one (shell form).
std::optional<std::vector<std::string>> json_strings(std::string_view rest) {
  if (!rest.starts_with("[")) return std::nullopt;
  auto j = parse_json(rest, "arguments");
  if (!j || !j->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const Json& e : *j) {
    if (!e.is_string()) return std::nullopt;
    out.push_back(e.get<std::string>());
  }
  return out;
}

// RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK CMD (parseMaybeJSON).
void maybe_json(Instruction& ins, std::string_view rest) {
  if (auto j = json_strings(rest)) {
    ins.json_form = true;
    ins.args = std::move(*j);
  } else if (!rest.empty()) {
    ins.args = {std::string(rest)};
  }
}

// COPY, ADD, VOLUME (parseMaybeJSONToList).
void maybe_json_list(Instruction& ins, std::string_view rest) {
  if (auto j = json_strings(rest)) {
    ins.json_form = true;
    ins.args = std::move(*j);
  } else {
    ins.args = split_blanks(rest);
  }
}

// A shell word `<<EOF`, `<<-EOF`, `2<<"EOF"`: a heredoc, which Silo's builder does not run.
Status reject_heredoc(const Instruction& ins, char escape) {
  if (ins.json_form) return {};
  for (const std::string& arg : ins.args)
    for (const std::string& w : split_words(arg, escape)) {
      std::string_view s = w;
      while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
      if (!s.starts_with("<<")) continue;
      s.remove_prefix(2);
      if (s.starts_with("-")) s.remove_prefix(1);
      if (!s.empty() && s.find('<') == std::string_view::npos)
        return parse_error(ins.line, "heredocs (" + w + ") are not supported in " +
                                         std::string(keyword_name(ins.keyword)) +
                                         "; put the text in a file in the build context and "
                                         "COPY it, or use printf in RUN");
    }
  return {};
}

// ENV and LABEL: `k=v k2=v2`, or the legacy `ENV k the rest of the line` (parseNameVal).
Status name_values(Instruction& ins, std::string_view rest, char escape) {
  std::string kw(keyword_name(ins.keyword));
  auto words = split_words(rest, escape);
  if (words.empty()) return parse_error(ins.line, kw + " requires at least one argument");
  if (words[0].find('=') == std::string::npos) {
    if (ins.keyword == Keyword::Env || ins.keyword == Keyword::Label) {
      size_t sp = 0;
      while (sp < rest.size() && !is_blank(rest[sp])) ++sp;
      std::string value(trim(rest.substr(sp)));
      if (value.empty()) return parse_error(ins.line, kw + " must have two arguments");
      ins.pairs.push_back({words[0], value, true});
      return {};
    }
  }
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos)
      return parse_error(ins.line, "Syntax error - can't find = in \"" + w +
                                       "\". Must be of the form: name=value");
    if (eq == 0) return parse_error(ins.line, kw + " names can not be blank");
    ins.pairs.push_back({w.substr(0, eq), w.substr(eq + 1), true});
  }
  return {};
}

Status arg_pairs(Instruction& ins, std::string_view rest, char escape) {
  auto words = split_words(rest, escape);
  if (words.empty()) return parse_error(ins.line, "ARG requires at least one argument");
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == 0) return parse_error(ins.line, "ARG names can not be blank");
    if (eq == std::string::npos)
      ins.pairs.push_back({w, "", false});
    else
      ins.pairs.push_back({w.substr(0, eq), w.substr(eq + 1), true});
  }
  return {};
}

Result<int64_t> interval_flag(const Instruction& ins, std::string_view name) {
  const Flag* f = ins.flag(name);
  if (!f || f->value.empty()) return int64_t{0};
  auto d = parse_go_duration(f->value);
  if (!d)
    return parse_error(ins.line, "HEALTHCHECK --" + std::string(name) + ": " + d.error().message);
  if (*d != 0 && *d < 1'000'000)
    return parse_error(ins.line, "Interval \"" + std::string(name) + "\" cannot be less than 1ms");
  return *d;
}

Status healthcheck(Instruction& ins, std::string_view rest) {
  auto words = split_blanks(rest);
  if (words.empty()) return parse_error(ins.line, "HEALTHCHECK requires at least one argument");
  std::string type = upper(words[0]);
  Healthcheck hc;
  if (type == "NONE") {
    if (words.size() > 1) return parse_error(ins.line, "HEALTHCHECK NONE takes no arguments");
    if (!ins.flags.empty())
      return parse_error(ins.line, "HEALTHCHECK NONE takes no flags (--" + ins.flags[0].name + ")");
    hc.test = {"NONE"};
    ins.healthcheck = std::move(hc);
    return {};
  }
  if (type != "CMD")
    return parse_error(ins.line, "Unknown type \"" + words[0] + "\" in HEALTHCHECK (try CMD)");
  maybe_json(ins, trim(trim(rest).substr(words[0].size())));
  if (ins.args.empty()) return parse_error(ins.line, "Missing command after HEALTHCHECK CMD");
  hc.test = ins.json_form ? std::vector<std::string>{"CMD"} : std::vector<std::string>{"CMD-SHELL"};
  hc.test.insert(hc.test.end(), ins.args.begin(), ins.args.end());
  for (auto [name, out] : {std::pair{"interval", &hc.interval_ns},
                           {"timeout", &hc.timeout_ns},
                           {"start-period", &hc.start_period_ns},
                           {"start-interval", &hc.start_interval_ns}}) {
    auto d = interval_flag(ins, name);
    if (!d) return std::unexpected(d.error());
    *out = *d;
  }
  if (const Flag* r = ins.flag("retries")) {
    int v = 0;
    auto [p, ec] = std::from_chars(r->value.data(), r->value.data() + r->value.size(), v);
    if (ec != std::errc() || p != r->value.data() + r->value.size())
      return parse_error(ins.line, "HEALTHCHECK --retries: \"" + r->value + "\" is not a number");
    if (v < 0) return parse_error(ins.line, "--retries cannot be negative (" + r->value + ")");
    hc.retries = v;
  }
  ins.healthcheck = std::move(hc);
  return {};
}

Status from_args(Instruction& ins, std::string_view rest) {
  ins.args = split_blanks(rest);
  bool three = ins.args.size() == 3 && lower(ins.args[1]) == "as";
  if (ins.args.size() != 1 && !three)
    return parse_error(ins.line, "FROM requires either one or three arguments");
  return {};
}

Status onbuild(Instruction& ins, std::string_view rest, char escape) {
  if (rest.empty()) return parse_error(ins.line, "ONBUILD requires at least one argument");
  auto trigger = parse_instruction(rest, ins.line, escape);
  if (!trigger) return std::unexpected(trigger.error());
  if (trigger->keyword == Keyword::Onbuild)
    return parse_error(ins.line, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger->keyword == Keyword::From || trigger->keyword == Keyword::Maintainer)
    return parse_error(ins.line, std::string(keyword_name(trigger->keyword)) +
                                     " isn't allowed as an ONBUILD trigger");
  ins.trigger.push_back(std::move(*trigger));
  return {};
}

Status parse_args(Instruction& ins, std::string_view rest, char escape) {
  std::string kw(keyword_name(ins.keyword));
  switch (ins.keyword) {
    case Keyword::From:
      return from_args(ins, rest);
    case Keyword::Run:
    case Keyword::Cmd:
    case Keyword::Entrypoint:
      maybe_json(ins, rest);
      if (ins.args.empty() && !ins.json_form)
        return parse_error(ins.line, kw + " requires at least one argument");
      return ins.keyword == Keyword::Run ? reject_heredoc(ins, escape) : Status{};
    case Keyword::Copy:
    case Keyword::Add:
      maybe_json_list(ins, rest);
      if (ins.args.size() < 2)
        return parse_error(ins.line, kw + " requires at least two arguments, but only " +
                                         (ins.args.empty() ? "none was" : "one was") +
                                         " provided. Destination could not be determined.");
      return reject_heredoc(ins, escape);
    case Keyword::Env:
    case Keyword::Label:
      return name_values(ins, rest, escape);
    case Keyword::Arg:
      return arg_pairs(ins, rest, escape);
    case Keyword::Workdir:
    case Keyword::User:
    case Keyword::StopSignal:
    case Keyword::Maintainer:
      if (rest.empty()) return parse_error(ins.line, kw + " requires exactly one argument");
      ins.args = {std::string(rest)};
      return {};
    case Keyword::Expose:
      ins.args = split_blanks(rest);
      if (ins.args.empty()) return parse_error(ins.line, "EXPOSE requires at least one argument");
      return {};
    case Keyword::Volume:
      maybe_json_list(ins, rest);
      if (ins.args.empty()) return parse_error(ins.line, "VOLUME requires at least one argument");
      for (const std::string& v : ins.args)
        if (trim(v).empty())
          return parse_error(ins.line, "VOLUME specified can not be an empty string");
      return {};
    case Keyword::Shell:
      maybe_json(ins, rest);
      if (!ins.json_form)
        return parse_error(ins.line, "SHELL requires the arguments to be in JSON form");
      if (ins.args.empty()) return parse_error(ins.line, "SHELL requires at least one argument");
      return {};
    case Keyword::Healthcheck:
      return healthcheck(ins, rest);
    case Keyword::Onbuild:
      return onbuild(ins, rest, escape);
  }
  return parse_error(ins.line, "instruction " + kw + " is not handled");
}

}  // namespace

namespace detail {

// BuildKit's parseWords, byte by byte.
std::vector<std::string> split_words(std::string_view rest, char escape) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  std::vector<std::string> words;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= rest.size(); ++pos) {
    char ch = pos < rest.size() ? rest[pos] : 0;
    if (phase == kSpaces) {
      if (pos == rest.size()) break;
      if (is_blank(ch) || ch == '\n') continue;
      phase = kWord;
    }
    if (pos == rest.size()) {
      if (blank_ok || !word.empty()) words.push_back(word);
      break;
    }
    if (phase == kWord) {
      if (is_blank(ch) || ch == '\n') {
        phase = kSpaces;
        if (blank_ok || !word.empty()) words.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
      }
      if (ch == escape) {
        if (pos + 1 == rest.size()) continue;  // an escape at the very end is dropped
        word += ch;
        ch = rest[++pos];
      }
      word += ch;
      continue;
    }
    if (ch == quote) phase = kWord;
    if (ch == escape && quote != '\'') {  // nothing escapes inside '...'
      if (pos + 1 == rest.size()) {
        phase = kWord;
        continue;
      }
      word += ch;
      ch = rest[++pos];
    }
    word += ch;
  }
  return words;
}

}  // namespace detail

Result<Instruction> parse_instruction(std::string_view text, int line, char escape) {
  std::string_view s = trim(text);
  size_t end = 0;
  while (end < s.size() && !is_blank(s[end])) ++end;
  Instruction ins;
  ins.line = line;
  ins.escape = escape;
  ins.original = std::string(s);
  auto kw = keyword_of(s.substr(0, end), line);
  if (!kw) return std::unexpected(kw.error());
  ins.keyword = *kw;
  std::string_view rest = s.substr(end);
  SILO_TRY(take_flags(ins, rest));
  ins.rest = std::string(rest);
  SILO_TRY(parse_args(ins, rest, escape));
  return ins;
}

}  // namespace silo::image
