#pragma once
// The seed image busybox:latest, made from the host's static busybox the first time a
// daemon starts on a data root with no image of that name, so a machine with no registry
// runs containers at once. It is an ordinary image of one layer once made.

#include <string>
#include <string_view>

#include "common/error.h"
#include "engine/engine.h"

namespace silo::engine {

class ImageService;

inline constexpr std::string_view kSeedRef = "docker.io/library/busybox:latest";

// Makes busybox:latest in `images` unless an image has that name: a rootfs with
// /bin/busybox, a symlink per applet, /etc/passwd and group with root and nobody, /tmp 1777,
// as one layer (built under `work_dir`, then stored and unpacked like a pulled one).
// Errors: NotFound when busybox is missing, Invalid when it is not static.
[[nodiscard]] Status seed_busybox(ImageService& images, const std::string& work_dir,
                                  const std::string& busybox_path);

}  // namespace silo::engine
