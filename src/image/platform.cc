#include "image/platform.h"

#include <sys/utsname.h>

#include <algorithm>

namespace silo::image {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Platforms a host runs besides its own, best first; the lists containerd's platforms.Only
// uses (amd64 runs 386; arm64 runs 32-bit arm; an arm/vN runs every lower arm variant).
std::vector<Platform> fallbacks(const Platform& host) {
  std::vector<Platform> out;
  auto arm_from = [&](int top) {
    for (int v = top; v >= 5; --v) out.push_back({host.os, "arm", "v" + std::to_string(v)});
  };
  if (host.architecture == "amd64") out.push_back({host.os, "386", ""});
  if (host.architecture == "arm64") arm_from(8);
  if (host.architecture == "arm" && host.variant.size() == 2 && host.variant[0] == 'v')
    arm_from(host.variant[1] - '0' - 1);
  return out;
}

}  // namespace

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform host_platform() {
  struct utsname u {};
  ::uname(&u);
  std::string m = u.machine;
  Platform p{"linux", m, ""};
  if (m == "x86_64") p.architecture = "amd64";
  if (m == "aarch64" || m == "arm64") p = {"linux", "arm64", "v8"};
  if (m.starts_with("armv") && m.size() >= 5) p = {"linux", "arm", std::string("v") + m[4]};
  if (m == "i386" || m == "i486" || m == "i586" || m == "i686") p.architecture = "386";
  return p;
}

Result<Platform> parse_platform(std::string_view text) {
  Platform p;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  bool empty_part = std::any_of(parts.begin(), parts.end(), [](auto& s) { return s.empty(); });
  if (parts.size() > 3 || empty_part)
    return fail(Code::Invalid, "invalid platform \"" + std::string(text) +
                                   "\": expected os[/arch[/variant]], e.g. linux/arm64/v8");
  p.os = lower(parts[0]);
  if (parts.size() == 1) {
    Platform host = host_platform();
    p.architecture = host.architecture;
    p.variant = host.variant;
    return p;
  }
  p.architecture = lower(parts[1]);
  if (parts.size() == 3) p.variant = lower(parts[2]);
  return p;
}

Platform normalize(Platform p) {
  p.os = lower(p.os);
  if (p.os.empty()) p.os = "linux";  // Docker fills in its own GOOS for legacy configs
  std::string& a = p.architecture;
  std::string& v = p.variant;
  a = lower(a);
  v = lower(v);
  if (a == "i386") a = "386";
  if (a == "x86_64" || a == "x86-64") a = "amd64";
  if (a == "amd64" && v == "v1") v.clear();
  if (a == "aarch64") a = "arm64";
  if (a == "arm64" && (v == "8" || v == "v8" || v == "v8.0")) v.clear();
  if (a == "armhf") a = "arm", v = "v7";
  if (a == "armel") a = "arm", v = "v6";
  if (a == "arm" && (v.empty() || v == "7")) v = "v7";
  if (a == "arm" && (v == "5" || v == "6" || v == "8")) v = "v" + v;
  return p;
}

int match_rank(const Platform& host_in, const Platform& image_in) {
  Platform host = normalize(host_in), image = normalize(image_in);
  auto same = [](const Platform& a, const Platform& b) {
    return a.os == b.os && a.architecture == b.architecture && a.variant == b.variant;
  };
  if (same(host, image)) return 0;
  auto more = fallbacks(host);
  for (size_t i = 0; i < more.size(); ++i)
    if (same(normalize(more[i]), image)) return static_cast<int>(i) + 1;
  return -1;
}

Status check_platform(const Platform& image, const Platform& host) {
  if (match_rank(host, image) >= 0) return {};
  return fail(Code::Invalid, "image platform " + image.str() +
                                 " does not match the host platform " + host.str() +
                                 "; pull an image built for " + host.str());
}

}  // namespace silo::image
