#pragma once
// The seed image busybox:latest: a read-only root filesystem made from the host's static
// busybox at daemon start, until the image service (issue #4) lands.

#include <string>
#include <string_view>

#include "engine/engine.h"

namespace silo::engine {

// Makes (or reuses, when its id still matches) <root>/images/busybox/rootfs from the
// static busybox at `busybox_path`: /bin/busybox, a symlink per applet, /etc/passwd and
// group with root and nobody, /tmp 1777. Id = "sha256:" + sha256 of the binary.
// Errors: NotFound when busybox is missing, Invalid when it is not static.
[[nodiscard]] Result<ImageRef> seed_busybox(const std::string& root,
                                            const std::string& busybox_path);

// Whether `ref` names `img`: "busybox", "busybox:latest", "library/busybox",
// "docker.io/library/busybox:latest", the id, or an id prefix (with or without "sha256:").
bool image_matches(const ImageRef& img, std::string_view ref);

// dockerd's "No such image: busybox:1" (the ref with ":latest" added when it has no tag).
Error no_such_image(std::string_view ref);

// Docker's ImageSummary (GET /images/json).
Json image_summary(const ImageRef& img);

}  // namespace silo::engine
