#include "image/build_context.h"

#include <archive.h>
#include <archive_entry.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/sha256.h"

// libarchive unpacks the context with its secure-extraction flags: the directory is
// fresh and private to this build, so nothing else can swap a symlink in while it runs,
// and libarchive refuses ".." and writes through symlinks (ARCHIVE_EXTRACT_SECURE_*).
// Absolute entry names are refused here: the names are prefixed with the directory, so
// libarchive's own absolute-path check cannot be used. Ownership is not restored: the classic
// builder's context files belong to root inside the image unless COPY --chown says otherwise.

namespace silo::image {

namespace fs = std::filesystem;

namespace {

struct ReadState {
  const ReadFn* src;
  std::vector<char> buf = std::vector<char>(64 * 1024);
  std::string error;
};

la_ssize_t read_cb(archive*, void* p, const void** out) {
  auto* st = static_cast<ReadState*>(p);
  auto n = (*st->src)(st->buf.data(), st->buf.size());
  if (!n) {
    st->error = n.error().message;
    return -1;
  }
  *out = st->buf.data();
  return static_cast<la_ssize_t>(*n);
}

Status extract_all(const ReadFn& src, const std::string& dir) {
  std::unique_ptr<archive, decltype(&archive_read_free)> in(archive_read_new(), archive_read_free);
  std::unique_ptr<archive, decltype(&archive_write_free)> out(archive_write_disk_new(),
                                                              archive_write_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_all(in.get());
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  ReadState st{&src};
  if (archive_read_open(in.get(), &st, nullptr, read_cb, nullptr) != ARCHIVE_OK)
    return fail(Code::Invalid,
                "build context: not a tar archive: " +
                    std::string(st.error.empty() ? archive_error_string(in.get()) : st.error));
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) return {};
    if (r < ARCHIVE_WARN)
      return fail(Code::Invalid,
                  "build context tar: " +
                      (st.error.empty() ? std::string(archive_error_string(in.get())) : st.error));
    std::string name = archive_entry_pathname(e);
    if (name.starts_with("/") || clean_path(name).starts_with(".."))
      return fail(Code::Invalid, "build context entry " + name + ": path leaves the context");
    archive_entry_set_pathname(e, (dir + "/" + name).c_str());
    if (const char* hl = archive_entry_hardlink(e))
      archive_entry_set_hardlink(e, (dir + "/" + hl).c_str());
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
      return fail(Code::Invalid,
                  "build context entry " + name + ": " + archive_error_string(out.get()));
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    while ((r = archive_read_data_block(in.get(), &buf, &len, &off)) == ARCHIVE_OK)
      if (archive_write_data_block(out.get(), buf, len, off) < ARCHIVE_WARN)
        return fail(Code::Internal,
                    "build context entry " + name + ": " + archive_error_string(out.get()));
    if (r != ARCHIVE_EOF)
      return fail(Code::Invalid,
                  "build context entry " + name + ": truncated: " + archive_error_string(in.get()));
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      return fail(Code::Internal,
                  "build context entry " + name + ": " + archive_error_string(out.get()));
  }
}

std::string read_small(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Removes what `ig` excludes below `rel` (recursively), keeping a directory an exception
// may reach into.
void prune(const std::string& root, const std::string& rel, const IgnoreMatcher& ig) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/" + rel, ec)) {
    std::string child = (rel.empty() ? "" : rel + "/") + e.path().filename().string();
    bool dir = e.is_directory(ec) && !e.is_symlink(ec);
    if (ig.excluded(child) && !(dir && ig.may_include_inside(child))) {
      fs::remove_all(e.path(), ec);
    } else if (dir) {
      prune(root, child, ig);
    }
  }
}

bool has_wildcard(std::string_view s) {
  return s.find_first_of("*?[\\") != std::string::npos;
}

// The real path of `rel` must stay inside the context (symlinks are followed, as Docker's
// FollowSymlinkInScope does, but may not lead out).
Status check_inside(const BuildContext& ctx, const std::string& rel, std::string_view as_written) {
  std::error_code ec;
  fs::path root = fs::canonical(ctx.dir, ec);
  fs::path real = fs::weakly_canonical(fs::path(ctx.dir) / rel, ec);
  auto [r, _] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
  if (ec || r != root.end())
    return fail(Code::Invalid,
                "forbidden path outside the build context: " + std::string(as_written) +
                    " (it resolves to " + real.string() + ")");
  return {};
}

void walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/" + rel, ec)) {
    std::string child = (rel.empty() ? "" : rel + "/") + e.path().filename().string();
    out.push_back(child);
    if (e.is_directory(ec) && !e.is_symlink(ec)) walk(root, child, out);
  }
}

// The tarsum-like record of one entry: name, type, mode, uid, gid, size, link, content.
Result<std::string> entry_hash(const std::string& path, const std::string& name, bool follow) {
  struct stat st {};
  if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) != 0)
    return fail_errno(errno, "stat " + name);
  std::string head = name + '\0' + std::to_string(st.st_mode) + '\0' + std::to_string(st.st_uid) +
                     '\0' + std::to_string(st.st_gid) + '\0';
  if (S_ISREG(st.st_mode)) {
    auto content = sha256_file(path);
    if (!content) return std::unexpected(content.error());
    head += std::to_string(st.st_size) + '\0' + *content;
  } else if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    head += fs::read_symlink(path, ec).string();
  }
  return sha256_hex(head);
}

}  // namespace

Result<BuildContext> unpack_context(const ReadFn& src, const std::string& dir,
                                    std::string_view dockerfile_path) {
  SILO_TRY(extract_all(src, dir));
  BuildContext ctx;
  ctx.dir = dir;
  std::string df = clean_path(dockerfile_path);
  if (df.starts_with("..") || df.starts_with("/"))
    return fail(Code::Invalid, "the Dockerfile (" + std::string(dockerfile_path) +
                                   ") must be within the build context");
  std::error_code ec;
  if (!fs::is_regular_file(dir + "/" + df, ec))
    return fail(Code::NotFound,
                "Cannot locate specified Dockerfile: " + std::string(dockerfile_path));
  ctx.dockerfile = read_small(dir + "/" + df);
  if (fs::is_regular_file(dir + "/.dockerignore", ec)) {
    auto ig = IgnoreMatcher::parse(read_small(dir + "/.dockerignore"));
    if (!ig) return wrap(ig.error(), "build context");
    ctx.ignore = std::move(*ig);
    prune(dir, "", ctx.ignore);
  }
  return ctx;
}

Result<std::vector<std::string>> resolve_sources(const BuildContext& ctx,
                                                 const std::vector<std::string>& sources) {
  std::vector<std::string> out;
  std::vector<std::string> all;
  bool walked = false;
  for (const std::string& s : sources) {
    std::string rel = clean_path(s);
    while (rel.starts_with("/")) rel.erase(0, 1);
    if (rel.empty()) rel = ".";
    if (rel == ".." || rel.starts_with("../"))
      return fail(Code::Invalid, "forbidden path outside the build context: " + s);
    if (!has_wildcard(rel)) {
      std::error_code ec;
      if (!fs::exists(fs::symlink_status(fs::path(ctx.dir) / rel, ec)))
        return fail(Code::NotFound,
                    "COPY failed: file not found in build context or excluded by "
                    ".dockerignore: stat " +
                        s + ": file does not exist");
      SILO_TRY(check_inside(ctx, rel, s));
      out.push_back(rel);
      continue;
    }
    if (!walked) walk(ctx.dir, "", all), std::sort(all.begin(), all.end()), walked = true;
    size_t before = out.size();
    for (const std::string& p : all)
      if (::fnmatch(rel.c_str(), p.c_str(), FNM_PATHNAME) == 0) {
        SILO_TRY(check_inside(ctx, p, p));
        out.push_back(p);
      }
    if (out.size() == before)
      return fail(Code::NotFound,
                  "COPY failed: no source files were specified: no file in the "
                  "build context matches " +
                      s);
  }
  return out;
}

Result<std::string> source_checksum(const BuildContext& ctx,
                                    const std::vector<std::string>& resolved) {
  std::vector<std::string> parts;
  for (const std::string& rel : resolved) {
    std::string path = ctx.dir + "/" + rel;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {  // a top-level symlink is followed, as COPY does
      auto h = entry_hash(path, fs::path(rel).filename().string(), true);
      if (!h) return std::unexpected(h.error());
      parts.push_back("file:" + *h);
      continue;
    }
    std::vector<std::string> entries;
    walk(path, "", entries);
    std::sort(entries.begin(), entries.end());
    Sha256 dir;
    for (const std::string& e : entries) {
      auto h = entry_hash(path + "/" + e, e, false);
      if (!h) return std::unexpected(h.error());
      dir.update(e + '\0' + *h + '\n');
    }
    parts.push_back("dir:" + dir.hex_digest());
  }
  if (parts.size() == 1) return parts[0];
  std::string joined;
  for (const std::string& p : parts) joined += (joined.empty() ? "" : ",") + p;
  return "multi:" + sha256_hex(joined);
}

bool add_auto_extracts(std::string_view source, const std::string& path) {
  if (source.starts_with("http://") || source.starts_with("https://") || source.starts_with("git@"))
    return false;
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 16 * 1024) != ARCHIVE_OK) return false;
  archive_entry* e = nullptr;
  return archive_read_next_header(a.get(), &e) == ARCHIVE_OK;
}

}  // namespace silo::image
