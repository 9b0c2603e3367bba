#include "common/guards.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>

#include <utility>

#include "common/sys.h"

namespace silo {

MountGuard::~MountGuard() {
  if (!target_.empty()) ::umount2(target_.c_str(), MNT_DETACH);
}

Result<NetnsGuard> NetnsGuard::enter(const std::string& netns_path) {
  auto original = sys::open("/proc/thread-self/ns/net", O_RDONLY);
  if (!original) return std::unexpected(original.error());
  auto target = sys::open(netns_path, O_RDONLY);
  if (!target) return std::unexpected(target.error());
  if (auto r = sys::setns(target->get(), CLONE_NEWNET); !r)
    return wrap(r.error(), "enter network namespace " + netns_path);
  return NetnsGuard(std::move(*original));
}

NetnsGuard::~NetnsGuard() {
  if (original_) (void)sys::setns(original_.get(), CLONE_NEWNET);
}

Result<ScratchDir> ScratchDir::make(const std::string& parent, std::string_view prefix) {
  std::string tmpl = parent + "/" + std::string(prefix) + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    return fail_errno(errno, "make a scratch directory in " + parent);
  ScratchDir d;
  d.path_ = std::move(tmpl);
  return d;
}

ScratchDir& ScratchDir::operator=(ScratchDir&& o) noexcept {
  if (this != &o) {
    if (!path_.empty()) (void)sys::remove_all(path_);
    path_ = std::exchange(o.path_, {});
  }
  return *this;
}

ScratchDir::~ScratchDir() {
  if (!path_.empty()) (void)sys::remove_all(path_);
}

}  // namespace silo
