// DNS messages through libldns: the question of a query, and the server's local answers.
// libldns does the wire format (name compression, label limits, pointer loops); this file
// only maps between its packets and DnsQuery / DnsAnswer.

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <memory>

#include "network/dns.h"

// ldns/common.h defines bool, true and false as macros unless <stdbool.h> came first
// (which, in C++, defines nothing but the guard); they break <optional>'s operator<=>.
#include <stdbool.h>  // NOLINT

#include <ldns/ldns.h>

namespace silo::network {

namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RrFree {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RrPtr = std::unique_ptr<ldns_rr, RrFree>;

// The packet and its only question.
struct Parsed {
  PktPtr pkt;
  const ldns_rr* question = nullptr;
};

Result<Parsed> parse_packet(std::span<const uint8_t> packet) {
  ldns_pkt* raw = nullptr;
  ldns_status s = ldns_wire2pkt(&raw, packet.data(), packet.size());
  if (s != LDNS_STATUS_OK)
    return fail(Code::Invalid, std::string("DNS message: ") + ldns_get_errorstr_by_id(s));
  Parsed p{PktPtr(raw)};
  const ldns_rr_list* q = ldns_pkt_question(raw);
  size_t n = q ? ldns_rr_list_rr_count(q) : 0;
  if (n != 1)
    return fail(Code::Invalid,
                "DNS message has " + std::to_string(n) + " questions; the server takes one");
  p.question = ldns_rr_list_rr(q, 0);
  return p;
}

// The presentation form of a name, lower-case, without the trailing dot.
std::string name_string(const ldns_rdf* dname) {
  char* text = ldns_rdf2str(dname);
  if (!text) return {};
  std::string s(text);
  std::free(text);
  if (!s.empty() && s.back() == '.') s.pop_back();
  std::ranges::transform(s, s.begin(), [](unsigned char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  });
  return s;
}

RrPtr new_record(const ldns_rr* question, ldns_rr_type type, ldns_rdf* rdata) {
  RrPtr rr(ldns_rr_new());
  // The owner as asked (its case included): resolvers that randomise the case of the
  // name (DNS 0x20) compare it.
  ldns_rr_set_owner(rr.get(), ldns_rdf_clone(ldns_rr_owner(question)));
  ldns_rr_set_type(rr.get(), type);
  ldns_rr_set_class(rr.get(), LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr.get(), kDnsTtl);
  ldns_rr_push_rdf(rr.get(), rdata);
  return rr;
}

Result<std::vector<RrPtr>> answer_records(const ldns_rr* question, const DnsAnswer& answer) {
  std::vector<RrPtr> out;
  if (answer.rcode != DnsRcode::NoError) return out;
  ldns_rr_type qtype = ldns_rr_get_type(question);
  if (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA) {
    bool v4 = qtype == LDNS_RR_TYPE_A;
    for (const IpAddress& a : answer.addresses) {
      if ((a.family == Family::V4) != v4) continue;
      out.push_back(new_record(question, qtype,
                               ldns_rdf_new_frm_data(v4 ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
                                                     v4 ? 4 : 16, a.bytes.data())));
    }
  } else if (qtype == LDNS_RR_TYPE_PTR && !answer.ptr.empty()) {
    ldns_rdf* target = ldns_dname_new_frm_str((answer.ptr + ".").c_str());
    if (!target) return fail(Code::Invalid, "PTR target \"" + answer.ptr + "\" is not a DNS name");
    out.push_back(new_record(question, LDNS_RR_TYPE_PTR, target));
  }
  return out;
}

// The reply with the first `n` of `records`; TC when some were left out.
Result<std::vector<uint8_t>> encode(const ldns_pkt* query, const ldns_rr* question, DnsRcode rcode,
                                    const std::vector<RrPtr>& records, size_t n) {
  PktPtr reply(ldns_pkt_new());
  ldns_pkt_set_id(reply.get(), ldns_pkt_id(query));
  ldns_pkt_set_qr(reply.get(), true);
  ldns_pkt_set_opcode(reply.get(), ldns_pkt_get_opcode(query));
  ldns_pkt_set_rd(reply.get(), ldns_pkt_rd(query));
  ldns_pkt_set_ra(reply.get(), true);
  ldns_pkt_set_tc(reply.get(), n < records.size());
  ldns_pkt_set_rcode(reply.get(), static_cast<uint8_t>(rcode));
  ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  for (size_t i = 0; i < n; ++i)
    ldns_pkt_push_rr(reply.get(), LDNS_SECTION_ANSWER, ldns_rr_clone(records[i].get()));
  uint8_t* wire = nullptr;
  size_t size = 0;
  ldns_status s = ldns_pkt2wire(&wire, reply.get(), &size);
  if (s != LDNS_STATUS_OK)
    return fail(Code::Internal, std::string("DNS answer: ") + ldns_get_errorstr_by_id(s));
  std::vector<uint8_t> out(wire, wire + size);
  std::free(wire);
  return out;
}

// Decimal 0..255 or one hex nibble, the whole label.
std::optional<unsigned> label_number(std::string_view label, int base, unsigned max) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), v, base);
  if (label.empty() || label.size() > 3 || ec != std::errc() ||
      end != label.data() + label.size() || v > max)
    return std::nullopt;
  return v;
}

std::vector<std::string_view> split_labels(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

}  // namespace

Result<DnsQuery> parse_dns_query(std::span<const uint8_t> packet) {
  auto p = parse_packet(packet);
  if (!p) return std::unexpected(p.error());
  DnsQuery q;
  q.id = ldns_pkt_id(p->pkt.get());
  q.response = ldns_pkt_qr(p->pkt.get());
  q.opcode = static_cast<uint8_t>(ldns_pkt_get_opcode(p->pkt.get()));
  q.name = name_string(ldns_rr_owner(p->question));
  q.qtype = static_cast<uint16_t>(ldns_rr_get_type(p->question));
  q.qclass = static_cast<uint16_t>(ldns_rr_get_class(p->question));
  return q;
}

Result<std::vector<uint8_t>> build_dns_answer(std::span<const uint8_t> query_packet,
                                              const DnsAnswer& answer, size_t max_size) {
  auto p = parse_packet(query_packet);
  if (!p) return wrap(p.error(), "answer");
  auto records = answer_records(p->question, answer);
  if (!records) return std::unexpected(records.error());
  auto all = encode(p->pkt.get(), p->question, answer.rcode, *records, records->size());
  if (!all || all->size() <= max_size || records->empty()) return all;
  // The most records that fit: a binary search over the count (all of them do not).
  size_t lo = 0, hi = records->size() - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    auto wire = encode(p->pkt.get(), p->question, answer.rcode, *records, mid);
    if (!wire) return wire;
    if (wire->size() <= max_size)
      lo = mid;
    else
      hi = mid - 1;
  }
  return encode(p->pkt.get(), p->question, answer.rcode, *records, lo);
}

std::optional<IpAddress> address_from_reverse_name(std::string_view name) {
  IpAddress a;
  if (name.ends_with(".in-addr.arpa")) {
    auto labels = split_labels(name.substr(0, name.size() - 13));
    if (labels.size() != 4) return std::nullopt;
    for (size_t i = 0; i < 4; ++i) {
      auto v = label_number(labels[i], 10, 255);
      if (!v) return std::nullopt;
      a.bytes[3 - i] = static_cast<uint8_t>(*v);
    }
    return a;
  }
  if (name.ends_with(".ip6.arpa")) {
    auto labels = split_labels(name.substr(0, name.size() - 9));
    if (labels.size() != 32) return std::nullopt;
    a.family = Family::V6;
    for (size_t i = 0; i < 32; ++i) {
      auto v = labels[i].size() == 1 ? label_number(labels[i], 16, 15) : std::nullopt;
      if (!v) return std::nullopt;
      // The first label is the low nibble of the last byte.
      size_t byte = 15 - i / 2;
      a.bytes[byte] |= static_cast<uint8_t>(i % 2 == 0 ? *v : *v << 4);
    }
    return a;
  }
  return std::nullopt;
}

Result<DnsUpstream> DnsUpstream::parse(std::string_view text) {
  auto bad = [&] {
    return fail(Code::Invalid,
                "DNS server \"" + std::string(text) + "\" is not an address or address:port");
  };
  DnsUpstream u;
  std::string_view host = text, port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad();
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return bad();
      port = text.substr(close + 2);
      if (port.empty()) return bad();
    }
  } else if (std::ranges::count(text, ':') == 1) {
    host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
    if (port.empty()) return bad();
  }
  auto addr = IpAddress::parse(host);
  if (!addr) return bad();
  u.addr = *addr;
  if (!port.empty()) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || end != port.data() + port.size() || v == 0 || v > 65535) return bad();
    u.port = static_cast<uint16_t>(v);
  }
  return u;
}

std::string DnsUpstream::str() const {
  if (port == 53) return addr.str();
  if (addr.family == Family::V6) return "[" + addr.str() + "]:" + std::to_string(port);
  return addr.str() + ":" + std::to_string(port);
}

}  // namespace silo::network
