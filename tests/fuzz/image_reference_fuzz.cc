// Fuzz target for image references: parse_reference on raw bytes. Invariants checked: nothing
// throws or crashes; a parsed reference prints (str(), familiar_str()) to text that parses
// back to the same reference.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/digest.h"
#include "image/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)silo::image::Digest::parse(text);
  for (bool default_tag : {true, false}) {
    auto ref = silo::image::parse_reference(text, default_tag);
    if (!ref) continue;
    auto again = silo::image::parse_reference(ref->str(), default_tag);
    if (!again || *again != *ref) std::abort();
    auto familiar = silo::image::parse_reference(ref->familiar_str(), default_tag);
    if (!familiar || *familiar != *ref) std::abort();
  }
  return 0;
}
