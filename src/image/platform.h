#pragma once
// Platforms (os/architecture/variant) in GOOS/GOARCH terms, the host's platform, and the
// check that refuses an image built for another one.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace silo::image {

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH: "amd64", "arm64", "arm", "386", "ppc64le", ...
  std::string variant;       // "v8", "v7", ... or empty
  std::string os_version;
  std::vector<std::string> os_features;

  // "linux/arm64/v8", or "linux/amd64" without a variant.
  std::string str() const;
  friend bool operator==(const Platform&, const Platform&) = default;
};

// The platform this process runs on: linux and uname's machine in GOARCH terms (x86_64 ->
// amd64, aarch64 -> arm64 with variant v8, armv7l -> arm/v7).
Platform host_platform();

// Parses "os[/arch[/variant]]" as --platform takes it; Invalid names the text.
[[nodiscard]] Result<Platform> parse_platform(std::string_view text);

// The same platform in containerd's canonical spelling (aarch64 -> arm64, x86_64 -> amd64,
// arm64/v8 -> arm64, arm -> arm/v7, lowercase), for comparisons.
Platform normalize(Platform p);

// How well an image for `image` runs on `host`: 0 is the host's own platform, higher numbers
// are compatible fallbacks (arm/v6 on an arm/v7 host, 386 on amd64), -1 is "cannot run".
int match_rank(const Platform& host, const Platform& image);

// Invalid with "image platform linux/arm64/v8 does not match the host platform linux/amd64"
// when `image` cannot run on `host`.
[[nodiscard]] Status check_platform(const Platform& image, const Platform& host = host_platform());

}  // namespace silo::image
