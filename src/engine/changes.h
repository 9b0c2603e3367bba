#pragma once
// A container's filesystem changes (GET /containers/{name}/changes, `docker diff`) from
// its overlay upper directory compared with the image's root (the lower directory).

#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace silo::engine {

// Docker's change kinds (archive.ChangeType).
enum class ChangeKind { Modified = 0, Added = 1, Deleted = 2 };

struct Change {
  std::string path;  // absolute inside the container: "/etc/hosts"
  ChangeKind kind = ChangeKind::Modified;
};

// Walks `upper` as dockerd's overlay differ does: a whiteout (character device 0/0) is a
// deleted path; an opaque directory (xattr trusted.overlay.opaque=y) hides everything the
// lower directory had under it (each such entry is deleted); a path that exists in
// `lowers` (the image's layers, top first, whiteouts honoured) is modified, else added;
// the parent of an added or deleted path is modified.
// A directory the same in both (mode, size, mtime) is left out. Sorted by path.
// Errors: NotFound when `upper` is missing, and those of reading it.
[[nodiscard]] Result<std::vector<Change>> overlay_changes(const std::string& upper,
                                                          const std::vector<std::string>& lowers);

// [{"Path","Kind"}], or null when there are none (as dockerd).
[[nodiscard]] Json changes_json(const std::vector<Change>& changes);

}  // namespace silo::engine
