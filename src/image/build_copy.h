#pragma once
// COPY and ADD of `docker build` as a tar stream: the sources laid out under the
// destination the way Docker places them, with the owner and mode the instruction asks
// for, ready to be extracted at "/" of the step container (engine/archive.h's extract_tar,
// which resolves every path inside the container's root).
//
// Placement, as Docker's classic builder:
//   a directory            its contents go into DEST (DEST itself takes the dir's mode)
//   a file, DEST a dir      DEST/<name>  (DEST ends with "/", exists as a directory, or
//                                         there are several sources)
//   a file                  DEST
//   ADD of a local archive  its entries are unpacked into DEST (tar, plain or gzip, bzip2,
//                           xz compressed; recognised by content)

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "image/layer_diff.h"

namespace silo::image {

struct CopySpec {
  std::string root;                  // where the sources are: the context, or a stage's root
  std::vector<std::string> sources;  // resolved, relative to root ("." = root itself)
  std::string dest;                  // absolute path in the image, cleaned
  bool dest_is_dir = false;          // see the table above
  // --chown: every entry gets these ids. Without: 0:0, or the source's own ids when
  // `keep_owner` (COPY --from keeps the owners of the image it copies from).
  std::optional<std::pair<uint32_t, uint32_t>> owner;
  bool keep_owner = false;
  std::optional<mode_t> chmod;  // --chmod: the permission bits of every entry
  bool add = false;             // ADD: local archives are unpacked
};

// Writes the tar of `spec` to `out`; entry names are relative to "/" ("app/main.py").
// Errors name the source ("COPY app/x: ...").
[[nodiscard]] Status write_copy_tar(const CopySpec& spec, const WriteFn& out);

// Parses --chmod's octal mode ("755", "0644"). Invalid names the value.
[[nodiscard]] Result<mode_t> parse_chmod(std::string_view value);

}  // namespace silo::image
