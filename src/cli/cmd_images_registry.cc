// silo pull, push, login, logout: the registry commands. Credentials live in
// ~/.silo/config.json (mode 0600) in the docker CLI's format, {"auths": {"<server>":
// {"auth": base64("user:password")}}}, and go to the daemon as X-Registry-Auth.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "common/base64.h"

namespace silo::cli {
namespace {

constexpr const char* kHubServer = "https://index.docker.io/v1/";

// The registry an image name lives on, as the config file keys it: the first component
// when it is a host ("localhost", has a '.' or a ':'), else Docker Hub.
std::string server_of(const std::string& image) {
  auto slash = image.find('/');
  if (slash == std::string::npos) return kHubServer;
  std::string first = image.substr(0, slash);
  bool host = first == "localhost" || first.find_first_of(".:") != std::string::npos;
  return host && first != "docker.io" && first != "index.docker.io" ? first : kHubServer;
}

// SERVER as login/logout take it: Docker Hub's names become its key; a scheme and a path
// are dropped for other registries.
std::string server_key(std::string server) {
  if (server.empty()) return kHubServer;
  if (auto p = server.find("://"); p != std::string::npos) server.erase(0, p + 3);
  if (auto slash = server.find('/'); slash != std::string::npos) server.resize(slash);
  if (server == "docker.io" || server == "index.docker.io" || server == "registry-1.docker.io")
    return kHubServer;
  return server;
}

std::string config_dir() {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.silo";
}
std::string config_path() {
  return config_dir() + "/config.json";
}

Result<Json> load_config() {
  std::ifstream f(config_path());
  if (!f) return Json::object();
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = Json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(Code::Invalid, config_path() + " is not a JSON object; fix or remove it");
  return j;
}

// Written to a temporary file (0600) renamed over the old one: credentials are never in a
// file that others can read, nor half written.
Status save_config(const Json& j) {
  std::string dir = config_dir(), path = config_path(), tmp = path + ".tmp";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno(errno, "create " + dir);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail_errno(errno, "write " + tmp);
  std::string text = j.dump(1, '\t') + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fchmod(fd, 0600) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail_errno(err, "write " + path);
  }
  return {};
}

// X-Registry-Auth for `image` from the config file, "" when not logged in there.
std::string registry_auth(const std::string& image) {
  auto cfg = load_config();
  if (!cfg) return "";
  std::string server = server_of(image);
  const Json auths = cfg->value("auths", Json::object());
  if (!auths.contains(server)) return "";
  std::string up = base64_decode(auths[server].value("auth", "")).value_or("");
  auto colon = up.find(':');
  if (colon == std::string::npos) return "";
  Json a = {{"username", up.substr(0, colon)},
            {"password", up.substr(colon + 1)},
            {"serveraddress", server}};
  return base64_encode(a.dump(), true);
}

// Docker's progress display: on a terminal one line per layer id, rewritten in place;
// otherwise plain lines without the progress bars.
class ProgressDisplay {
 public:
  // Writes to `os`, which is the terminal `fd` (or not).
  ProgressDisplay(std::ostream& os, int fd) : os_(os), tty_(::isatty(fd) == 1) {}

  // One JSON message. Returns the stream's error message, if this is one.
  std::optional<std::string> show(const Json& j) {
    if (j.contains("errorDetail") || j.contains("error")) {
      std::string m = j.value("error", "");
      if (j.contains("errorDetail") && j["errorDetail"].is_object())
        m = j["errorDetail"].value("message", m);
      return m;
    }
    std::string status = j.value("status", ""), id = j.value("id", "");
    std::string bar = j.value("progress", "");
    if (status.empty()) return std::nullopt;  // aux
    std::string text = (id.empty() ? "" : id + ": ") + status + (bar.empty() ? "" : " " + bar);
    if (!tty_) {
      if (bar.empty()) os_ << text << "\n" << std::flush;
      return std::nullopt;
    }
    auto it = id.empty() ? lines_.end() : lines_.find(id);
    if (it == lines_.end()) {
      if (!id.empty()) lines_[id] = count_;
      ++count_;
      os_ << "\x1b[2K" << text << "\n" << std::flush;
    } else {
      int up = count_ - it->second;
      os_ << "\x1b[" << up << "A\r\x1b[2K" << text << "\x1b[" << up << "B\r" << std::flush;
    }
    return std::nullopt;
  }

 private:
  std::ostream& os_;
  bool tty_;
  std::map<std::string, int> lines_;
  int count_ = 0;
};

// Runs a progress stream shown on `os` (terminal `fd`); the daemon's error as an Error.
Status stream_progress(Client& c, const std::string& path, const std::string& image,
                       std::ostream& os, int fd) {
  std::string auth = registry_auth(image);
  if (!auth.empty()) c.set_stream_header("X-Registry-Auth", auth);
  ProgressDisplay display(os, fd);
  std::string pending;
  std::optional<std::string> error;
  auto s = c.stream("POST", path, std::nullopt, [&](std::string_view d) {
    pending.append(d);
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      auto j = Json::parse(pending.substr(0, nl), nullptr, false);
      pending.erase(0, nl + 1);
      if (j.is_discarded() || !j.is_object()) continue;
      error = display.show(j);
      if (error) return false;
    }
    return true;
  });
  if (!s) return s;
  if (error) return fail(Code::NotFound, *error);
  return {};
}

// Runs a progress stream on stdout; 0, or 1 after printing the daemon's error.
int run_stream(Client& c, const std::string& path, const std::string& image) {
  auto s = stream_progress(c, path, image, std::cout, STDOUT_FILENO);
  if (s) return 0;
  std::cerr << s.error().message << "\n";
  return 1;
}

// "name[:tag|@digest]" -> {name, tag or digest}.
std::pair<std::string, std::string> split_tag(const std::string& image) {
  if (auto at = image.find('@'); at != std::string::npos)
    return {image.substr(0, at), image.substr(at + 1)};
  return split_repo_tag(image);
}

// docker pull's last line: the full name ("docker.io/library/busybox:latest").
std::string full_name(const std::string& image) {
  auto [name, tag] = split_tag(image);
  std::string out = name;
  if (server_of(name) == kHubServer) {
    if (name.starts_with("docker.io/")) out = name.substr(10);
    if (out.find('/') == std::string::npos) out = "library/" + out;
    out = "docker.io/" + out;
  }
  if (tag.empty()) return out + ":latest";
  return out + (tag.find(':') != std::string::npos ? "@" : ":") + tag;
}

std::string read_line_from_stdin() {
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

}  // namespace

Status pull_image(Client& c, const std::string& image) {
  auto [name, tag] = split_tag(image);
  return stream_progress(c, "/images/create" + query({{"fromImage", name}, {"tag", tag}}), image,
                         std::cerr, STDERR_FILENO);
}

int cmd_pull(Client& c, const Args& a) {
  auto p = parse_or_usage("pull", {{"platform", true}, {"q,quiet"}, {"a,all-tags"}}, a);
  if (!p) return 125;
  if (p->args.size() != 1) {
    std::cerr << "\"silo pull\" requires exactly 1 argument.\nSee 'silo pull --help'.\n\n"
                 "Usage:  silo pull [OPTIONS] NAME[:TAG|@DIGEST]\n";
    return 1;
  }
  if (p->on("all-tags")) {
    std::cerr << "silo pull: --all-tags is not supported; pull each tag by name\n";
    return 1;
  }
  const std::string image = p->args[0];
  auto [name, tag] = split_tag(image);
  std::string path = "/images/create" +
                     query({{"fromImage", name}, {"tag", tag}, {"platform", p->get("platform")}});
  if (int rc = run_stream(c, path, image); rc != 0) return rc;
  std::cout << full_name(image) << "\n";
  return 0;
}

int cmd_push(Client& c, const Args& a) {
  auto p = parse_or_usage("push", {{"q,quiet"}, {"a,all-tags"}}, a);
  if (!p) return 125;
  if (p->args.size() != 1) {
    std::cerr << "\"silo push\" requires exactly 1 argument.\nSee 'silo push --help'.\n\n"
                 "Usage:  silo push [OPTIONS] NAME[:TAG]\n";
    return 1;
  }
  auto [name, tag] = split_tag(p->args[0]);
  // As the docker CLI: -a sends no tag (the daemon pushes every tag of the repository);
  // without it a bare name means :latest.
  if (p->on("all-tags") && !tag.empty()) {
    std::cerr << "tag can't be used with --all-tags/-a\n";
    return 1;
  }
  if (!p->on("all-tags") && tag.empty()) {
    tag = "latest";
    if (!p->on("quiet")) std::cout << "Using default tag: latest\n";
  }
  return run_stream(c, "/images/" + url_encode(name) + "/push" + query({{"tag", tag}}), p->args[0]);
}

int cmd_login(Client& c, const Args& a) {
  auto p =
      parse_or_usage("login", {{"u,username", true}, {"p,password", true}, {"password-stdin"}}, a);
  if (!p) return 125;
  if (p->args.size() > 1) {
    std::cerr << "\"silo login\" requires at most 1 argument.\nSee 'silo login --help'.\n\n"
                 "Usage:  silo login [OPTIONS] [SERVER]\n";
    return 1;
  }
  std::string server = server_key(p->args.empty() ? "" : p->args[0]);
  std::string user = p->get("username"), pass = p->get("password");
  if (p->on("password-stdin")) {
    if (p->has("password")) {
      std::cerr << "--password and --password-stdin are mutually exclusive\n";
      return 1;
    }
    if (user.empty()) {
      std::cerr << "Must provide --username with --password-stdin\n";
      return 1;
    }
    pass = read_line_from_stdin();
  } else if (p->has("password")) {
    std::cerr << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
  }
  if (user.empty()) {
    std::cout << "Username: " << std::flush;
    user = read_line_from_stdin();
  }
  if (pass.empty() && !p->on("password-stdin")) {
    std::cout << "Password: " << std::flush;
    pass = read_line_from_stdin();
    std::cout << "\n";
  }
  if (user.empty()) {
    std::cerr << "Error: Non-null Username Required\n";
    return 1;
  }
  auto r = c.call("POST", "/auth",
                  Json{{"username", user}, {"password", pass}, {"serveraddress", server}});
  if (!r) return print_error(r.error());
  auto cfg = load_config();
  if (!cfg) return print_error(cfg.error());
  (*cfg)["auths"][server] = {{"auth", base64_encode(user + ":" + pass, false)}};
  if (auto s = save_config(*cfg); !s) return print_error(s.error());
  std::cout << "Login Succeeded\n";
  return 0;
}

int cmd_logout(Client&, const Args& a) {
  auto p = parse_or_usage("logout", {}, a);
  if (!p) return 125;
  std::string server = server_key(p->args.empty() ? "" : p->args[0]);
  auto cfg = load_config();
  if (!cfg) return print_error(cfg.error());
  if (!cfg->contains("auths") || !(*cfg)["auths"].contains(server)) {
    std::cout << "Not logged in to " << server << "\n";
    return 0;
  }
  std::cout << "Removing login credentials for " << server << "\n";
  (*cfg)["auths"].erase(server);
  if (auto s = save_config(*cfg); !s) return print_error(s.error());
  return 0;
}

}  // namespace silo::cli
