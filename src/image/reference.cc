#include "image/reference.h"

#include <algorithm>

// Written by hand: no Debian C++ library parses Docker references. The grammar is
// distribution/reference's (reference.go), matched without std::regex so that a long
// hostile input cannot exhaust the stack (libstdc++'s regex recurses per character).
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain "/"] path-component ["/" path-component]*
//   domain           := host [":" port-number]
//   host             := domain-name | "[" IPv6address "]"
//   domain-name      := domain-component ["." domain-component]*
//   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//   path-component   := alpha-numeric [separator alpha-numeric]*
//   alpha-numeric    := /[a-z0-9]+/
//   separator        := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" /[0-9a-fA-F]{32,}/
//   algorithm        := /[A-Za-z][A-Za-z0-9]*/ [ /[+.-_]/ /[A-Za-z][A-Za-z0-9]*/ ]*

namespace silo::image {

namespace {

constexpr size_t kNameTotalLengthMax = 255;
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kOfficialRepoPrefix = "library/";

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool any_alnum(char c) {
  return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool word(char c) {
  return any_alnum(c) || c == '_';
}
bool hex_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}

bool path_component(std::string_view s) {
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && lower_alnum(s[i])) ++i;
    if (i == start) return false;  // every run of separators sits between alphanumerics
    if (i == s.size()) return true;
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
  }
}

bool domain_component(std::string_view s) {
  if (s.empty() || !any_alnum(s.front()) || !any_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return any_alnum(c) || c == '-'; });
}

bool domain(std::string_view s) {
  std::string_view host = s;
  if (!s.empty() && s.front() == '[') {  // [IPv6]:port, as distribution/reference v0.6 accepts
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view inner = s.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(), [](char c) { return hex_char(c) || c == ':'; }))
      return false;
    std::string_view rest = s.substr(close + 1);
    if (rest.empty()) return true;
    return rest.size() > 1 && rest[0] == ':' && std::all_of(rest.begin() + 1, rest.end(), digit);
  }
  if (auto colon = s.find(':'); colon != std::string_view::npos) {
    std::string_view port = s.substr(colon + 1);
    if (port.empty() || !std::all_of(port.begin(), port.end(), digit)) return false;
    host = s.substr(0, colon);
  }
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    if (!domain_component(host.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool tag(std::string_view s) {
  if (s.empty() || s.size() > 128 || !word(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return word(c) || c == '.' || c == '-'; });
}

bool digest_grammar(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view alg = s.substr(0, colon), hex = s.substr(colon + 1);
  if (hex.size() < 32 || !std::all_of(hex.begin(), hex.end(), hex_char)) return false;
  bool need_letter = true;
  for (char c : alg) {
    if (need_letter) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
      need_letter = false;
    } else if (c == '+' || c == '.' || c == '-' || c == '_') {
      need_letter = true;
    } else if (!any_alnum(c)) {
      return false;
    }
  }
  return !need_letter;
}

struct Parts {
  std::string_view domain, path, tag, digest;
  bool has_tag = false, has_digest = false;
};

// Matches `s` ("domain/path[:tag][@digest]", the domain always present) against the grammar.
bool match(std::string_view s, Parts& p) {
  if (auto at = s.find('@'); at != std::string_view::npos) {
    p.digest = s.substr(at + 1);
    p.has_digest = true;
    s = s.substr(0, at);
    if (!digest_grammar(p.digest)) return false;
  }
  if (auto colon = s.rfind(':');
      colon != std::string_view::npos && s.find('/', colon) == std::string_view::npos) {
    p.tag = s.substr(colon + 1);
    p.has_tag = true;
    s = s.substr(0, colon);
    if (!tag(p.tag)) return false;
  }
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  p.domain = s.substr(0, slash);
  p.path = s.substr(slash + 1);
  if (!domain(p.domain)) return false;
  size_t start = 0;
  while (true) {
    size_t next = p.path.find('/', start);
    if (!path_component(p.path.substr(start, next - start))) return false;
    if (next == std::string_view::npos) return true;
    start = next + 1;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// splitDockerDomain: the first component is a registry only if it looks like a host
// (has a '.' or a ':', or is "localhost") or has uppercase letters, which a path cannot.
std::pair<std::string, std::string> split_docker_domain(std::string_view name) {
  std::string dom, rest;
  auto i = name.find('/');
  std::string_view first = i == std::string_view::npos ? name : name.substr(0, i);
  if (i == std::string_view::npos || (first.find_first_of(".:") == std::string_view::npos &&
                                      first != "localhost" && lower(first) == first)) {
    dom = kDefaultDomain;
    rest = name;
  } else {
    dom = first;
    rest = name.substr(i + 1);
  }
  if (dom == kLegacyDefaultDomain) dom = kDefaultDomain;
  if (dom == kDefaultDomain && rest.find('/') == std::string::npos)
    rest = std::string(kOfficialRepoPrefix) + rest;
  return {dom, rest};
}

}  // namespace

bool is_full_identifier(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return digit(c) || (c >= 'a' && c <= 'f');
         });
}

std::string Reference::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string Reference::familiar_name() const {
  if (domain != kDefaultDomain) return name();
  std::string_view p = path;
  // Docker would show docker.io/my.org/app as "my.org/app", which reads back as registry
  // my.org; keep the domain when the first component would be taken for a host.
  std::string_view first = p.substr(0, p.find('/'));
  if (p.find('/') != std::string_view::npos &&
      (first.find_first_of(".:") != std::string_view::npos || first == "localhost"))
    return name();
  if (p.starts_with(kOfficialRepoPrefix) &&
      p.find('/', kOfficialRepoPrefix.size()) == std::string_view::npos)
    p.remove_prefix(kOfficialRepoPrefix.size());
  return std::string(p);
}

std::string Reference::familiar_str() const {
  std::string s = familiar_name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

Result<Reference> parse_reference(std::string_view text, bool default_tag) {
  if (is_full_identifier(text))
    return fail(Code::Invalid, "invalid repository name (" + std::string(text) +
                                   "), cannot specify 64-byte hexadecimal strings");
  auto [dom, rest] = split_docker_domain(text);
  std::string_view remote = std::string_view(rest).substr(0, rest.find(':'));
  if (lower(remote) != remote)
    return fail(Code::Invalid, "invalid reference format: repository name must be lowercase");
  std::string full = dom + "/" + rest;
  Parts p;
  if (!match(full, p)) {
    Parts ignored;
    if (match(lower(full), ignored))
      return fail(Code::Invalid, "invalid reference format: repository name must be lowercase");
    return fail(Code::Invalid, "invalid reference format");
  }
  if (p.domain.size() + 1 + p.path.size() > kNameTotalLengthMax)
    return fail(Code::Invalid, "repository name must not be more than 255 characters");
  Reference ref{std::string(p.domain), std::string(p.path), std::string(p.tag), std::nullopt};
  if (p.has_digest) {
    auto d = Digest::parse(p.digest);
    if (!d) return std::unexpected(d.error());
    ref.digest = std::move(*d);
  }
  if (default_tag && ref.tag.empty() && !ref.digest) ref.tag = kDefaultTag;
  return ref;
}

}  // namespace silo::image
