#pragma once
// DNS test helpers: queries written out byte by byte (so the parser is checked against
// the wire format, not against libldns's own builder), and replies read back with libldns
// into text that tests compare ("web. 600 A 10.1.0.5").

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// See src/network/dns.cc: ldns/common.h's bool macros unless <stdbool.h> came first.
#include <stdbool.h>  // NOLINT

#include <ldns/ldns.h>

namespace silo::network::testing {

// A query for `name` (dots between labels; a trailing dot is the same name), class IN.
inline std::vector<uint8_t> dns_query(uint16_t id, std::string_view name, uint16_t qtype,
                                      bool rd = true) {
  std::vector<uint8_t> p = {
      uint8_t(id >> 8), uint8_t(id), uint8_t(rd ? 0x01 : 0x00), 0, 0, 1, 0, 0, 0, 0, 0, 0};
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    p.push_back(static_cast<uint8_t>(label.size()));
    p.insert(p.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  p.push_back(0);
  p.insert(p.end(), {uint8_t(qtype >> 8), uint8_t(qtype), 0, 1});
  return p;
}

// A reply as tests see it.
struct DnsReply {
  bool ok = false;  // libldns parsed it
  uint16_t id = 0;
  bool qr = false, tc = false, rd = false, ra = false;
  int rcode = -1;
  std::string question;              // "WeB. A"
  std::vector<std::string> answers;  // "web. 600 A 10.1.0.5"
};

inline std::string rdf_text(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "?";
  std::free(s);
  return out;
}

inline std::string type_text(ldns_rr_type t) {
  char* s = ldns_rr_type2str(t);
  std::string out = s ? s : "?";
  std::free(s);
  return out;
}

inline DnsReply read_reply(const std::vector<uint8_t>& wire) {
  DnsReply r;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) return r;
  r.ok = true;
  r.id = ldns_pkt_id(pkt);
  r.qr = ldns_pkt_qr(pkt);
  r.tc = ldns_pkt_tc(pkt);
  r.rd = ldns_pkt_rd(pkt);
  r.ra = ldns_pkt_ra(pkt);
  r.rcode = ldns_pkt_get_rcode(pkt);
  if (ldns_rr_list_rr_count(ldns_pkt_question(pkt)) == 1) {
    const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
    r.question = rdf_text(ldns_rr_owner(q)) + " " + type_text(ldns_rr_get_type(q));
  }
  const ldns_rr_list* answers = ldns_pkt_answer(pkt);
  for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answers, i);
    std::string line = rdf_text(ldns_rr_owner(rr)) + " " + std::to_string(ldns_rr_ttl(rr)) + " " +
                       type_text(ldns_rr_get_type(rr));
    for (size_t f = 0; f < ldns_rr_rd_count(rr); ++f) line += " " + rdf_text(ldns_rr_rdf(rr, f));
    r.answers.push_back(line);
  }
  ldns_pkt_free(pkt);
  return r;
}

}  // namespace silo::network::testing
