#pragma once
// Namespace kinds: OCI names, clone flags and /proc/<pid>/ns names.

#include <string>

namespace silo::runtime {

struct NamespaceKind {
  const char* oci;   // "network"
  const char* proc;  // "net" (as in /proc/<pid>/ns/net)
  int clone_flag;    // CLONE_NEWNET
};

// All kinds, in the order namespaces must be joined (user first, mount last).
const NamespaceKind* namespace_kinds(size_t* count);
// The kind for an OCI type name, or nullptr.
const NamespaceKind* namespace_kind(const std::string& oci);

}  // namespace silo::runtime
