// Container management: stop, restart, kill, rm, pause, unpause, wait, rename, top, ps,
// logs, inspect.
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "api/stream.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/gotemplate.h"

namespace silo::cli {
namespace {

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A command that POSTs one path per container and prints each name.
int simple_post(Client& c, const std::string& cmd, const Args& a,
                const std::vector<FlagSpec>& specs,
                const std::function<std::string(const Parsed&)>& suffix) {
  auto p = parse_or_usage(cmd, specs, a);
  if (!p) return 125;
  if (!need_args(cmd, *p, 1, "[OPTIONS] CONTAINER [CONTAINER...]")) return 1;
  std::string tail = suffix(*p);
  return for_each_container(p->args, [&](const std::string& n) -> Status {
    auto r = c.call("POST", "/containers/" + url_encode(n) + tail);
    if (!r) return std::unexpected(r.error());
    return {};
  });
}

}  // namespace

int cmd_stop(Client& c, const Args& a) {
  return simple_post(c, "stop", a, {{"t,time", true}, {"s,signal", true}}, [](const Parsed& p) {
    return "/stop" + query({{"t", p.get("time")}, {"signal", p.get("signal")}});
  });
}

int cmd_restart(Client& c, const Args& a) {
  return simple_post(c, "restart", a, {{"t,time", true}, {"s,signal", true}}, [](const Parsed& p) {
    return "/restart" + query({{"t", p.get("time")}, {"signal", p.get("signal")}});
  });
}

int cmd_kill(Client& c, const Args& a) {
  return simple_post(c, "kill", a, {{"s,signal", true}}, [](const Parsed& p) {
    return "/kill" + query({{"signal", p.get("signal")}});
  });
}

int cmd_pause(Client& c, const Args& a) {
  return simple_post(c, "pause", a, {}, [](const Parsed&) { return std::string("/pause"); });
}

int cmd_unpause(Client& c, const Args& a) {
  return simple_post(c, "unpause", a, {}, [](const Parsed&) { return std::string("/unpause"); });
}

int cmd_rm(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {{"f,force"}, {"v,volumes"}, {"l,link"}};
  auto p = parse_or_usage("rm", specs, a);
  if (!p) return 125;
  if (!need_args("rm", *p, 1, "[OPTIONS] CONTAINER [CONTAINER...]")) return 1;
  std::string q = query({{"force", p->on("force") ? "1" : ""},
                         {"v", p->on("volumes") ? "1" : ""},
                         {"link", p->on("link") ? "1" : ""}});
  return for_each_container(p->args, [&](const std::string& n) -> Status {
    auto r = c.call("DELETE", "/containers/" + url_encode(n) + q);
    if (!r) return std::unexpected(r.error());
    return {};
  });
}

int cmd_wait(Client& c, const Args& a) {
  auto p = parse_or_usage("wait", {}, a);
  if (!p) return 125;
  if (!need_args("wait", *p, 1, "CONTAINER [CONTAINER...]")) return 1;
  int rc = 0;
  for (const auto& n : p->args) {
    auto r = c.call("POST", "/containers/" + url_encode(n) + "/wait");
    if (!r) {
      rc = print_error(r.error());
      continue;
    }
    auto j = parse_json(r->body, "wait response");
    if (!j) {
      rc = print_error(j.error());
      continue;
    }
    std::cout << j->value("StatusCode", 0) << "\n";
  }
  return rc;
}

int cmd_rename(Client& c, const Args& a) {
  auto p = parse_or_usage("rename", {}, a);
  if (!p) return 125;
  if (p->args.size() != 2) {
    std::cerr << "\"silo rename\" requires exactly 2 arguments.\nSee 'silo rename --help'.\n";
    return 1;
  }
  auto r = c.call(
      "POST", "/containers/" + url_encode(p->args[0]) + "/rename" + query({{"name", p->args[1]}}));
  return r ? 0 : print_error(r.error());
}

int cmd_top(Client& c, const Args& a) {
  auto p = parse_or_usage("top", {}, a, false);
  if (!p) return 125;
  if (!need_args("top", *p, 1, "CONTAINER [ps OPTIONS]")) return 1;
  std::string ps_args;
  for (size_t i = 1; i < p->args.size(); ++i) ps_args += (i > 1 ? " " : "") + p->args[i];
  auto r = c.call("GET",
                  "/containers/" + url_encode(p->args[0]) + "/top" + query({{"ps_args", ps_args}}));
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "top response");
  if (!j) return print_error(j.error());
  std::string text;
  auto row = [&](const Json& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) l += (i ? "\t" : "") + go_print(cells[i]);
    text += l + "\n";
  };
  row(j->value("Titles", Json::array()));
  for (const auto& pr : j->value("Processes", Json::array())) row(pr);
  std::cout << tabwrite(text);
  return 0;
}

int cmd_ps(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {{"a,all"},          {"q,quiet"},     {"n,last", true},
                                              {"l,latest"},       {"s,size"},      {"no-trunc"},
                                              {"f,filter", true}, {"format", true}};
  auto p = parse_or_usage("ps", specs, a);
  if (!p) return 125;
  std::string limit = p->on("latest") ? "1" : p->get("last");
  if (limit == "-1") limit.clear();
  std::string q = query({{"all", p->on("all") ? "1" : ""},
                         {"limit", limit},
                         {"size", p->on("size") ? "1" : ""},
                         {"filters", filters_json(p->all("filter"))}});
  auto r = c.call("GET", "/containers/json" + q);
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "container list");
  if (!j) return print_error(j.error());
  bool trunc = !p->on("no-trunc");
  if (p->on("quiet")) {
    for (const auto& ctr : *j) {
      std::string id = ctr.value("Id", "");
      std::cout << (trunc ? id.substr(0, 12) : id) << "\n";
    }
    return 0;
  }
  std::vector<Json> rows;
  int64_t now = now_seconds();
  for (const auto& ctr : *j) rows.push_back(ps_row(ctr, trunc, now));
  std::string def = kPsTable;
  if (p->on("size")) def += "\t{{.Size}}";
  std::string format = p->get("format");
  if (format == "table") format = def;
  auto s = render_rows(format, def, rows, ps_headers());
  if (!s) return print_error(s.error());
  std::cout << *s;
  return 0;
}

int cmd_logs(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {{"f,follow"},     {"since", true},  {"until", true},
                                              {"n,tail", true}, {"t,timestamps"}, {"details"}};
  auto p = parse_or_usage("logs", specs, a);
  if (!p) return 125;
  if (!need_args("logs", *p, 1, "[OPTIONS] CONTAINER")) return 1;
  auto info = c.call("GET", "/containers/" + url_encode(p->args[0]) + "/json");
  if (!info) return print_error(info.error());
  auto ij = parse_json(info->body, "inspect response");
  if (!ij) return print_error(ij.error());
  bool tty = (*ij)["Config"].value("Tty", false);
  auto since = api_time(p->get("since"), now_seconds());
  auto until = api_time(p->get("until"), now_seconds());
  if (!since) return print_error(since.error());
  if (!until) return print_error(until.error());
  std::string q = query({{"stdout", "1"},
                         {"stderr", "1"},
                         {"follow", p->on("follow") ? "1" : ""},
                         {"since", *since},
                         {"until", *until},
                         {"tail", p->get("tail", "all")},
                         {"timestamps", p->on("timestamps") ? "1" : ""},
                         {"details", p->on("details") ? "1" : ""}});
  api::MuxDecoder mux;
  Status err;
  auto s = c.stream("GET", "/containers/" + ij->value("Id", p->args[0]) + "/logs" + q, std::nullopt,
                    [&](std::string_view d) {
                      if (tty) {
                        std::cout.write(d.data(), static_cast<std::streamsize>(d.size()));
                        std::cout.flush();
                        return true;
                      }
                      mux.feed(d);
                      while (true) {
                        auto f = mux.next();
                        if (!f) {
                          err = std::unexpected(f.error());
                          return false;
                        }
                        if (!*f) return true;
                        auto& o = (*f)->stream == api::StdStream::Stderr ? std::cerr : std::cout;
                        o.write((*f)->payload.data(),
                                static_cast<std::streamsize>((*f)->payload.size()));
                        o.flush();
                      }
                    });
  if (!s) return print_error(s.error());
  if (!err) return print_error(err.error());
  return 0;
}

int cmd_inspect(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {{"f,format", true}, {"type", true}, {"s,size"}};
  auto p = parse_or_usage("inspect", specs, a);
  if (!p) return 125;
  if (!need_args("inspect", *p, 1, "[OPTIONS] NAME|ID [NAME|ID...]")) return 1;
  std::string type = p->get("type");
  if (!type.empty() && type != "container" && type != "image" && type != "volume") {
    std::cerr << "\"" << type << "\" is not a valid value for --type\n";
    return 1;
  }
  Json all = Json::array();
  int rc = 0;
  for (const auto& n : p->args) {
    Result<HttpResponse> r = fail(Code::NotFound, "");
    if (type.empty() || type == "container")
      r = c.call("GET", "/containers/" + url_encode(n) + "/json" +
                            query({{"size", p->on("size") ? "1" : ""}}));
    if (!r && r.error().code == Code::NotFound && (type.empty() || type == "image"))
      r = c.call("GET", "/images/" + url_encode(n) + "/json");
    if (!r && r.error().code == Code::NotFound && (type.empty() || type == "volume"))
      r = c.call("GET", "/volumes/" + url_encode(n));
    if (!r) {
      if (r.error().code == Code::NotFound) {
        std::cerr << "Error: No such " << (type.empty() ? "object" : type) << ": " << n << "\n";
      } else {
        std::cerr << r.error().message << "\n";
      }
      rc = 1;
      continue;
    }
    auto j = parse_json(r->body, "inspect response");
    if (!j) {
      rc = print_error(j.error());
      continue;
    }
    if (p->has("format")) {
      if (auto s = print_formatted(p->get("format"), *j); !s) {
        std::cerr << s.error().message << "\n";
        return 1;
      }
    } else {
      all.push_back(*j);
    }
  }
  if (!p->has("format")) std::cout << all.dump(4) << "\n";
  return rc;
}

}  // namespace silo::cli
