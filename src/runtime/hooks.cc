#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "common/sys.h"

namespace silo::runtime {

namespace {

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Status run_one(const Hook& hook, const std::string& kind, const std::string& state) {
  auto in = sys::pipe2(0);
  auto err = sys::pipe2(0);
  if (!in || !err) return fail(Code::Internal, "hook " + kind + ": cannot make pipes");
  std::vector<std::string> args =
      hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<std::string> env = hook.env;
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno(errno, "hook " + kind + " " + hook.path + ": fork");
  if (pid == 0) {
    ::dup2(in->first.get(), 0);
    ::dup2(err->second.get(), 2);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::dprintf(2, "exec %s: %s", hook.path.c_str(), strerror(errno));
    ::_exit(127);
  }
  in->first.reset();
  err->second.reset();
  // A hook that does not read stdin must not make us fail: ignore EPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  (void)sys::write_all(in->second.get(), state.data(), state.size());
  in->second.reset();
  std::string stderr_text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(hook.timeout.value_or(0));
  bool timed_out = false;
  for (;;) {
    int wait_ms = -1;
    if (hook.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(left);
    }
    pollfd p{err->first.get(), POLLIN, 0};
    int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    char buf[4096];
    ssize_t n = ::read(err->first.get(), buf, sizeof buf);
    if (n <= 0) break;
    if (stderr_text.size() < 4096) stderr_text.append(buf, static_cast<size_t>(n));
  }
  if (timed_out) ::kill(pid, SIGKILL);
  auto status = sys::waitpid(pid, 0);
  std::string what = "hook " + kind + " " + hook.path;
  if (timed_out)
    return fail(Code::Unavailable,
                what + ": timed out after " + std::to_string(*hook.timeout) + "s");
  if (!status) return std::unexpected(status.error());
  while (!stderr_text.empty() && (stderr_text.back() == '\n' || stderr_text.back() == ' '))
    stderr_text.pop_back();
  std::string tail = stderr_text.empty() ? "" : ": " + stderr_text;
  if (WIFSIGNALED(*status))
    return fail(Code::Internal,
                what + " was killed by signal " + std::to_string(WTERMSIG(*status)) + tail);
  if (WEXITSTATUS(*status) != 0)
    return fail(Code::Internal,
                what + " exited with status " + std::to_string(WEXITSTATUS(*status)) + tail);
  return {};
}

}  // namespace

Status run_hooks(const std::vector<Hook>& hooks, const std::string& kind,
                 const std::string& state_json) {
  for (const auto& h : hooks) SILO_TRY(run_one(h, kind, state_json));
  return {};
}

std::vector<Hook> hooks_from_config(const Json& config, const char* key) {
  auto spec = config.contains("hooks") ? config["hooks"] : Json::object();
  Json doc = {{"process", {{"args", {"x"}}}}, {"root", {{"path", "/"}}}, {"hooks", spec}};
  auto parsed = parse_spec(doc);
  if (!parsed) return {};
  const Hooks& h = parsed->hooks;
  std::string k = key;
  if (k == "poststop") return h.poststop;
  if (k == "poststart") return h.poststart;
  if (k == "prestart") return h.prestart;
  if (k == "createRuntime") return h.create_runtime;
  return {};
}

}  // namespace silo::runtime
