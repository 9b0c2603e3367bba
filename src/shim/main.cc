// silo-shim: daemonizes, starts the container, reports to its launcher, supervises.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/sys.h"
#include "shim/shim.h"
#include "shim/supervisor.h"

namespace {

using silo::shim::Options;

constexpr const char kUsage[] =
    "usage: silo-shim --id ID --bundle DIR --runtime-root DIR [--log-path FILE]\n"
    "                 [--log-max-size BYTES] [--log-max-file N] [--exit-file FILE]\n"
    "                 [--attach-socket PATH] [--tty] [--stdin] [--ready-fd N]\n"
    "       silo-shim --exec-id EID --id ID --process FILE --runtime-root DIR\n"
    "                 [--attach-socket PATH] [--exit-file FILE] [--tty] [--stdin] [--ready-fd N]\n"
    "Starts the container and supervises it as a daemon; see src/shim/shim.h.\n";

// Closes every fd from 3 up except those in `keep`, so the daemon holds none of its
// launcher's pipes (a caller reading our stdout or a bats fd 3 would wait forever).
void close_fds_except(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned from = 3;
  for (int k : keep) {
    if (k < 3) continue;
    if (static_cast<unsigned>(k) > from)
      silo::sys::raw_close_range(from, static_cast<unsigned>(k) - 1, 0);
    from = static_cast<unsigned>(k) + 1;
  }
  silo::sys::raw_close_range(from, ~0U, 0);
}

void write_str(int fd, const std::string& s) {
  if (fd >= 0) (void)silo::sys::write_all(fd, s.data(), s.size());
}

// The daemon: starts the container, reports on `report` ("O<json>" or "E<message>") and
// on the ready fd, then supervises until the container exited.
[[noreturn]] void daemon_main(const Options& opts, int report) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
  close_fds_except({report, opts.ready_fd, null});
  if (opts.ready_fd >= 0) ::fcntl(opts.ready_fd, F_SETFD, FD_CLOEXEC);
  if (::chdir("/") < 0) ::_exit(1);
  silo::shim::Supervisor sup(opts);
  auto pid = sup.start();
  if (null > 2) ::close(null);
  if (!pid) {
    write_str(report, "E" + pid.error().message);
    write_str(opts.ready_fd, silo::shim::error_json(pid.error().message));
    ::_exit(1);
  }
  std::string ready = silo::shim::ready_json(*pid, ::getpid());
  write_str(report, "O" + ready);
  write_str(opts.ready_fd, ready);
  ::close(report);
  if (opts.ready_fd >= 0) ::close(opts.ready_fd);
  ::_exit(sup.run() == 0 ? 0 : 1);
}

// The launcher: waits for the daemon's report and relays it as the exit status.
int launcher_main(pid_t first_child, int report) {
  (void)silo::sys::waitpid(first_child, 0);
  std::string msg;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(report, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) msg.append(buf, static_cast<size_t>(n));
  if (!msg.empty() && msg[0] == 'O') {
    std::fputs(msg.c_str() + 1, stdout);
    return 0;
  }
  std::fprintf(stderr, "silo-shim: %s\n",
               msg.empty() ? "the shim exited before it reported" : msg.c_str() + 1);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  auto opts = silo::shim::parse_args(argc, argv);
  if (!opts) {
    std::fprintf(stderr, "silo-shim: %s\n%s", opts.error().message.c_str(), kUsage);
    return 2;
  }
  if (opts->ready_fd >= 0 && ::fcntl(opts->ready_fd, F_GETFD) < 0) {
    std::fprintf(stderr, "silo-shim: --ready-fd %d is not an open fd\n", opts->ready_fd);
    return 2;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    std::perror("silo-shim: pipe");
    return 1;
  }
  std::fflush(nullptr);
  pid_t first = ::fork();
  if (first < 0) {
    std::perror("silo-shim: fork");
    return 1;
  }
  if (first == 0) {
    // Double fork with a new session in between: the shim is no child of its launcher
    // and has no controlling terminal, so neither the launcher's exit nor its
    // terminal's hangup reaches it.
    ::close(p[0]);
    ::setsid();
    pid_t second = ::fork();
    if (second != 0) ::_exit(second < 0 ? 1 : 0);
    daemon_main(*opts, p[1]);
  }
  ::close(p[1]);
  if (opts->ready_fd >= 0) ::close(opts->ready_fd);
  return launcher_main(first, p[0]);
}
