#pragma once
// Builds layer tars in memory with libarchive, for the layer tests.

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <string>
#include <vector>

namespace silo::image::testing {

struct TarEntry {
  std::string name;
  mode_t type = AE_IFREG;
  std::string data;      // file content
  std::string link;      // symlink target
  std::string hardlink;  // hard link target
  mode_t perm = 0644;
  time_t mtime = 1700000000;
};

enum class Filter { None, Gzip, Zstd };

inline std::string make_tar(const std::vector<TarEntry>& entries, Filter f = Filter::None) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (f == Filter::Gzip) archive_write_add_filter_gzip(a);
  if (f == Filter::Zstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* s, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(s)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.name.c_str());
    archive_entry_set_filetype(e, t.type);
    archive_entry_set_perm(e, t.perm);
    archive_entry_set_mtime(e, t.mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    if (!t.link.empty()) archive_entry_set_symlink(e, t.link.c_str());
    if (!t.hardlink.empty()) archive_entry_set_hardlink(e, t.hardlink.c_str());
    archive_entry_set_size(e, t.type == AE_IFREG && t.hardlink.empty() ? t.data.size() : 0);
    archive_write_header(a, e);
    if (t.type == AE_IFREG && !t.data.empty()) archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace silo::image::testing
