#include "engine/names.h"

#include <array>
#include <random>

namespace silo::engine {
namespace {

constexpr std::string_view kAllowed = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

// Our own lists (not Docker's): friendly adjectives and surnames of people who shaped
// computing, mathematics and science.
constexpr std::array<std::string_view, 52> kAdjectives = {
    "agile",  "amber",   "ample",    "ardent", "azure",  "bold",   "brave",   "breezy", "bright",
    "calm",   "candid",  "cheery",   "civic",  "clever", "cosmic", "crisp",   "daring", "deft",
    "eager",  "earnest", "fearless", "fluent", "frank",  "gentle", "glad",    "golden", "hardy",
    "humble", "jolly",   "keen",     "kind",   "lively", "lucid",  "mellow",  "merry",  "nimble",
    "noble",  "patient", "placid",   "plucky", "proud",  "quiet",  "radiant", "serene", "steady",
    "sunny",  "swift",   "tidy",     "upbeat", "vivid",  "witty",  "zesty"};

constexpr std::array<std::string_view, 52> kSurnames = {
    "abel",     "agnesi",     "babbage", "backus",  "bernoulli", "boole",      "cantor",
    "cerf",     "church",     "conway",  "curie",   "dijkstra",  "euclid",     "euler",
    "faraday",  "fermat",     "feynman", "fourier", "galois",    "gauss",      "germain",
    "godel",    "hamming",    "hilbert", "hopper",  "huffman",   "kahan",      "kepler",
    "knuth",    "kovalevsky", "lamport", "laplace", "leibniz",   "liskov",     "lovelace",
    "maxwell",  "meitner",    "minsky",  "napier",  "noether",   "pascal",     "perlman",
    "poincare", "ramanujan",  "riemann", "ritchie", "shannon",   "somerville", "thompson",
    "turing",   "wirth",      "zuse"};

bool allowed(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '.' || c == '-');
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

size_t pick(size_t n) {
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng());
}

}  // namespace

std::string_view strip_name_slash(std::string_view name) {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  return name;
}

Status validate_container_name(std::string_view name) {
  std::string_view bare = strip_name_slash(name);
  // Docker's pattern has '+' after the second class: a name is at least two characters.
  bool ok = bare.size() >= 2;
  for (size_t i = 0; ok && i < bare.size(); ++i) ok = allowed(bare[i], i == 0);
  if (ok) return {};
  return fail(Code::Invalid, "Invalid container name (" + std::string(name) + "), only " +
                                 std::string(kAllowed) + " are allowed");
}

std::string random_name(int retry) {
  std::string name;
  name.append(kAdjectives[pick(kAdjectives.size())]);
  name.push_back('_');
  name.append(kSurnames[pick(kSurnames.size())]);
  if (retry > 0) name.append(std::to_string(pick(10)));
  return name;
}

}  // namespace silo::engine
