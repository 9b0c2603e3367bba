#pragma once
// Image references as Docker parses and normalises them (distribution/reference):
//   busybox                     -> docker.io/library/busybox:latest
//   localhost:5000/a/b:tag      -> localhost:5000/a/b:tag
//   name@sha256:<64 hex>        -> docker.io/library/name@sha256:<64 hex>
//   name:tag@sha256:<64 hex>    -> both kept; the digest is what gets pulled

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "image/digest.h"

namespace silo::image {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";

struct Reference {
  std::string domain;  // registry host[:port], "docker.io" for Docker Hub
  std::string path;    // repository path in the registry: "library/busybox", "a/b"
  std::string tag;     // empty when none was given (and a digest was)
  std::optional<Digest> digest;

  // "docker.io/library/busybox"
  std::string name() const { return domain + "/" + path; }
  // The full normalised form: "docker.io/library/busybox:latest", "reg:5000/a@sha256:...".
  std::string str() const;
  // Docker's short display name: "busybox", "user/app", "localhost:5000/a/b".
  std::string familiar_name() const;
  // familiar_name() with ":tag" and "@digest" when present: "busybox:latest".
  std::string familiar_str() const;
  friend bool operator==(const Reference&, const Reference&) = default;
};

// Parses `text` as `docker pull` does (ParseNormalizedNamed): fills in docker.io and
// library/, keeps tag and digest as given. With `default_tag`, a reference that has
// neither tag nor digest gets ":latest" (TagNameOnly). Errors are Invalid and carry Docker's
// messages, e.g. "invalid reference format: repository name must be lowercase".
[[nodiscard]] Result<Reference> parse_reference(std::string_view text, bool default_tag = true);

// True for a 64-character lowercase hex string (an image id, not a name).
bool is_full_identifier(std::string_view text);

}  // namespace silo::image
