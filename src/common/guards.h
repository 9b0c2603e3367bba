#pragma once
// RAII guards for mounts, network namespaces and scratch directories.

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"

namespace silo {

// Unmounts (MNT_DETACH) its target on destruction unless commit() was called.
class MountGuard {
 public:
  MountGuard() = default;
  explicit MountGuard(std::string target) : target_(std::move(target)) {}
  MountGuard(MountGuard&& o) noexcept : target_(std::move(o.target_)) { o.target_.clear(); }
  MountGuard& operator=(MountGuard&&) = delete;
  MountGuard(const MountGuard&) = delete;
  ~MountGuard();
  // Keeps the mount: the guard will not unmount it.
  void commit() { target_.clear(); }

 private:
  std::string target_;
};

// Enters a network namespace (by path) for the guard's lifetime, then returns the
// calling thread to the namespace it was in.
class NetnsGuard {
 public:
  [[nodiscard]] static Result<NetnsGuard> enter(const std::string& netns_path);
  NetnsGuard(NetnsGuard&&) noexcept = default;
  NetnsGuard& operator=(NetnsGuard&&) = delete;
  NetnsGuard(const NetnsGuard&) = delete;
  ~NetnsGuard();

 private:
  explicit NetnsGuard(UniqueFd original) : original_(std::move(original)) {}
  UniqueFd original_;
};

// A directory made by mkdtemp(3) as "<parent>/<prefix>-XXXXXX" (mode 0700; `parent` must
// exist), removed with everything in it when the guard goes.
class ScratchDir {
 public:
  ScratchDir() = default;
  // Errors name `parent`.
  [[nodiscard]] static Result<ScratchDir> make(const std::string& parent, std::string_view prefix);
  ScratchDir(ScratchDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  ScratchDir& operator=(ScratchDir&& o) noexcept;
  ScratchDir(const ScratchDir&) = delete;
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace silo
