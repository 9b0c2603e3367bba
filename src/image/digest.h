#pragma once
// Content digests ("sha256:<64 hex>"), as OCI and the Docker registry API spell them.

#include <string>
#include <string_view>

#include "common/error.h"

namespace silo::image {

struct Digest {
  std::string algorithm;  // "sha256" or "sha512"
  std::string hex;        // lowercase hex, 64 (sha256) or 128 (sha512) characters

  // "sha256:<hex>".
  std::string str() const { return algorithm + ":" + hex; }
  // "sha256:<first 12 hex>…", for messages.
  std::string short_str() const;
  bool empty() const { return hex.empty(); }
  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

  // Parses and validates "algorithm:hex" as go-digest does. Invalid errors name the text:
  // "invalid digest "sha256:xyz": invalid checksum digest format".
  [[nodiscard]] static Result<Digest> parse(std::string_view text);
  // The sha256 digest of `hex` (which must already be 64 lowercase hex characters).
  static Digest sha256(std::string hex) { return Digest{"sha256", std::move(hex)}; }
  // The sha256 digest of `data`.
  static Digest of(std::string_view data);
};

}  // namespace silo::image
