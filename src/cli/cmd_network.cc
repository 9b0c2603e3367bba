// Networks: silo network create/ls/inspect/rm/prune/connect/disconnect (docker's grammar
// and output), silo network nat ls/add/rm (static NAT mappings, Silo's /silo/nat API), and
// silo port.
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/gotemplate.h"

namespace silo::cli {
namespace {

Json key_values(const std::vector<std::string>& kvs) {
  Json j = Json::object();
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    j[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return j;
}

int network_create(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {
      {"d,driver", true},   {"subnet", true},     {"gateway", true},    {"ip-range", true},
      {"aux-address", true}, {"o,opt", true},     {"label", true},      {"ipam-driver", true},
      {"ipam-opt", true},   {"ipv6"},             {"internal"},         {"attachable"}};
  auto p = parse_or_usage("network create", specs, a);
  if (!p) return 125;
  if (p->args.size() != 1) {
    std::cerr << "\"silo network create\" requires exactly 1 argument.\nSee 'silo network create "
                 "--help'.\n\nUsage:  silo network create [OPTIONS] NETWORK\n";
    return 1;
  }
  // docker pairs the n-th --gateway and --ip-range with the n-th --subnet.
  auto subnets = p->all("subnet"), gateways = p->all("gateway"), ranges = p->all("ip-range");
  if (gateways.size() > subnets.size() || ranges.size() > subnets.size()) {
    std::cerr << "Error response from daemon: every --gateway and --ip-range needs a --subnet\n";
    return 1;
  }
  Json config = Json::array();
  for (size_t i = 0; i < subnets.size(); ++i) {
    Json s = {{"Subnet", subnets[i]}};
    if (i < gateways.size()) s["Gateway"] = gateways[i];
    if (i < ranges.size()) s["IPRange"] = ranges[i];
    if (i == 0 && p->has("aux-address")) s["AuxiliaryAddresses"] = key_values(p->all("aux-address"));
    config.push_back(s);
  }
  Json body = {{"Name", p->args[0]},
               {"CheckDuplicate", true},
               {"Driver", p->get("driver", "bridge")},
               {"IPAM",
                {{"Driver", p->get("ipam-driver", "default")},
                 {"Config", config},
                 {"Options", key_values(p->all("ipam-opt"))}}},
               {"Options", key_values(p->all("opt"))},
               {"Labels", key_values(p->all("label"))},
               {"Internal", p->on("internal")},
               {"EnableIPv6", p->on("ipv6")},
               {"Attachable", p->on("attachable")}};
  auto r = c.call("POST", "/networks/create", body);
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "network");
  if (!j) return print_error(j.error());
  std::cout << j->value("Id", "") << "\n";
  return 0;
}

int network_ls(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {
      {"q,quiet"}, {"no-trunc"}, {"f,filter", true}, {"format", true}};
  auto p = parse_or_usage("network ls", specs, a);
  if (!p) return 125;
  auto r = c.call("GET", "/networks" + query({{"filters", filters_json(p->all("filter"))}}));
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "network list");
  if (!j) return print_error(j.error());
  std::vector<Json> rows;
  for (const auto& n : *j) {
    Json row = n;
    std::string id = n.value("Id", "");
    row["ID"] = p->on("no-trunc") ? id : id.substr(0, 12);
    row["IPv6"] = n.value("EnableIPv6", false) ? "true" : "false";
    row["Internal"] = n.value("Internal", false) ? "true" : "false";
    std::string labels;
    const Json labels_of = n.value("Labels", Json::object());
    for (const auto& [k, v] : labels_of.items())
      labels += (labels.empty() ? "" : ",") + k + "=" + go_print(v);
    row["Labels"] = labels;
    row["CreatedAt"] = n.value("Created", "");
    rows.push_back(row);
  }
  std::string def =
      p->on("quiet") ? "{{.ID}}" : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
  static const Json headers = {{"ID", "NETWORK ID"}, {"Name", "NAME"},         {"Driver", "DRIVER"},
                               {"Scope", "SCOPE"},   {"IPv6", "IPV6"},         {"Internal", "INTERNAL"},
                               {"Labels", "LABELS"}, {"CreatedAt", "CREATED"}};
  auto s = render_rows(p->get("format"), def, rows, headers);
  if (!s) return print_error(s.error());
  std::cout << *s;
  return 0;
}

int network_inspect(Client& c, const Args& a) {
  auto p = parse_or_usage("network inspect", {{"f,format", true}, {"v,verbose"}}, a);
  if (!p) return 125;
  if (!need_args("network inspect", *p, 1, "[OPTIONS] NETWORK [NETWORK...]")) return 1;
  Json all = Json::array();
  int rc = 0;
  for (const auto& n : p->args) {
    auto r = c.call("GET", "/networks/" + url_encode(n));
    if (!r) {
      rc = print_error(r.error());
      continue;
    }
    auto j = parse_json(r->body, "network");
    if (!j) return print_error(j.error());
    if (p->has("format")) {
      auto s = render_template(p->get("format"), *j);
      if (!s) return print_error(s.error());
      std::cout << *s << "\n";
    } else {
      all.push_back(*j);
    }
  }
  if (!p->has("format")) std::cout << all.dump(4) << "\n";
  return rc;
}

int network_prune(Client& c, const Args& a) {
  auto p = parse_or_usage("network prune", {{"f,force"}, {"filter", true}}, a);
  if (!p) return 125;
  if (!p->on("force")) {
    std::cout << "WARNING! This will remove all custom networks not used by at least one "
                 "container.\nAre you sure you want to continue? [y/N] "
              << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y") return 0;
  }
  auto r = c.call("POST", "/networks/prune" + query({{"filters", filters_json(p->all("filter"))}}));
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "prune report");
  if (!j) return print_error(j.error());
  auto deleted = j->value("NetworksDeleted", Json::array());
  if (deleted.is_array() && !deleted.empty()) {
    std::cout << "Deleted Networks:\n";
    for (const auto& n : deleted) std::cout << n.get<std::string>() << "\n";
  }
  return 0;
}

int network_connect(Client& c, const Args& a, bool connect) {
  std::vector<FlagSpec> specs = {{"f,force"}};
  if (connect)
    specs = {{"ip", true}, {"ip6", true}, {"alias", true}, {"link", true},
             {"link-local-ip", true}, {"driver-opt", true}};
  std::string cmd = connect ? "network connect" : "network disconnect";
  auto p = parse_or_usage(cmd, specs, a);
  if (!p) return 125;
  if (p->args.size() != 2) {
    std::cerr << "\"silo " << cmd << "\" requires exactly 2 arguments.\nSee 'silo " << cmd
              << " --help'.\n\nUsage:  silo " << cmd << " [OPTIONS] NETWORK CONTAINER\n";
    return 1;
  }
  Json body = {{"Container", p->args[1]}};
  if (connect) {
    Json ep = Json::object();
    if (p->has("ip") || p->has("ip6")) {
      ep["IPAMConfig"] = Json::object();
      if (p->has("ip")) ep["IPAMConfig"]["IPv4Address"] = p->get("ip");
      if (p->has("ip6")) ep["IPAMConfig"]["IPv6Address"] = p->get("ip6");
    }
    if (p->has("alias")) ep["Aliases"] = p->all("alias");
    if (p->has("link")) ep["Links"] = p->all("link");
    body["EndpointConfig"] = ep;
  } else {
    body["Force"] = p->on("force");
  }
  auto r = c.call("POST",
                  "/networks/" + url_encode(p->args[0]) + (connect ? "/connect" : "/disconnect"),
                  body);
  if (!r) return print_error(r.error());
  return 0;
}

// One static NAT mapping's row: "0.0.0.0:8080", "172.16.0.5:80", the owner.
Json nat_row(const Json& m) {
  std::string ext = m.value("ExternalIP", "");
  if (ext.empty()) ext = "0.0.0.0";
  std::string owner = m.value("Static", false) ? "static" : m.value("ContainerName", "");
  return {{"Network", m.value("Network", "")},
          {"Protocol", m.value("Protocol", "tcp")},
          {"External", ext + ":" + std::to_string(m.value("ExternalPort", 0))},
          {"Internal",
           m.value("InternalIP", "") + ":" + std::to_string(m.value("InternalPort", 0))},
          {"Owner", owner}};
}

int network_nat(Client& c, const Args& a) {
  if (a.empty()) {
    std::cerr << "Usage:  silo network nat COMMAND\n\nStatic NAT mappings (Windows' "
                 "NetNatStaticMapping)\n\nCommands:\n  ls   List mappings (container and "
                 "static)\n  add  Add a static mapping\n  rm   Remove static mappings\n";
    return 1;
  }
  std::string sub = a[0];
  Args rest(a.begin() + 1, a.end());
  if (sub == "ls" || sub == "list") {
    auto p = parse_or_usage("network nat ls", {{"network", true}, {"format", true}}, rest);
    if (!p) return 125;
    auto r = c.call("GET", "/silo/nat" + query({{"network", p->get("network")}}));
    if (!r) return print_error(r.error());
    auto j = parse_json(r->body, "NAT mappings");
    if (!j) return print_error(j.error());
    std::vector<Json> rows;
    for (const auto& m : *j) rows.push_back(nat_row(m));
    static const Json headers = {{"Network", "NETWORK"},   {"Protocol", "PROTOCOL"},
                                 {"External", "EXTERNAL"}, {"Internal", "INTERNAL"},
                                 {"Owner", "OWNER"}};
    auto s = render_rows(p->get("format"),
                         "table {{.Network}}\t{{.Protocol}}\t{{.External}}\t{{.Internal}}\t{{.Owner}}",
                         rows, headers);
    if (!s) return print_error(s.error());
    std::cout << *s;
    return 0;
  }
  if (sub == "add") {
    static const std::vector<FlagSpec> specs = {
        {"network", true},     {"protocol", true},    {"external-ip", true},
        {"external-port", true}, {"internal-ip", true}, {"internal-port", true}};
    auto p = parse_or_usage("network nat add", specs, rest);
    if (!p) return 125;
    for (const char* need : {"external-port", "internal-ip", "internal-port"})
      if (!p->has(need)) {
        std::cerr << "silo network nat add: --" << need
                  << " is required\nUsage:  silo network nat add [--network nat] [--protocol tcp] "
                     "[--external-ip IP] --external-port N --internal-ip IP --internal-port N\n";
        return 125;
      }
    auto port = [&](const char* k) -> std::optional<int> {
      try {
        return std::stoi(p->get(k));
      } catch (...) {
        std::cerr << "invalid argument \"" << p->get(k) << "\" for \"--" << k
                  << "\" flag: want a port number\n";
        return std::nullopt;
      }
    };
    auto ext = port("external-port"), in = port("internal-port");
    if (!ext || !in) return 125;
    Json body = {{"Network", p->get("network", "nat")},
                 {"Protocol", p->get("protocol", "tcp")},
                 {"ExternalIP", p->get("external-ip")},
                 {"ExternalPort", *ext},
                 {"InternalIP", p->get("internal-ip")},
                 {"InternalPort", *in}};
    auto r = c.call("POST", "/silo/nat", body);
    if (!r) return print_error(r.error());
    return 0;
  }
  if (sub == "rm" || sub == "remove") {
    static const std::vector<FlagSpec> specs = {
        {"network", true}, {"external-port", true}, {"protocol", true}};
    auto p = parse_or_usage("network nat rm", specs, rest);
    if (!p) return 125;
    auto r = c.call("DELETE", "/silo/nat" + query({{"network", p->get("network")},
                                                   {"external-port", p->get("external-port")},
                                                   {"protocol", p->get("protocol")}}));
    if (!r) return print_error(r.error());
    auto j = parse_json(r->body, "removed mappings");
    if (!j) return print_error(j.error());
    for (const auto& m : j->value("Removed", Json::array())) {
      Json row = nat_row(m);
      std::cout << row["Protocol"].get<std::string>() << " " << row["External"].get<std::string>()
                << " -> " << row["Internal"].get<std::string>() << "\n";
    }
    return 0;
  }
  std::cerr << "silo: 'network nat " << sub << "' is not a silo command.\nSee 'silo network nat'\n";
  return 1;
}

}  // namespace

int cmd_network(Client& c, const Args& a) {
  if (a.empty()) {
    std::cerr << "Usage:  silo network COMMAND\n\nManage networks\n\nCommands:\n"
                 "  connect     Connect a container to a network\n"
                 "  create      Create a network\n"
                 "  disconnect  Disconnect a container from a network\n"
                 "  inspect     Display detailed information on one or more networks\n"
                 "  ls          List networks\n"
                 "  nat         Manage static NAT mappings\n"
                 "  prune       Remove all unused networks\n"
                 "  rm          Remove one or more networks\n";
    return 1;
  }
  std::string sub = a[0];
  Args rest(a.begin() + 1, a.end());
  if (sub == "create") return network_create(c, rest);
  if (sub == "ls" || sub == "list") return network_ls(c, rest);
  if (sub == "inspect") return network_inspect(c, rest);
  if (sub == "prune") return network_prune(c, rest);
  if (sub == "connect") return network_connect(c, rest, true);
  if (sub == "disconnect") return network_connect(c, rest, false);
  if (sub == "nat") return network_nat(c, rest);
  if (sub == "rm" || sub == "remove") {
    auto p = parse_or_usage("network rm", {{"f,force"}}, rest);
    if (!p) return 125;
    if (!need_args("network rm", *p, 1, "[OPTIONS] NETWORK [NETWORK...]")) return 1;
    return for_each_container(p->args, [&](const std::string& n) -> Status {
      auto r = c.call("DELETE", "/networks/" + url_encode(n));
      if (!r) return std::unexpected(r.error());
      return {};
    });
  }
  std::cerr << "silo: 'network " << sub << "' is not a silo command.\nSee 'silo network --help'\n";
  return 1;
}

int cmd_port(Client& c, const Args& a) {
  auto p = parse_or_usage("port", {}, a);
  if (!p) return 125;
  if (p->args.empty() || p->args.size() > 2) {
    std::cerr << "\"silo port\" requires at least 1 and at most 2 arguments.\nSee 'silo port "
                 "--help'.\n\nUsage:  silo port CONTAINER [PRIVATE_PORT[/PROTO]]\n";
    return 1;
  }
  auto r = c.call("GET", "/containers/" + url_encode(p->args[0]) + "/json");
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "container");
  if (!j) return print_error(j.error());
  Json ports = (*j)["NetworkSettings"].value("Ports", Json::object());
  if (!ports.is_object()) ports = Json::object();
  auto host_of = [](const Json& b) {
    std::string ip = b.value("HostIp", "");
    return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" +
           b.value("HostPort", "");
  };
  if (p->args.size() == 2) {
    std::string want = p->args[1];
    if (want.find('/') == std::string::npos) want += "/tcp";
    auto it = ports.find(want);
    if (it == ports.end() || !it->is_array() || it->empty()) {
      std::string name = j->value("Name", "");
      if (name.starts_with("/")) name = name.substr(1);
      std::cerr << "Error: No public port '" << want << "' published for " << name << "\n";
      return 1;
    }
    for (const auto& b : *it) std::cout << host_of(b) << "\n";
    return 0;
  }
  for (const auto& [key, list] : ports.items())
    if (list.is_array())
      for (const auto& b : list) std::cout << key << " -> " << host_of(b) << "\n";
  return 0;
}

}  // namespace silo::cli
