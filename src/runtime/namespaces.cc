#include "runtime/namespaces.h"

#include <sched.h>

#include <iterator>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace silo::runtime {

namespace {
// setns(2): a user namespace must be joined before the others it owns; the mount
// namespace last, since joining it changes the root the other /proc paths resolve in.
constexpr NamespaceKind kKinds[] = {
    {"user", "user", CLONE_NEWUSER}, {"ipc", "ipc", CLONE_NEWIPC},
    {"uts", "uts", CLONE_NEWUTS},    {"network", "net", CLONE_NEWNET},
    {"pid", "pid", CLONE_NEWPID},    {"cgroup", "cgroup", CLONE_NEWCGROUP},
    {"time", "time", CLONE_NEWTIME}, {"mount", "mnt", CLONE_NEWNS},
};
}  // namespace

const NamespaceKind* namespace_kinds(size_t* count) {
  *count = std::size(kKinds);
  return kKinds;
}

const NamespaceKind* namespace_kind(const std::string& oci) {
  for (const auto& k : kKinds)
    if (oci == k.oci) return &k;
  return nullptr;
}

}  // namespace silo::runtime
