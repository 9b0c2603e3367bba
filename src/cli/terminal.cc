#include "cli/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/stream.h"
#include "common/sys.h"

namespace silo::cli {
namespace {

// Saved terminal settings, for the signal handler (which may only use these globals).
struct termios g_saved;
volatile sig_atomic_t g_raw = 0;
int g_sig_pipe[2] = {-1, -1};

void restore_terminal() {
  if (g_raw) {
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
    g_raw = 0;
  }
}

void fatal_signal(int sig) {
  restore_terminal();
  signal(sig, SIG_DFL);
  raise(sig);
}

void to_pipe(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  if (g_sig_pipe[1] >= 0) [[maybe_unused]]
    auto n = write(g_sig_pipe[1], &b, 1);
  errno = saved;
}

void set_nonblock(int fd, bool on) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
}

// Writes everything, waiting on poll when the fd is non-blocking and full.
Status write_fully(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, -1);
      continue;
    }
    if (n < 0) return fail_errno(errno, "write output");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// Client-side detach-key matching: holds back a partial match until it completes or breaks.
class DetachMatcher {
 public:
  explicit DetachMatcher(std::string keys) : keys_(std::move(keys)) {}
  // Appends to `out` what to send for `in`; true when the whole sequence was typed (the
  // sequence itself is appended too, so the daemon detaches as well).
  bool feed(std::string_view in, std::string& out) {
    if (keys_.empty()) {
      out.append(in);
      return false;
    }
    for (char c : in) {
      if (c == keys_[matched_]) {
        if (++matched_ == keys_.size()) {
          out.append(keys_);
          matched_ = 0;
          return true;
        }
        continue;
      }
      out.append(keys_, 0, matched_);
      matched_ = 0;
      if (c == keys_[0]) {
        matched_ = 1;
        if (keys_.size() == 1) {
          out.append(keys_);
          return true;
        }
        continue;
      }
      out += c;
    }
    return false;
  }

 private:
  std::string keys_;
  size_t matched_ = 0;
};

}  // namespace

RawTerminal::RawTerminal() {
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved) != 0) return;
  struct sigaction sa {};
  sa.sa_handler = fatal_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(s, &sa, nullptr);
  struct termios raw = g_saved;
  cfmakeraw(&raw);
  // TCSANOW, not TCSAFLUSH: keys typed ahead (before the container's shell is up) are
  // kept and reach the container, as with docker (moby/term sets TCSETS).
  g_raw = 1;
  if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0) {
    g_raw = 0;
    return;
  }
  active_ = true;
}

RawTerminal::~RawTerminal() {
  restore_terminal();
}

std::pair<int, int> terminal_size(int fd) {
  struct winsize ws {};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return {0, 0};
  return {ws.ws_row, ws.ws_col};
}

Result<std::string> parse_detach_keys(const std::string& keys) {
  std::string out;
  size_t start = 0;
  while (start <= keys.size() && !keys.empty()) {
    auto comma = keys.find(',', start);
    std::string k =
        keys.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (k.size() == 1) {
      out += k[0];
    } else if (k.starts_with("ctrl-") && k.size() == 6) {
      char c = k[5];
      if (c >= 'a' && c <= 'z')
        out += static_cast<char>(c - 'a' + 1);
      else if (c == '@')
        out += '\0';
      else if (c == '[')
        out += '\x1b';
      else if (c == '\\')
        out += '\x1c';
      else if (c == ']')
        out += '\x1d';
      else if (c == '^')
        out += '\x1e';
      else if (c == '_')
        out += '\x1f';
      else
        return fail(Code::Invalid, "Unknown character: '" + k + "'");
    } else {
      return fail(Code::Invalid, "Unknown character: '" + k + "'");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<PumpEnd> pump(Hijacked& conn, const PumpOptions& opts) {
  auto pipe = sys::pipe2(O_CLOEXEC | O_NONBLOCK);
  if (!pipe) return std::unexpected(pipe.error());
  g_sig_pipe[0] = pipe->first.get();
  g_sig_pipe[1] = pipe->second.get();
  struct sigaction sa {
  }, old_winch{}, old_int{}, old_term{};
  sa.sa_handler = to_pipe;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGWINCH, &sa, &old_winch);
  bool proxy = static_cast<bool>(opts.forward_signal) && !opts.tty;
  if (proxy) {
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  const int sock = conn.fd.get();
  set_nonblock(sock, true);
  DetachMatcher matcher(opts.detach_keys);
  api::MuxDecoder mux;
  std::string to_send;
  bool stdin_open = opts.send_stdin, shut = !opts.send_stdin, detached = false;
  Status result;
  auto emit = [&](std::string_view data) -> Status {
    if (opts.tty) return write_fully(STDOUT_FILENO, data);
    mux.feed(data);
    while (true) {
      auto f = mux.next();
      if (!f) return std::unexpected(f.error());
      if (!*f) return {};
      int fd = (*f)->stream == api::StdStream::Stderr ? STDERR_FILENO : STDOUT_FILENO;
      SILO_TRY(write_fully(fd, (*f)->payload));
    }
  };
  if (!conn.leftover.empty()) {
    if (auto s = emit(conn.leftover); !s) result = s;
    conn.leftover.clear();
  }
  char buf[65536];
  while (result) {
    if (!stdin_open && to_send.empty() && !shut) {
      ::shutdown(sock, SHUT_WR);  // stdin ended: the container sees EOF
      shut = true;
    }
    if (detached && to_send.empty()) break;
    pollfd fds[3];
    int n = 0;
    fds[n++] = {sock, static_cast<short>(POLLIN | (to_send.empty() ? 0 : POLLOUT)), 0};
    fds[n++] = {g_sig_pipe[0], POLLIN, 0};
    // Stop reading stdin while a write is pending: a paste goes out in order, whole.
    if (stdin_open && to_send.empty() && !detached) fds[n++] = {STDIN_FILENO, POLLIN, 0};
    if (poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      result = fail_errno(errno, "poll");
      break;
    }
    if (fds[1].revents & POLLIN) {
      unsigned char s;
      while (read(g_sig_pipe[0], &s, 1) == 1) {
        if (s == SIGWINCH && opts.resize) {
          auto [rows, cols] = terminal_size(STDIN_FILENO);
          if (rows > 0) opts.resize(rows, cols);
        } else if ((s == SIGINT || s == SIGTERM) && proxy) {
          opts.forward_signal(s);
        }
      }
    }
    if (n > 2 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {
        stdin_open = false;
      } else {
        detached = matcher.feed(std::string_view(buf, static_cast<size_t>(r)), to_send);
      }
    }
    // Non-blocking: whatever the socket takes now; the rest waits for POLLOUT.
    if (!to_send.empty()) {
      ssize_t w = write(sock, to_send.data(), to_send.size());
      if (w > 0)
        to_send.erase(0, static_cast<size_t>(w));
      else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        to_send.clear();
        stdin_open = false;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(sock, buf, sizeof buf);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) break;  // the daemon closed the stream: the container ended or detached
      result = emit(std::string_view(buf, static_cast<size_t>(r)));
    }
  }
  sigaction(SIGWINCH, &old_winch, nullptr);
  if (proxy) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
  g_sig_pipe[0] = g_sig_pipe[1] = -1;
  if (!result) return std::unexpected(result.error());
  return detached ? PumpEnd::Detached : PumpEnd::Closed;
}

}  // namespace silo::cli
