// Fuzz target for the image archive metadata parsers: docker-archive's manifest.json and an
// OCI layout's index.json. The first byte picks the parser (even: manifest.json, odd:
// index.json); the rest is the file. Invariants checked: nothing throws or crashes; every
// parsed manifest.json entry names its config; every parsed index entry has a sha256 or
// sha512 digest and a size >= 0; a failure is Invalid.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/image_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    auto entries = silo::image::parse_docker_archive_manifest(body);
    if (!entries && entries.error().code != silo::Code::Invalid) std::abort();
    if (entries)
      for (const auto& e : *entries)
        if (e.config.empty()) std::abort();
  } else {
    auto index = silo::image::parse_oci_index(body, "index.json");
    if (!index && index.error().code != silo::Code::Invalid) std::abort();
    if (index)
      for (const auto& d : index->manifests)
        if (d.digest.empty() || d.size < 0) std::abort();
  }
  return 0;
}
