// Fuzz target: the DNS query parser (queries come from every container on a user-defined
// network) and the answers built for what it accepts.

#include <cstddef>
#include <cstdint>
#include <span>

#include "network/dns.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace silo::network;
  std::span packet(data, size);
  auto q = parse_dns_query(packet);
  if (!q) return 0;
  (void)address_from_reverse_name(q->name);
  DnsAnswer answer{
      DnsRcode::NoError, {*IpAddress::parse("10.1.0.5"), *IpAddress::parse("fd00::5")}, "web.net1"};
  for (size_t max : {size_t(12), size_t(512), size_t(65535)}) {
    auto wire = build_dns_answer(packet, answer, max);
    if (!wire) __builtin_trap();  // what parses must be answerable
    // The answer must parse again, as a response to the same question.
    auto back = parse_dns_query(*wire);
    if (!back || !back->response || back->id != q->id || back->name != q->name ||
        back->qtype != q->qtype)
      __builtin_trap();
  }
  auto fail = build_dns_answer(packet, {DnsRcode::ServFail});
  if (!fail || !parse_dns_query(*fail)) __builtin_trap();
  return 0;
}
