// The busybox seed image (see seed_image.h).

#include "engine/seed_image.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "common/log.h"
#include "common/sys.h"
#include "engine/images.h"
#include "image/layer_diff.h"
#include "image/platform.h"

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

}  // namespace

Status seed_busybox(ImageService& images, const std::string& work_dir,
                    const std::string& busybox_path) {
  if (images.resolve(kSeedRef)) return {};
  if (!sys::path_exists(busybox_path))
    return fail(Code::NotFound, "seed image busybox: " + busybox_path +
                                    " is missing; install the busybox-static package");
  const std::string tmp = work_dir + "/seed-busybox.tmp";
  SILO_TRY(sys::remove_all(tmp));
  SILO_TRY(sys::mkdir_p(tmp, 0755));
  auto built = build_rootfs(tmp, busybox_path);
  Result<image::DiffResult> layer =
      built ? image::diff_layer_to_store(tmp, images.blobs(), work_dir,
                                         {.mode = image::DiffMode::Plain})
            : Result<image::DiffResult>(std::unexpected(built.error()));
  (void)sys::remove_all(tmp);
  if (!layer) return wrap(layer.error(), "seed image busybox");
  const std::string created = now_rfc3339();
  image::Platform host = image::host_platform();
  Json config = {
      {"architecture", host.architecture},
      {"os", host.os},
      {"created", created},
      {"config", {{"Env", {kPath}}, {"Cmd", {"sh"}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {layer->diff_id.str()}}}},
      {"history",
       {{{"created", created},
         {"created_by", "silod: the host's static busybox (" + busybox_path + ")"},
         {"comment", "seeded by silod"}}}}};
  if (!host.variant.empty()) config["variant"] = host.variant;
  Json layers = {{{"digest", layer->digest.str()},
                  {"diff_id", layer->diff_id.str()},
                  {"media_type", layer->media_type},
                  {"size", layer->size},
                  {"uncompressed_size", layer->uncompressed_size}}};
  auto id = images.add(config.dump(), layers, {std::string(kSeedRef)});
  if (!id) return wrap(id.error(), "seed image busybox");
  spdlog::info("seeded {} ({}) from {}", kSeedRef, *id, busybox_path);
  return {};
}

}  // namespace silo::engine
