// The busybox seed image (see seed_image.h).

#include "engine/seed_image.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "common/sha256.h"
#include "common/sys.h"

namespace silo::engine {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// `busybox --list-full`: one applet path per line ("bin/ls", "usr/bin/env").
Result<std::vector<std::string>> applets(const std::string& busybox) {
  std::string cmd = "'" + busybox + "' --list-full";
  FILE* p = ::popen(cmd.c_str(), "re");
  if (!p) return fail_errno(errno, "run " + busybox + " --list-full");
  std::vector<std::string> out;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    // Only relative paths of plain names: the list comes from a binary we trust, but a
    // ".." would still write outside the image.
    if (!s.empty() && s[0] != '/' && s.find("..") == std::string::npos) out.push_back(s);
  }
  int rc = ::pclose(p);
  if (rc != 0 || out.empty())
    return fail(Code::Invalid, busybox + " --list-full failed; install the busybox-static package");
  return out;
}

Status build_rootfs(const std::string& dest, const std::string& busybox) {
  auto list = applets(busybox);
  if (!list) return std::unexpected(list.error());
  for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp",
                        "root", "home", "var", "run"})
    SILO_TRY(sys::mkdir_p(dest + "/" + d, 0755));
  if (::chmod((dest + "/tmp").c_str(), 01777) != 0) return fail_errno(errno, "chmod tmp");
  std::error_code ec;
  fs::copy_file(busybox, dest + "/bin/busybox", ec);
  if (ec) return fail(Code::Internal, "copy " + busybox + ": " + ec.message());
  ::chmod((dest + "/bin/busybox").c_str(), 0755);
  for (const auto& a : *list) {
    if (a == "bin/busybox") continue;
    fs::path p = fs::path(dest) / a;
    fs::create_directories(p.parent_path(), ec);
    fs::remove(p, ec);
    fs::create_symlink("/bin/busybox", p, ec);
    if (ec) return fail(Code::Internal, "symlink " + p.string() + ": " + ec.message());
  }
  SILO_TRY(sys::write_file_atomic(dest + "/etc/passwd",
                                  "root:x:0:0:root:/root:/bin/sh\n"
                                  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"));
  SILO_TRY(sys::write_file_atomic(dest + "/etc/group", "root:x:0:\nnobody:x:65534:\n"));
  return {};
}

uint64_t tree_size(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) n += it->file_size(ec);
  return n;
}

Json inspect_of(const ImageRef& img, const std::string& created, uint64_t size) {
  Json cfg = {{"Hostname", ""},        {"Domainname", ""},      {"User", ""},
              {"AttachStdin", false},  {"AttachStdout", false}, {"AttachStderr", false},
              {"Tty", false},          {"OpenStdin", false},    {"StdinOnce", false},
              {"Env", img.config.env}, {"Cmd", img.config.cmd}, {"Image", ""},
              {"Volumes", nullptr},    {"WorkingDir", ""},      {"Entrypoint", nullptr},
              {"OnBuild", nullptr},    {"Labels", nullptr}};
  return {{"Id", img.id},
          {"RepoTags", {img.name}},
          {"RepoDigests", Json::array()},
          {"Parent", ""},
          {"Comment", "seeded by silod from the host's static busybox"},
          {"Created", created},
          {"Container", ""},
          {"ContainerConfig", cfg},
          {"DockerVersion", ""},
          {"Author", ""},
          {"Config", cfg},
          {"Architecture", "amd64"},
          {"Os", "linux"},
          {"Size", size},
          {"VirtualSize", size},
          {"GraphDriver", {{"Data", {{"MergedDir", img.rootfs}}}, {"Name", "overlay2"}}},
          {"RootFS", {{"Type", "layers"}, {"Layers", {img.id}}}},
          {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}}};
}

}  // namespace

Result<ImageRef> seed_busybox(const std::string& root, const std::string& busybox_path) {
  if (!sys::path_exists(busybox_path))
    return fail(Code::NotFound, "seed image busybox: " + busybox_path +
                                    " is missing; install the busybox-static package");
  auto digest = sha256_file(busybox_path);
  if (!digest) return wrap(digest.error(), "seed image busybox");
  ImageRef img{.id = "sha256:" + *digest, .name = "busybox:latest"};
  const std::string dir = root + "/images/busybox";
  img.rootfs = dir + "/rootfs";
  img.config.env = {kPath};
  img.config.cmd = {"sh"};
  auto have = sys::read_file(dir + "/id");
  if (!have || *have != img.id || !sys::is_directory(img.rootfs)) {
    SILO_TRY(sys::mkdir_p(dir, 0700));
    const std::string tmp = dir + "/rootfs.tmp";
    SILO_TRY(sys::remove_all(tmp));
    SILO_TRY_CTX(build_rootfs(tmp, busybox_path), "seed image busybox");
    SILO_TRY(sys::remove_all(img.rootfs));
    if (::rename(tmp.c_str(), img.rootfs.c_str()) != 0)
      return fail_errno(errno, "seed image busybox: rename " + tmp);
    SILO_TRY(sys::write_file_atomic(dir + "/created", now_rfc3339()));
    SILO_TRY(sys::write_file_atomic(dir + "/id", img.id));
  }
  auto created = sys::read_file(dir + "/created");
  img.inspect = inspect_of(img, created ? *created : now_rfc3339(), tree_size(img.rootfs));
  return img;
}

bool image_matches(const ImageRef& img, std::string_view ref) {
  std::string r(ref);
  if (r.starts_with("docker.io/")) r = r.substr(10);
  if (r.starts_with("library/")) r = r.substr(8);
  const std::string repo = img.name.substr(0, img.name.find(':'));
  if (r == repo || r == img.name) return true;
  std::string hex = img.id.substr(7);
  std::string want(ref);
  if (want.starts_with("sha256:")) want = want.substr(7);
  return want.size() >= 1 && hex.starts_with(want) &&
         want.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Error no_such_image(std::string_view ref) {
  std::string r(ref);
  auto slash = r.rfind('/');
  bool tagged = r.find(':', slash == std::string::npos ? 0 : slash) != std::string::npos ||
                r.find('@') != std::string::npos;
  return Error{.code = Code::NotFound,
               .message = "No such image: " + r + (tagged ? "" : ":latest")};
}

Json image_summary(const ImageRef& img) {
  const Json& i = img.inspect;
  int64_t created = 0;
  std::tm tm = {};
  std::string c = i.value("Created", "");
  if (::strptime(c.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) created = ::timegm(&tm);
  return {{"Containers", -1},
          {"Created", created},
          {"Id", img.id},
          {"Labels", nullptr},
          {"ParentId", ""},
          {"RepoDigests", Json::array()},
          {"RepoTags", {img.name}},
          {"SharedSize", -1},
          {"Size", i.value("Size", 0)},
          {"VirtualSize", i.value("Size", 0)}};
}

}  // namespace silo::engine
