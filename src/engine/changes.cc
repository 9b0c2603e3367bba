// `docker diff` for overlay: the upper directory is the container's layer.

#include "engine/changes.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <set>

namespace silo::engine {
namespace {

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

// overlayfs marks a directory that hides the lower one with trusted.overlay.opaque=y, or
// user.overlay.opaque=y when mounted with userxattr (overlayfs(5), kernel 5.11+).
bool is_opaque(const std::string& path) {
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
    char v[2] = {};
    ssize_t n = ::lgetxattr(path.c_str(), name, v, sizeof v);
    if (n == 1 && v[0] == 'y') return true;
  }
  return false;
}

// The path as the image shows it: the first layer, top first, that has it, unless that
// is a whiteout (a layer's deletion of what the layers below it have).
bool lower_lstat(const std::vector<std::string>& lowers, const std::string& rel,
                 struct stat* st) {
  for (const auto& l : lowers)
    if (::lstat((l + rel).c_str(), st) == 0) return !is_whiteout(*st);
  return false;
}

struct Walker {
  const std::string& upper;
  const std::vector<std::string>& lowers;
  std::vector<Change> out;
  std::set<std::string> changed_dirs;

  void note_parent(const std::string& path) {
    std::string parent = path.substr(0, path.rfind('/'));
    if (parent.empty() || changed_dirs.contains(parent)) return;
    out.push_back({parent, ChangeKind::Modified});
    changed_dirs.insert(parent);
  }

  // Everything the lower directory has under `rel` (an opaque dir hides it all).
  void hidden_by_opaque(const std::string& rel, const std::set<std::string>& kept) {
    std::set<std::string> names;
    for (const auto& l : lowers) {
      DIR* d = ::opendir((l + rel).c_str());
      if (!d) continue;
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == ".." || kept.contains(n)) continue;
        struct stat st {};
        if (lower_lstat(lowers, rel + "/" + n, &st)) names.insert(n);
      }
      ::closedir(d);
    }
    for (const auto& n : names) out.push_back({rel + "/" + n, ChangeKind::Deleted});
  }

  Status walk(const std::string& rel) {
    std::string dir = upper + rel;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      int err = errno;
      return fail_errno(err, "read container layer " + dir);
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) SILO_TRY(visit(rel + "/" + n));
    return {};
  }

  Status visit(const std::string& rel) {
    struct stat st {};
    if (::lstat((upper + rel).c_str(), &st) != 0) return {};  // gone meanwhile
    if (is_whiteout(st)) {
      out.push_back({rel, ChangeKind::Deleted});
      note_parent(rel);
      return {};
    }
    ChangeKind kind = ChangeKind::Added;
    struct stat lst {};
    bool in_lower = lower_lstat(lowers, rel, &lst);
    bool opaque = S_ISDIR(st.st_mode) && is_opaque(upper + rel);
    bool skip = false;
    if (in_lower) {
      kind = ChangeKind::Modified;
      // A directory copied up only because something below it changed is not itself
      // a change (dockerd compares mode, size and mtime).
      skip = S_ISDIR(st.st_mode) && S_ISDIR(lst.st_mode) && !opaque && st.st_mode == lst.st_mode &&
             st.st_size == lst.st_size && st.st_mtim.tv_sec == lst.st_mtim.tv_sec;
    }
    if (!skip) out.push_back({rel, kind});
    if (S_ISDIR(st.st_mode) && !skip) changed_dirs.insert(rel);
    if (!skip && kind == ChangeKind::Added) note_parent(rel);
    if (!S_ISDIR(st.st_mode)) return {};
    if (opaque && in_lower) {
      std::set<std::string> kept;
      if (DIR* d = ::opendir((upper + rel).c_str())) {
        while (dirent* e = ::readdir(d)) kept.insert(e->d_name);
        ::closedir(d);
      }
      hidden_by_opaque(rel, kept);
    }
    return walk(rel);
  }
};

}  // namespace

Result<std::vector<Change>> overlay_changes(const std::string& upper,
                                            const std::vector<std::string>& lowers) {
  struct stat st {};
  if (::lstat(upper.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(Code::NotFound, "container layer " + upper + " is missing");
  Walker w{upper, lowers, {}, {}};
  SILO_TRY(w.walk(""));
  std::sort(w.out.begin(), w.out.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  // A path can be noted twice (as a parent and by itself); keep the first.
  w.out.erase(std::unique(w.out.begin(), w.out.end(),
                          [](const Change& a, const Change& b) { return a.path == b.path; }),
              w.out.end());
  return std::move(w.out);
}

Json changes_json(const std::vector<Change>& changes) {
  if (changes.empty()) return nullptr;
  Json out = Json::array();
  for (const auto& c : changes)
    out.push_back({{"Path", c.path}, {"Kind", static_cast<int>(c.kind)}});
  return out;
}

}  // namespace silo::engine
