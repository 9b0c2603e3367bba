// Fuzz target for the layer tar reader: apply_layer on raw bytes (plain, gzip or zstd tar)
// into a fresh directory. Invariants checked: nothing throws or crashes, and nothing appears
// outside the layer root (a sibling directory stays empty) whatever names, links and
// whiteouts the tar holds. Runs as any user; whiteouts and devices need root to succeed.

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "image/layer_apply.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A scratch directory for the whole run, removed at exit.
  static const struct Scratch {
    std::string path;
    Scratch() {
      const char* tmp = getenv("TMPDIR");
      path = std::string(tmp && *tmp ? tmp : "/tmp") + "/silo-layer-fuzz-XXXXXX";
      if (!mkdtemp(path.data())) std::abort();
    }
    ~Scratch() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } scratch;
  const std::string& base = scratch.path;
  const std::string root = base + "/root", sibling = base + "/sibling";
  fs::create_directories(root);
  fs::create_directories(sibling);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  silo::image::ReadFn src = [&bytes](char* buf, size_t len) -> silo::Result<size_t> {
    size_t n = std::min(len, bytes.size());
    std::copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n), buf);
    bytes.remove_prefix(n);
    return n;
  };
  silo::image::ApplyOptions opts{.same_owner = false};
  (void)silo::image::apply_layer(src, root, opts);
  if (!fs::is_empty(sibling)) std::abort();
  for (const auto& e : fs::directory_iterator(base))
    if (e.path() != root && e.path() != sibling) std::abort();
  fs::remove_all(root);
  return 0;
}
