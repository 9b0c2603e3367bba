#pragma once
// Files in and out of a container's root filesystem as tar streams: `docker export`,
// `docker cp` (GET/HEAD/PUT /containers/{name}/archive).
//
// Security: the root filesystem belongs to the container, whose processes may change it
// while we read or write (swap a directory for a symlink to /etc, say). Every path is
// therefore resolved with openat2(RESOLVE_IN_ROOT) from a descriptor of the root, and the
// last component is touched with *at() calls and O_NOFOLLOW from its parent's descriptor:
// nothing here ever follows a symlink to a place outside the root.

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"
#include "common/json.h"

namespace silo::engine {

// Go's os.FileMode for a st_mode (permission bits plus Go's type and setuid/sticky bits),
// which Docker's ContainerPathStat.mode carries and the docker CLI decodes.
[[nodiscard]] uint32_t go_file_mode(mode_t st_mode);

// Docker's ContainerPathStat (X-Docker-Container-Path-Stat).
struct PathStat {
  std::string name;  // base name of the requested path ("/" for the root)
  int64_t size = 0;
  uint32_t mode = 0;        // Go os.FileMode
  std::string mtime;        // RFC 3339, UTC
  std::string link_target;  // for a symlink: where it leads, absolute inside the root
};

// {"name","size","mode","mtime","linkTarget"}.
[[nodiscard]] Json path_stat_json(const PathStat& st);

// Go's filepath.Base of an absolute container path ("/a/b/" -> "b", "/" -> "/").
[[nodiscard]] std::string path_base(std::string_view path);

// Stats `path` inside `rootfs` as dockerd's StatPath: the directories are resolved inside
// the root, the last component is not followed (a symlink reports its link_target).
// Errors: NotFound "no such file <path>" when missing.
[[nodiscard]] Result<PathStat> stat_in_root(const std::string& rootfs, std::string_view path);

// Receives the tar stream in pieces; an error stops the writer.
using TarSink = std::function<Status(std::string_view)>;

// Writes a tar of `path` inside `rootfs` to `sink`: entries are named after the path's
// base name ("etc", "etc/passwd"), as dockerd's archive for `docker cp` does. A symlink
// is archived as a symlink. Errors: NotFound as stat_in_root, those of reading, the sink's.
[[nodiscard]] Status tar_path(const std::string& rootfs, std::string_view path,
                              const TarSink& sink);

// Writes a tar of the whole root (`docker export`): entries relative to it ("bin/busybox").
[[nodiscard]] Status tar_root(const std::string& rootfs, const TarSink& sink);

// Supplies the uploaded tar: bytes read into buf (at most n), 0 at the end.
using TarSource = std::function<Result<size_t>(char* buf, size_t n)>;

struct ExtractOptions {
  bool no_overwrite_dir_non_dir = false;  // refuse to replace a directory with a file and back
  bool copy_uid_gid = false;              // keep the tar's owners; else everything is 0:0
};

// Extracts the tar from `source` into directory `dir` inside `rootfs` (PUT archive).
// Missing parent directories of entries are made (0755). Entries whose names or hard
// link targets leave `dir` ("../x") are refused. Errors: NotFound when `dir` is missing,
// Invalid "extraction point is not a directory", Invalid for a bad tar or a refused
// overwrite, those of writing.
[[nodiscard]] Status extract_tar(const std::string& rootfs, std::string_view dir,
                                 const TarSource& source, const ExtractOptions& opts = {});

namespace archive_internal {
// A descriptor (O_PATH) of `rootfs` itself.
[[nodiscard]] Result<UniqueFd> open_root(const std::string& rootfs);
// openat2(root, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): `path` resolved as
// if `root` were "/", symlinks included, never leaving it.
[[nodiscard]] Result<UniqueFd> open_in_root(int root, const std::string& path, int flags);
// Splits an absolute container path into its directory and last component the way
// dockerd's ResolvePath does ("/a/b" -> "/a", "b"; "/a/" -> "/a/", ""; "/" -> "/", "").
void split_path(std::string_view abs, std::string& dir, std::string& base);
// Go's filepath.Join("/", path): "." and empty components dropped, ".." applied and held
// at "/" ("/../etc" -> "/etc"); a trailing "/" or "/." is kept as dockerd's
// PreserveTrailingDotOrSeparator does.
[[nodiscard]] std::string clean_path(std::string_view path);
// A container path found inside `rootfs` without following its last component: the
// root, the parent directory (O_PATH), the cleaned absolute path, its last component and
// lstat. NotFound "no such file <abs>" when it or its parent is missing.
struct Located {
  UniqueFd root, parent;
  std::string abs, base;
  struct stat st {};
};
[[nodiscard]] Result<Located> locate(const std::string& rootfs, std::string_view path);
}  // namespace archive_internal

}  // namespace silo::engine
