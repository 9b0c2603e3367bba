// cp: files between a container and the host through the archive endpoints, as tar
// streams made and read with libarchive.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"

namespace silo::cli {
namespace {

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

// Replaces the first path component of `entry` with `name` ("hostname" -> "x").
std::string rename_first(const std::string& entry, const std::string& name) {
  auto slash = entry.find('/');
  return slash == std::string::npos ? name : name + entry.substr(slash);
}

std::string b64decode(const std::string& in) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    auto pos = chars.find(c);
    if (pos == std::string::npos) break;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out += static_cast<char>((val >> bits) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

Error arc_error(archive* a, const std::string& what) {
  const char* m = archive_error_string(a);
  return Error{0, Code::Internal, what + ": " + (m ? m : "archive error")};
}

// Extracts the tar in `data` under `dir`, renaming its top entry to `rename` when set.
Status extract(const std::string& data, const std::string& dir, const std::string& rename) {
  ReadArchive in(archive_read_new(), archive_read_free);
  WriteArchive outa(archive_write_disk_new(), archive_write_free);
  archive_read_support_format_tar(in.get());
  archive_write_disk_set_options(
      outa.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  if (archive_read_open_memory(in.get(), data.data(), data.size()) != ARCHIVE_OK)
    return std::unexpected(arc_error(in.get(), "read the archive from the daemon"));
  archive_entry* e = nullptr;
  while (true) {
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return std::unexpected(arc_error(in.get(), "read the archive"));
    std::string name = archive_entry_pathname(e);
    if (!rename.empty()) name = rename_first(name, rename);
    archive_entry_set_pathname(e, (dir + "/" + name).c_str());
    if (const char* hl = archive_entry_hardlink(e)) {
      std::string target = rename.empty() ? hl : rename_first(hl, rename);
      archive_entry_set_hardlink(e, (dir + "/" + target).c_str());
    }
    if (archive_write_header(outa.get(), e) != ARCHIVE_OK)
      return std::unexpected(arc_error(outa.get(), "write " + dir + "/" + name));
    const void* buf;
    size_t size;
    la_int64_t off;
    while ((r = archive_read_data_block(in.get(), &buf, &size, &off)) == ARCHIVE_OK)
      if (archive_write_data_block(outa.get(), buf, size, off) != ARCHIVE_OK)
        return std::unexpected(arc_error(outa.get(), "write " + dir + "/" + name));
    if (r != ARCHIVE_EOF) return std::unexpected(arc_error(in.get(), "read the archive"));
    archive_write_finish_entry(outa.get());
  }
  return {};
}

la_ssize_t append_cb(archive*, void* ctx, const void* buf, size_t n) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// A tar of host path `src` whose top entry is named `name`.
Result<std::string> make_tar(const std::string& src, const std::string& name) {
  std::string tar;
  WriteArchive outa(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(outa.get());
  archive_write_set_bytes_in_last_block(outa.get(), 1);
  if (archive_write_open(outa.get(), &tar, nullptr, append_cb, nullptr) != ARCHIVE_OK)
    return std::unexpected(arc_error(outa.get(), "make the archive"));
  ReadArchive disk(archive_read_disk_new(), archive_read_free);
  archive_read_disk_set_standard_lookup(disk.get());
  if (archive_read_disk_open(disk.get(), src.c_str()) != ARCHIVE_OK)
    return fail(Code::NotFound, "stat " + src + ": no such file or directory");
  std::string prefix = src;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  while (true) {
    archive_entry* e = archive_entry_new();
    int r = archive_read_next_header2(disk.get(), e);
    if (r == ARCHIVE_EOF) {
      archive_entry_free(e);
      break;
    }
    if (r != ARCHIVE_OK) {
      archive_entry_free(e);
      return std::unexpected(arc_error(disk.get(), "read " + src));
    }
    archive_read_disk_descend(disk.get());
    std::string path = archive_entry_pathname(e);
    std::string rel = path.size() > prefix.size() ? path.substr(prefix.size()) : "";
    archive_entry_set_pathname(e, (name + rel).c_str());
    if (archive_write_header(outa.get(), e) != ARCHIVE_OK) {
      archive_entry_free(e);
      return std::unexpected(arc_error(outa.get(), "archive " + path));
    }
    if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
      FILE* f = std::fopen(archive_entry_sourcepath(e), "rb");
      if (!f) {
        archive_entry_free(e);
        return fail_errno(errno, "open " + path);
      }
      char buf[65536];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) archive_write_data(outa.get(), buf, n);
      std::fclose(f);
    }
    archive_entry_free(e);
  }
  archive_write_close(outa.get());
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
  if (stat(dst.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
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
  std::string dir = dst, name = base_name(src);
  if (head->status == 200) {
    auto stat_json =
        Json::parse(b64decode(head->header("x-docker-container-path-stat")), nullptr, false);
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
  if (r1) return copy_from(c, c1, p1, p->args[1]);
  return copy_to(c, p->args[0], c2, p2);
}

}  // namespace silo::cli
