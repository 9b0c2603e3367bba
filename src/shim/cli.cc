// silo-shim's command line and start-up report.
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "shim/protocol.h"
#include "shim/shim.h"

namespace silo::shim {

namespace {

std::string absolute(const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return p;
  return std::string(cwd) + "/" + p;
}

template <class T>
Status parse_number(const std::string& flag, const std::string& v, T& out) {
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty())
    return fail(Code::Invalid, flag + ": \"" + v + "\" is not a non-negative number");
  return {};
}

// Applies one --flag value pair.
Status apply(Options& o, const std::string& flag, const std::string& v) {
  if (flag == "--id")
    o.id = v;
  else if (flag == "--exec-id")
    o.exec_id = v;
  else if (flag == "--process")
    o.process_file = absolute(v);
  else if (flag == "--bundle")
    o.bundle = absolute(v);
  else if (flag == "--runtime-root")
    o.runtime_root = absolute(v);
  else if (flag == "--log-path")
    o.log_path = absolute(v);
  else if (flag == "--exit-file")
    o.exit_file = absolute(v);
  else if (flag == "--attach-socket")
    o.attach_socket = absolute(v);
  else if (flag == "--log-max-size")
    return parse_number(flag, v, o.log_max_size);
  else if (flag == "--log-max-file")
    return parse_number(flag, v, o.log_max_file);
  else if (flag == "--wait-client-ms")
    return parse_number(flag, v, o.wait_client_ms);
  else if (flag == "--ready-fd")
    return parse_number(flag, v, o.ready_fd);
  else
    return fail(Code::Invalid, "unknown flag " + flag + " (see silo-shim --help)");
  return {};
}

}  // namespace

Result<Options> parse_args(int argc, const char* const* argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--tty") {
      o.tty = true;
      continue;
    }
    if (a == "--stdin") {
      o.stdin_open = true;
      continue;
    }
    std::string value;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fail(Code::Invalid, a + " needs a value");
    }
    SILO_TRY(apply(o, a, value));
  }
  if (o.id.empty()) return fail(Code::Invalid, "--id is required");
  if (is_exec(o)) {
    if (o.process_file.empty()) return fail(Code::Invalid, "--exec-id needs --process FILE");
    if (!o.log_path.empty())
      return fail(Code::Invalid,
                  "--log-path is not allowed with --exec-id (exec output is not logged)");
  } else if (o.bundle.empty()) {
    return fail(Code::Invalid, "--bundle is required");
  }
  if (o.runtime_root.empty()) return fail(Code::Invalid, "--runtime-root is required");
  if (o.log_max_file < 1) return fail(Code::Invalid, "--log-max-file must be at least 1");
  return o;
}

std::string ready_json(int pid, int shim_pid) {
  return "{\"pid\":" + std::to_string(pid) + ",\"shim_pid\":" + std::to_string(shim_pid) + "}\n";
}

std::string error_json(const std::string& message) {
  std::string out = "{\"error\":\"";
  append_json_escaped(message, out);
  return out + "\"}\n";
}

}  // namespace silo::shim
