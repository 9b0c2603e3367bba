// cp: files between a container and the host through the archive endpoints, as tar
// streams made and read with libarchive.
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "common/base64.h"

namespace silo::cli {
namespace {

// libarchive is opened here, by `silo cp` only, not linked: its dependency tree (libxml2,
// ICU, nettle and six compressors) made the dynamic loader take ~9 ms of a 13 ms CLI
// start (perf record of `silo run`, this machine), and every `silo run` pays that start.
// The header still types every pointer, so a call cannot disagree with the library.
#define SILO_ARCHIVE_FUNCTIONS(X)          \
  X(archive_entry_filetype)                \
  X(archive_entry_free)                    \
  X(archive_entry_hardlink)                \
  X(archive_entry_new)                     \
  X(archive_entry_pathname)                \
  X(archive_entry_set_hardlink)            \
  X(archive_entry_set_pathname)            \
  X(archive_entry_size)                    \
  X(archive_entry_sourcepath)              \
  X(archive_error_string)                  \
  X(archive_read_data_block)               \
  X(archive_read_disk_descend)             \
  X(archive_read_disk_new)                 \
  X(archive_read_disk_open)                \
  X(archive_read_disk_set_standard_lookup) \
  X(archive_read_free)                     \
  X(archive_read_new)                      \
  X(archive_read_next_header)              \
  X(archive_read_next_header2)             \
  X(archive_read_open_memory)              \
  X(archive_read_support_format_tar)       \
  X(archive_write_close)                   \
  X(archive_write_data)                    \
  X(archive_write_data_block)              \
  X(archive_write_disk_new)                \
  X(archive_write_disk_set_options)        \
  X(archive_write_free)                    \
  X(archive_write_finish_entry)            \
  X(archive_write_header)                  \
  X(archive_write_new)                     \
  X(archive_write_open)                    \
  X(archive_write_set_bytes_in_last_block) \
  X(archive_write_set_format_pax_restricted)

struct Libarchive {
#define X(f) decltype(&::f) f = nullptr;
  SILO_ARCHIVE_FUNCTIONS(X)
#undef X
};

// The loaded library, or an error that says which package to install.
Result<const Libarchive*> load_libarchive() {
  static Result<const Libarchive*> loaded = []() -> Result<const Libarchive*> {
    void* h = ::dlopen(SILO_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
      return fail(Code::Internal, std::string("silo cp needs ") + SILO_LIBARCHIVE_SONAME + ": " +
                                      ::dlerror() + "; install the libarchive13 package");
    static Libarchive lib;
#define X(f)                                                \
  lib.f = reinterpret_cast<decltype(&::f)>(::dlsym(h, #f)); \
  if (!lib.f)                                               \
    return fail(Code::Internal,                             \
                SILO_LIBARCHIVE_SONAME " lacks " #f "; install the libarchive13 package");
    SILO_ARCHIVE_FUNCTIONS(X)
#undef X
    return &lib;
  }();
  return loaded;
}

// The library; cmd_cp loads it before any copy, so here it is always there.
const Libarchive& lib() {
  return **load_libarchive();
}

using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;
using WriteArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;

std::string base_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

std::string dir_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto s = p.rfind('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : p.substr(0, s);
}

// Replaces the first path component of `entry` with `name` ("hostname" -> "x"); an
// empty `name` drops it ("dir/a" -> "a", "dir" -> "").
std::string rename_first(const std::string& entry, const std::string& name) {
  auto slash = entry.find('/');
  if (name.empty()) return slash == std::string::npos ? "" : entry.substr(slash + 1);
  return slash == std::string::npos ? name : name + entry.substr(slash);
}

// docker cp's "SRC/." : the directory's contents, not the directory.
bool contents_only(const std::string& path) {
  return path == "." || path.ends_with("/.");
}

Error arc_error(archive* a, const std::string& what) {
  const char* m = lib().archive_error_string(a);
  return Error{0, Code::Internal, what + ": " + (m ? m : "archive error")};
}

// Extracts the tar in `data` under `dir`, renaming its top entry to `rename` when set;
// with `strip` the top entry is dropped and what is under it lands in `dir` itself.
Status extract(const std::string& data, const std::string& dir, const std::string& rename,
               bool strip = false) {
  ReadArchive in(lib().archive_read_new(), lib().archive_read_free);
  WriteArchive outa(lib().archive_write_disk_new(), lib().archive_write_free);
  lib().archive_read_support_format_tar(in.get());
  lib().archive_write_disk_set_options(
      outa.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  if (lib().archive_read_open_memory(in.get(), data.data(), data.size()) != ARCHIVE_OK)
    return std::unexpected(arc_error(in.get(), "read the archive from the daemon"));
  archive_entry* e = nullptr;
  while (true) {
    int r = lib().archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return std::unexpected(arc_error(in.get(), "read the archive"));
    std::string name = lib().archive_entry_pathname(e);
    if (strip) {
      name = rename_first(name, "");
      if (name.empty()) continue;  // the source directory itself: `dir` stands for it
    } else if (!rename.empty()) {
      name = rename_first(name, rename);
    }
    lib().archive_entry_set_pathname(e, (dir + "/" + name).c_str());
    if (const char* hl = lib().archive_entry_hardlink(e)) {
      std::string target = strip || !rename.empty() ? rename_first(hl, strip ? "" : rename) : hl;
      lib().archive_entry_set_hardlink(e, (dir + "/" + target).c_str());
    }
    if (lib().archive_write_header(outa.get(), e) != ARCHIVE_OK)
      return std::unexpected(arc_error(outa.get(), "write " + dir + "/" + name));
    const void* buf;
    size_t size;
    la_int64_t off;
    while ((r = lib().archive_read_data_block(in.get(), &buf, &size, &off)) == ARCHIVE_OK)
      if (lib().archive_write_data_block(outa.get(), buf, size, off) != ARCHIVE_OK)
        return std::unexpected(arc_error(outa.get(), "write " + dir + "/" + name));
    if (r != ARCHIVE_EOF) return std::unexpected(arc_error(in.get(), "read the archive"));
    lib().archive_write_finish_entry(outa.get());
  }
  return {};
}

la_ssize_t append_cb(archive*, void* ctx, const void* buf, size_t n) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// A tar of host path `src` whose top entry is named `name`; with an empty `name`, the
// entries under `src` alone, relative to it (docker cp's "SRC/.").
Result<std::string> make_tar(const std::string& src, const std::string& name) {
  std::string tar;
  WriteArchive outa(lib().archive_write_new(), lib().archive_write_free);
  lib().archive_write_set_format_pax_restricted(outa.get());
  lib().archive_write_set_bytes_in_last_block(outa.get(), 1);
  if (lib().archive_write_open(outa.get(), &tar, nullptr, append_cb, nullptr) != ARCHIVE_OK)
    return std::unexpected(arc_error(outa.get(), "make the archive"));
  ReadArchive disk(lib().archive_read_disk_new(), lib().archive_read_free);
  lib().archive_read_disk_set_standard_lookup(disk.get());
  if (lib().archive_read_disk_open(disk.get(), src.c_str()) != ARCHIVE_OK)
    return fail(Code::NotFound, "stat " + src + ": no such file or directory");
  std::string prefix = src;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  while (true) {
    archive_entry* e = lib().archive_entry_new();
    int r = lib().archive_read_next_header2(disk.get(), e);
    if (r == ARCHIVE_EOF) {
      lib().archive_entry_free(e);
      break;
    }
    if (r != ARCHIVE_OK) {
      lib().archive_entry_free(e);
      return std::unexpected(arc_error(disk.get(), "read " + src));
    }
    lib().archive_read_disk_descend(disk.get());
    std::string path = lib().archive_entry_pathname(e);
    std::string rel = path.size() > prefix.size() ? path.substr(prefix.size()) : "";
    if (name.empty()) {
      if (rel.empty()) {  // the directory itself
        lib().archive_entry_free(e);
        continue;
      }
      rel.erase(0, 1);  // the '/' after the prefix
    }
    lib().archive_entry_set_pathname(e, (name + rel).c_str());
    if (lib().archive_write_header(outa.get(), e) != ARCHIVE_OK) {
      lib().archive_entry_free(e);
      return std::unexpected(arc_error(outa.get(), "archive " + path));
    }
    if (lib().archive_entry_filetype(e) == AE_IFREG && lib().archive_entry_size(e) > 0) {
      FILE* f = std::fopen(lib().archive_entry_sourcepath(e), "rb");
      if (!f) {
        lib().archive_entry_free(e);
        return fail_errno(errno, "open " + path);
      }
      char buf[65536];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        lib().archive_write_data(outa.get(), buf, n);
      std::fclose(f);
    }
    lib().archive_entry_free(e);
  }
  lib().archive_write_close(outa.get());
  return tar;
}

// Splits "container:path"; an argument with no colon (or starting with / or .) is local.
bool split_remote(const std::string& arg, std::string& ctr, std::string& path) {
  if (arg.starts_with("/") || arg.starts_with(".")) return false;
  auto colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  ctr = arg.substr(0, colon);
  path = arg.substr(colon + 1);
  return true;
}

int copy_from(Client& c, const std::string& ctr, const std::string& src, const std::string& dst) {
  auto r = c.call("GET", "/containers/" + url_encode(ctr) + "/archive" + query({{"path", src}}));
  if (!r) return print_error(r.error());
  if (dst == "-") {
    std::cout.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
    return 0;
  }
  struct stat st {};
  Status s;
  bool dst_is_dir = stat(dst.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (contents_only(src)) {
    // "CTR:DIR/." : DIR's contents into DST, which is made when it does not exist.
    if (!dst_is_dir && ::mkdir(dst.c_str(), 0755) != 0)
      return print_error(Error{0, Code::Invalid,
                               "cannot copy the contents of " + src + " to \"" + dst +
                                   "\": it is not a directory and cannot be made one"});
    s = extract(r->body, dst, "", true);
  } else if (dst_is_dir) {
    s = extract(r->body, dst, "");
  } else {
    std::string parent = dir_name(dst);
    if (stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return print_error(Error{0, Code::NotFound,
                               "invalid output path: directory \"" + parent + "\" does not exist"});
    s = extract(r->body, parent, base_name(dst));
  }
  return s ? 0 : print_error(s.error());
}

int copy_to(Client& c, const std::string& src, const std::string& ctr, const std::string& dst) {
  const std::string base = "/containers/" + url_encode(ctr) + "/archive";
  auto head = c.call_raw("HEAD", base + query({{"path", dst}}));
  if (!head) return print_error(head.error());
  std::string dir = dst, name = contents_only(src) ? "" : base_name(src);
  if (head->status == 200) {
    auto stat_json = Json::parse(
        base64_decode(head->header("x-docker-container-path-stat")).value_or(""), nullptr, false);
    uint32_t mode = stat_json.is_object() ? stat_json.value("mode", 0u) : 0u;
    if (!(mode & (1u << 31))) {  // an existing file: replace it
      dir = dir_name(dst);
      name = base_name(dst);
    }
  } else if (head->status == 404) {
    // A path that does not exist yet: the copy takes its name.
    if (daemon_message(*head).find("No such container") != std::string::npos)
      return print_error(daemon_error(*head));
    dir = dir_name(dst);
    name = base_name(dst);
  } else {
    return print_error(daemon_error(*head));
  }
  auto tar = make_tar(src, name);
  if (!tar) return print_error(tar.error());
  auto r =
      c.call_raw("PUT", base + query({{"path", dir}}), std::nullopt, *tar, "application/x-tar");
  if (!r) return print_error(r.error());
  if (r->status < 200 || r->status >= 300) return print_error(daemon_error(*r));
  return 0;
}

}  // namespace

Result<std::string> tar_directory(const std::string& dir) {
  if (auto l = load_libarchive(); !l) return std::unexpected(l.error());
  return make_tar(dir, "");
}

int cmd_cp(Client& c, const Args& a) {
  auto p = parse_or_usage("cp", {{"a,archive"}, {"L,follow-link"}, {"q,quiet"}}, a);
  if (!p) return 125;
  if (p->args.size() != 2) {
    std::cerr << "\"silo cp\" requires exactly 2 arguments.\nSee 'silo cp --help'.\n";
    return 1;
  }
  std::string c1, p1, c2, p2;
  bool r1 = split_remote(p->args[0], c1, p1), r2 = split_remote(p->args[1], c2, p2);
  if (r1 && r2)
    return print_error(Error{0, Code::Invalid, "copying between containers is not supported"});
  if (!r1 && !r2)
    return print_error(Error{0, Code::Invalid, "must specify at least one container source"});
  if (auto l = load_libarchive(); !l) return print_error(l.error());
  if (r1) return copy_from(c, c1, p1, p->args[1]);
  return copy_to(c, p->args[0], c2, p2);
}

}  // namespace silo::cli
