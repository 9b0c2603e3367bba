#include "engine/units.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <string>

namespace silo::engine {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A non-negative decimal "123" or "1.25" at the front of `s`: integer part, fraction
// digits (as written), and how many characters were used. false when none.
struct Decimal {
  std::string whole;
  std::string frac;
  size_t used = 0;
};

bool take_decimal(std::string_view s, Decimal& out) {
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) out.whole.push_back(s[i++]);
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && is_digit(s[j])) out.frac.push_back(s[j++]);
    if (!out.frac.empty() || !out.whole.empty()) i = j;
  }
  out.used = i;
  return !out.whole.empty() || !out.frac.empty();
}

// size * multiplier, truncated like go-units' int64(float64 * float64).
Result<int64_t> scale(const Decimal& d, int64_t mul, std::string_view text) {
  long double v = std::stold("0" + d.whole + "." + d.frac + "0") * static_cast<long double>(mul);
  if (v >= static_cast<long double>(kMax))
    return fail(Code::Invalid, "invalid size: '" + std::string(text) + "'");
  return static_cast<int64_t>(v);
}

Result<int64_t> parse_size(std::string_view text, int64_t base) {
  auto bad = [&] { return fail(Code::Invalid, "invalid size: '" + std::string(text) + "'"); };
  Decimal d;
  if (!take_decimal(text, d) || d.whole.empty()) return bad();
  std::string_view rest = text.substr(d.used);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  int64_t mul = 1;
  static constexpr std::string_view kPrefixes = "kmgtp";
  if (!rest.empty()) {
    size_t p = kPrefixes.find(static_cast<char>(std::tolower(static_cast<unsigned char>(rest[0]))));
    if (p != std::string_view::npos) {
      for (size_t i = 0; i <= p; ++i) mul *= base;
      rest.remove_prefix(1);
      if (!rest.empty() && (rest[0] == 'i' || rest[0] == 'I')) rest.remove_prefix(1);
    }
  }
  if (!rest.empty() && (rest[0] == 'b' || rest[0] == 'B')) rest.remove_prefix(1);
  if (!rest.empty()) return bad();
  return scale(d, mul, text);
}

// Multiplies with an overflow check.
bool mul_add(int64_t a, int64_t b, int64_t c, int64_t& out) {
  __int128 v = static_cast<__int128>(a) * b + c;
  if (v > kMax) return false;
  out = static_cast<int64_t>(v);
  return true;
}

int64_t unit_nanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return 1000;
  if (unit == "ms") return 1000000;
  if (unit == "s") return 1000000000;
  if (unit == "m") return 60LL * 1000000000;
  if (unit == "h") return 3600LL * 1000000000;
  return 0;
}

// One "<decimal><unit>" element of a duration, in nanoseconds.
Result<int64_t> duration_element(std::string_view& s, std::string_view text) {
  std::string quoted = "\"" + std::string(text) + "\"";
  Decimal d;
  if (!take_decimal(s, d)) return fail(Code::Invalid, "time: invalid duration " + quoted);
  s.remove_prefix(d.used);
  size_t n = 0;
  while (n < s.size() && s[n] != '.' && !is_digit(s[n])) ++n;
  if (n == 0) return fail(Code::Invalid, "time: missing unit in duration " + quoted);
  std::string_view unit = s.substr(0, n);
  s.remove_prefix(n);
  int64_t per = unit_nanos(unit);
  if (per == 0)
    return fail(Code::Invalid,
                "time: unknown unit \"" + std::string(unit) + "\" in duration " + quoted);
  int64_t whole = 0;
  for (char c : d.whole)
    if (!mul_add(whole, 10, c - '0', whole))
      return fail(Code::Invalid, "time: invalid duration " + quoted);
  int64_t total = 0;
  if (!mul_add(whole, per, 0, total))
    return fail(Code::Invalid, "time: invalid duration " + quoted);
  // The fraction, exactly: frac/10^len * per, truncated (digits past 18 cannot matter).
  long double frac = 0, scale_div = 1;
  for (size_t i = 0; i < d.frac.size() && i < 18; ++i) {
    frac = frac * 10 + (d.frac[i] - '0');
    scale_div *= 10;
  }
  int64_t extra = static_cast<int64_t>(frac * static_cast<long double>(per) / scale_div);
  if (!mul_add(total, 1, extra, total))
    return fail(Code::Invalid, "time: invalid duration " + quoted);
  return total;
}

}  // namespace

Result<int64_t> ram_in_bytes(std::string_view text) {
  return parse_size(text, 1024);
}

Result<int64_t> from_human_size(std::string_view text) {
  return parse_size(text, 1000);
}

Result<int64_t> parse_nano_cpus(std::string_view text) {
  Decimal d;
  if (!take_decimal(text, d) || d.used != text.size())
    return fail(Code::Invalid, "failed to parse " + std::string(text) + " as a rational number");
  while (!d.frac.empty() && d.frac.back() == '0') d.frac.pop_back();
  if (d.frac.size() > 9) return fail(Code::Invalid, "value is too precise");
  std::string digits = d.whole + d.frac + std::string(9 - d.frac.size(), '0');
  int64_t v = 0;
  for (char c : digits)
    if (!mul_add(v, 10, c - '0', v))
      return fail(Code::Invalid, "value is too large: " + std::string(text));
  return v;
}

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return fail(Code::Invalid, "time: invalid duration \"" + std::string(text) + "\"");
  int64_t total = 0;
  while (!s.empty()) {
    auto part = duration_element(s, text);
    if (!part) return std::unexpected(part.error());
    if (!mul_add(total, 1, *part, total))
      return fail(Code::Invalid, "time: invalid duration \"" + std::string(text) + "\"");
  }
  return std::chrono::nanoseconds(negative ? -total : total);
}

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
}

// "1700000000" or "1700000000.123": Unix seconds with an optional fraction.
std::optional<int64_t> unix_seconds(std::string_view v) {
  size_t dot = v.find('.');
  auto secs = v.substr(0, dot);
  if (!all_digits(secs)) return std::nullopt;
  int64_t ns = std::stoll(std::string(secs)) * 1000000000;
  if (dot == std::string_view::npos) return ns;
  auto frac = v.substr(dot + 1);
  if (frac.empty()) return ns;
  if (!all_digits(frac)) return std::nullopt;
  std::string digits(frac.substr(0, 9));
  digits.resize(9, '0');
  return ns + std::stoll(digits);
}

// RFC 3339 and the shorter layouts dockerd accepts ("2006-01-02T15:04:05",
// "2006-01-02T15:04", "2006-01-02"), UTC unless an offset is given.
std::optional<int64_t> rfc3339(std::string_view v) {
  std::string s(v);
  tm t{};
  const char* rest = nullptr;
  for (const char* layout : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    t = tm{};
    rest = ::strptime(s.c_str(), layout, &t);
    if (rest) break;
  }
  if (!rest) return std::nullopt;
  int64_t ns = static_cast<int64_t>(::timegm(&t)) * 1000000000;
  std::string_view tail(rest);
  if (tail.starts_with(".")) {
    size_t n = 1;
    while (n < tail.size() && std::isdigit(static_cast<unsigned char>(tail[n]))) ++n;
    std::string digits(tail.substr(1, std::min<size_t>(n - 1, 9)));
    digits.resize(9, '0');
    ns += std::stoll(digits);
    tail.remove_prefix(n);
  }
  if (tail.empty() || tail == "Z") return ns;
  if (tail.size() == 6 && (tail[0] == '+' || tail[0] == '-') && tail[3] == ':') {
    int h = std::atoi(std::string(tail.substr(1, 2)).c_str());
    int m = std::atoi(std::string(tail.substr(4, 2)).c_str());
    int64_t off = (h * 3600 + m * 60) * int64_t{1000000000};
    return tail[0] == '+' ? ns - off : ns + off;
  }
  return std::nullopt;
}

}  // namespace

int64_t rfc3339_seconds(std::string_view text) {
  std::string s(text);
  tm t{};
  if (s.empty() || !::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &t)) return 0;
  return static_cast<int64_t>(::timegm(&t));
}

Result<int64_t> parse_docker_time(std::string_view value, int64_t now_nano) {
  if (auto ns = unix_seconds(value)) return *ns;
  if (auto ns = rfc3339(value)) return *ns;
  if (auto d = parse_duration(value)) return now_nano - d->count();
  return fail(Code::Invalid,
              "failed to parse value as time or duration: \"" + std::string(value) + "\"");
}

}  // namespace silo::engine
