// Fuzz target: the DHCP packet parser (packets come from the physical network, so from
// anyone on it) and the lease it may yield.

#include <cstddef>
#include <cstdint>
#include <span>

#include "network/dhcp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = silo::network::parse_dhcp(std::span(data, size));
  if (!m) return 0;
  (void)silo::network::lease_from_ack(*m);
  // What we build from what we parsed must parse again.
  auto again = silo::network::parse_dhcp(silo::network::build_dhcp(*m));
  if (!again) __builtin_trap();
  return 0;
}
