#pragma once
// The build context of `docker build`: the tar the client sends (plain or compressed),
// unpacked into a directory with the .dockerignore exclusions removed; the sources of
// COPY/ADD resolved inside it; and a content checksum of those sources that serves as
// the cache key of a COPY/ADD step (Docker's "file:<sha256>", "dir:<sha256>",
// "multi:<sha256>").

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "image/blob_store.h"
#include "image/dockerignore.h"

namespace silo::image {

struct BuildContext {
  std::string dir;         // the unpacked context; the caller owns and removes it
  std::string dockerfile;  // the Dockerfile's text, read before exclusions apply
  IgnoreMatcher ignore;    // the context's .dockerignore (empty when it has none)
};

// Unpacks the context tar read from `src` into the existing empty directory `dir`, then
// removes what .dockerignore excludes. The Dockerfile (`dockerfile_path` inside the
// context) and .dockerignore are read first, so excluding them hides them from COPY but
// does not break the build, as in Docker. Entries with "..", absolute names, or paths
// through symlinks are refused (libarchive's secure extraction). NotFound when the
// Dockerfile is missing: "Cannot locate specified Dockerfile: Dockerfile".
[[nodiscard]] Result<BuildContext> unpack_context(const ReadFn& src, const std::string& dir,
                                                  std::string_view dockerfile_path = "Dockerfile");

// Resolves COPY/ADD sources (as written, after substitution) to paths relative to the
// context: "/" and "./" prefixes dropped, wildcards matched per element as Go's
// filepath.Match does (fnmatch(3) with FNM_PATHNAME), "." meaning the whole context.
// Invalid: a path that leaves the context through ".." or a symlink ("forbidden path
// outside the build context: ../x"); NotFound: no file matches ("COPY failed: file not
// found in build context or excluded by .dockerignore: stat x: file does not exist").
[[nodiscard]] Result<std::vector<std::string>> resolve_sources(
    const BuildContext& ctx, const std::vector<std::string>& sources);

// The checksum of resolved sources: names, file type, mode, uid, gid, size, symlink
// target and content of every file below each source (mtime is left out, so touching a
// file keeps the cache). "file:<hex>" for one file, "dir:<hex>" for one directory,
// "multi:<hex>" for several sources.
[[nodiscard]] Result<std::string> source_checksum(const BuildContext& ctx,
                                                  const std::vector<std::string>& resolved);

// Whether ADD unpacks this source instead of copying it: a local file (not a URL) that
// libarchive reads as a tar, plain or gzip/bzip2/xz compressed — by content, as Docker
// decides, not by name.
[[nodiscard]] bool add_auto_extracts(std::string_view source, const std::string& path);

}  // namespace silo::image
