// import, load, save, commit: images to and from tar archives, as the docker CLI does them.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/commands.h"

namespace silo::cli {
namespace {

// The whole of `path` ("-": standard input).
Result<std::string> read_input(const std::string& path) {
  std::ostringstream buf;
  if (path == "-") {
    buf << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Code::NotFound, "open " + path + ": no such file or directory");
    buf << in.rdbuf();
  }
  return buf.str();
}

std::string changes_query(const std::vector<std::string>& changes) {
  std::string q;
  for (const auto& c : changes) q += "&changes=" + url_encode(c);
  return q;
}

}  // namespace

int cmd_import(Client& c, const Args& a) {
  auto p =
      parse_or_usage("import", {{"c,change", true}, {"m,message", true}, {"platform", true}}, a);
  if (!p) return 125;
  if (!need_args("import", *p, 1, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]")) return 1;
  auto data = read_input(p->args[0]);
  if (!data) return print_error(data.error());
  auto [repo, tag] = split_repo_tag(p->args.size() > 1 ? p->args[1] : "");
  std::string path =
      "/images/create" +
      query({{"fromSrc", "-"}, {"repo", repo}, {"tag", tag}, {"message", p->get("message")}}) +
      changes_query(p->all("change"));
  auto r = c.call_raw("POST", path, std::nullopt, *data, "application/x-tar");
  if (!r) return print_error(r.error());
  if (r->status >= 400) return print_error(daemon_error(*r));
  for (std::istringstream lines(r->body); std::getline(lines, path);) {
    auto j = Json::parse(path, nullptr, false);
    if (j.is_object() && j.contains("status")) std::cout << j.value("status", "") << "\n";
    if (j.is_object() && j.contains("error"))
      return print_error(Error{0, Code::Internal, j.value("error", "")});
  }
  return 0;
}

int cmd_load(Client& c, const Args& a) {
  auto p = parse_or_usage("load", {{"i,input", true}, {"q,quiet"}}, a);
  if (!p) return 125;
  std::string in = p->get("input", "-");
  if (in == "-" && ::isatty(0)) {
    std::cerr << "silo: requested load from stdin, but stdin is empty\n";
    return 1;
  }
  auto data = read_input(in);
  if (!data) return print_error(data.error());
  auto r = c.call_raw("POST", "/images/load" + query({{"quiet", p->on("quiet") ? "1" : ""}}),
                      std::nullopt, *data, "application/x-tar");
  if (!r) return print_error(r.error());
  if (r->status >= 400) return print_error(daemon_error(*r));
  std::string line;
  for (std::istringstream lines(r->body); std::getline(lines, line);) {
    auto j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("stream")) std::cout << j.value("stream", "");
    if (j.is_object() && j.contains("error"))
      return print_error(Error{0, Code::Internal, j.value("error", "")});
  }
  return 0;
}

int cmd_save(Client& c, const Args& a) {
  auto p = parse_or_usage("save", {{"o,output", true}, {"format", true}}, a);
  if (!p) return 125;
  if (!need_args("save", *p, 1, "[OPTIONS] IMAGE [IMAGE...]")) return 1;
  // podman save's --format: docker-archive (docker save's) or oci-archive (an OCI layout).
  std::string format = p->get("format", "docker-archive");
  if (format != "docker-archive" && format != "oci-archive") {
    std::cerr << "invalid argument \"" << format
              << "\" for \"--format\" flag: use docker-archive (the default) or oci-archive\n";
    return 125;
  }
  std::string out = p->get("output");
  if (out.empty() && ::isatty(1)) {
    std::cerr << "cowardly refusing to save to a terminal. Use the -o flag or redirect\n";
    return 1;
  }
  std::string path = "/images/get?";
  for (const auto& n : p->args)
    path += (path.back() == '?' ? "" : "&") + ("names=" + url_encode(n));
  if (format != "docker-archive") path += "&format=" + format;
  std::ofstream file;
  if (!out.empty()) {
    file.open(out + ".tmp", std::ios::binary | std::ios::trunc);
    if (!file) return print_error(Error{0, Code::Invalid, "open " + out + ": cannot write there"});
  }
  std::ostream& os = out.empty() ? std::cout : file;
  auto s = c.stream("GET", path, std::nullopt, [&os](std::string_view d) {
    os.write(d.data(), static_cast<std::streamsize>(d.size()));
    return static_cast<bool>(os);
  });
  if (!out.empty()) {
    file.close();
    if (!s) {
      std::remove((out + ".tmp").c_str());
      return print_error(s.error());
    }
    if (std::rename((out + ".tmp").c_str(), out.c_str()) != 0)
      return print_error(Error{0, Code::Internal, "rename " + out + ".tmp to " + out});
  }
  return s ? 0 : print_error(s.error());
}

int cmd_commit(Client& c, const Args& a) {
  auto p = parse_or_usage(
      "commit", {{"a,author", true}, {"m,message", true}, {"c,change", true}, {"p,pause"}}, a);
  if (!p) return 125;
  if (!need_args("commit", *p, 1, "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]")) return 1;
  auto [repo, tag] = split_repo_tag(p->args.size() > 1 ? p->args[1] : "");
  auto r = c.call("POST", "/commit" +
                              query({{"container", p->args[0]},
                                     {"repo", repo},
                                     {"tag", tag},
                                     {"author", p->get("author")},
                                     {"comment", p->get("message")}}) +
                              changes_query(p->all("change")));
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "commit response");
  if (!j) return print_error(j.error());
  std::cout << j->value("Id", "") << "\n";
  return 0;
}

}  // namespace silo::cli
