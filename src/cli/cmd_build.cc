// silo build: the context directory as a tar to POST /build, and the daemon's JSON message
// stream printed as the docker CLI prints the classic builder's.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/commands.h"
#include "cli/format.h"

namespace silo::cli {
namespace {

namespace fs = std::filesystem;

// --build-arg NAME=value, or NAME alone: the value of NAME in this environment (left out
// when it is not set, as docker does).
Json build_args(const std::vector<std::string>& args) {
  Json out = Json::object();
  for (const auto& a : args) {
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      out[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (const char* v = std::getenv(a.c_str())) {
      out[a] = v;
    } else {
      out[a] = nullptr;
    }
  }
  return out;
}

Json labels(const std::vector<std::string>& list) {
  Json out = Json::object();
  for (const auto& l : list) {
    auto eq = l.find('=');
    out[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  return out;
}

}  // namespace

int cmd_build(Client& c, const Args& a) {
  auto p = parse_or_usage("build",
                          {{"t,tag", true},
                           {"f,file", true},
                           {"build-arg", true},
                           {"label", true},
                           {"target", true},
                           {"network", true},
                           {"iidfile", true},
                           {"no-cache"},
                           {"rm"},
                           {"force-rm"},
                           {"q,quiet"},
                           {"pull"}},
                          a);
  if (!p) return 125;
  if (p->args.size() != 1) {
    std::cerr << "\"silo build\" requires exactly 1 argument.\nSee 'silo build --help'.\n\n"
                 "Usage:  silo build [OPTIONS] PATH | -\n";
    return 1;
  }
  const std::string ctx_arg = p->args[0];
  std::string dockerfile = p->get("file");
  std::string tar;
  if (ctx_arg == "-") {  // a tar of the context on stdin
    tar.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::error_code ec;
    if (!fs::is_directory(ctx_arg, ec))
      return print_error(Error{0, Code::NotFound,
                               "unable to prepare context: path \"" + ctx_arg + "\" not found"});
    if (!dockerfile.empty()) {
      // -f is relative to the current directory; the daemon wants it inside the context.
      fs::path ctx_abs = fs::weakly_canonical(ctx_arg, ec);
      fs::path df_abs = fs::weakly_canonical(dockerfile, ec);
      auto rel = df_abs.lexically_relative(ctx_abs).string();
      if (rel.empty() || rel.starts_with(".."))
        return print_error(Error{0, Code::Invalid,
                                 "the Dockerfile (" + dockerfile +
                                     ") must be within the build context (" + ctx_arg +
                                     "): move it there or pass the context that holds it"});
      if (!fs::exists(df_abs, ec))
        return print_error(Error{0, Code::NotFound,
                                 "unable to prepare context: unable to evaluate symlinks in "
                                 "Dockerfile path: lstat " +
                                     df_abs.string() + ": no such file or directory"});
      dockerfile = rel;
    } else if (!fs::exists(fs::path(ctx_arg) / "Dockerfile", ec)) {
      return print_error(Error{0, Code::NotFound,
                               "unable to prepare context: unable to evaluate symlinks in "
                               "Dockerfile path: lstat " +
                                   (fs::absolute(ctx_arg, ec) / "Dockerfile").string() +
                                   ": no such file or directory"});
    }
    auto t = tar_directory(ctx_arg);
    if (!t) return print_error(t.error());
    tar = std::move(*t);
  }
  const bool quiet = p->on("quiet");
  if (!quiet)
    std::cout << "Sending build context to Docker daemon  "
              << human_size(static_cast<double>(tar.size())) << "\n\n"
              << std::flush;

  std::string path = "/build" + query({{"dockerfile", dockerfile},
                                       {"buildargs", build_args(p->all("build-arg")).dump()},
                                       {"labels", labels(p->all("label")).dump()},
                                       {"target", p->get("target")},
                                       {"networkmode", p->get("network")},
                                       {"nocache", p->on("no-cache") ? "1" : ""},
                                       {"rm", p->has("rm") && !p->on("rm") ? "0" : "1"},
                                       {"forcerm", p->on("force-rm") ? "1" : ""},
                                       {"q", quiet ? "1" : ""},
                                       {"pull", p->on("pull") ? "1" : ""}});
  for (const auto& t : p->all("tag")) path += "&t=" + url_encode(t);

  std::string pending, id, error;
  auto s = c.stream(
      "POST", path, std::nullopt,
      [&](std::string_view d) {
        pending.append(d);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::string line = pending.substr(0, nl);
          pending.erase(0, nl + 1);
          auto j = Json::parse(line, nullptr, false);
          if (!j.is_object()) continue;
          if (j.contains("errorDetail") || j.contains("error")) {
            error = j.value("error", "");
            if (j.contains("errorDetail") && j["errorDetail"].is_object())
              error = j["errorDetail"].value("message", error);
            continue;
          }
          if (j.contains("aux") && j["aux"].is_object()) id = j["aux"].value("ID", id);
          if (quiet) continue;
          if (j.contains("stream") && j["stream"].is_string()) {
            std::cout << j["stream"].get<std::string>() << std::flush;
          } else if (j.contains("status")) {
            std::string i = j.value("id", "");
            std::cout << (i.empty() ? "" : i + ": ") << j.value("status", "") << "\n";
          }
        }
        return true;
      },
      tar, "application/x-tar");
  if (!s) return print_error(s.error());
  if (!error.empty()) {
    std::cerr << error << "\n";
    return 1;
  }
  if (quiet) std::cout << id << "\n";
  if (p->has("iidfile")) {
    std::ofstream f(p->get("iidfile"), std::ios::trunc);
    f << id;
    if (!f) return print_error(Error{0, Code::Invalid, "write " + p->get("iidfile")});
  }
  return 0;
}

}  // namespace silo::cli
