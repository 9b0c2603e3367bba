// Fuzz target for the manifest and image config parsers. The first byte picks the content
// type the registry would have sent; the rest is the body. Invariants checked: nothing throws
// or crashes; every parsed index yields a selection or a NotFound; a parsed manifest's layers
// all have a known compression.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "image/config.h"
#include "image/manifest.h"

namespace mt = silo::image::media_type;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kTypes[] = {"",
                                                mt::kDockerManifest,
                                                mt::kDockerManifestList,
                                                mt::kOciManifest,
                                                mt::kOciIndex,
                                                "application/json"};
  std::string_view type = kTypes[data[0] % std::size(kTypes)];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (auto m = silo::image::parse_manifest(body, type)) {
    if (auto* idx = std::get_if<silo::image::Index>(&*m)) {
      auto sel = silo::image::select_manifest(*idx, {"linux", "arm", "v7"});
      if (!sel && sel.error().code != silo::Code::NotFound) std::abort();
    } else {
      for (const auto& l : std::get<silo::image::Manifest>(*m).layers)
        if (!silo::image::layer_compression(l.media_type)) std::abort();
    }
  }
  if (auto c = silo::image::parse_image_config(body))
    (void)silo::image::check_platform(c->platform);
  return 0;
}
