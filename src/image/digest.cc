#include "image/digest.h"

#include "common/sha256.h"

namespace silo::image {

namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string Digest::short_str() const {
  return algorithm + ":" + hex.substr(0, 12) + (hex.size() > 12 ? "…" : "");
}

Result<Digest> Digest::parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(Code::Invalid, "invalid digest \"" + std::string(text) + "\": " + std::string(why));
  };
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return bad("invalid checksum digest format");
  std::string_view alg = text.substr(0, colon), hex = text.substr(colon + 1);
  // go-digest knows sha256, sha384 and sha512; registries and OCI use sha256 and sha512.
  size_t want = 0;
  if (alg == "sha256")
    want = 64;
  else if (alg == "sha512")
    want = 128;
  else
    return bad("unsupported digest algorithm");
  if (!is_lower_hex(hex)) return bad("invalid checksum digest format");
  if (hex.size() != want) return bad("invalid checksum digest length");
  return Digest{std::string(alg), std::string(hex)};
}

Digest Digest::of(std::string_view data) {
  return sha256(sha256_hex(data));
}

}  // namespace silo::image
