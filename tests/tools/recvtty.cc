// silo-test-recvtty: the receiving end of an OCI --console-socket, for the integration
// tests (like runc's contrib/cmd/recvtty, "single" mode).
//
// Usage: silo-test-recvtty [--timeout SECONDS] [--input TEXT] SOCKET_PATH
//
// Listens on the unix socket SOCKET_PATH, accepts one connection, receives the pty
// master fd the runtime sends with SCM_RIGHTS, optionally writes TEXT to the pty, then
// copies everything read from the pty to stdout until the last slave end closes (EIO or
// EOF) and exits 0. Exits 2 on a usage error, 1 on any other error, 3 when the timeout
// (default 20 s) passes first, so a broken runtime cannot hang a test. The socket file is
// removed on exit.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char* g_socket_path = nullptr;

void remove_socket() {
  if (g_socket_path != nullptr) ::unlink(g_socket_path);
}

void on_alarm(int) {
  remove_socket();
  static const char kMsg[] = "silo-test-recvtty: timed out\n";
  (void)!::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  ::_exit(3);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "silo-test-recvtty: %s: %s\n", what, std::strerror(errno));
  remove_socket();
  std::exit(1);
}

int listen_on(const char* path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    die(path);
  }
  std::strcpy(addr.sun_path, path);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("bind");
  g_socket_path = path;
  if (::listen(fd, 1) < 0) die("listen");
  return fd;
}

// Receives one fd sent with SCM_RIGHTS on the connected socket.
int receive_fd(int conn) {
  char name[4096];  // runc sends the pty's name as the payload
  iovec iov{name, sizeof name};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) die("recvmsg");
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  errno = EBADMSG;
  die("no fd in the message (expected SCM_RIGHTS)");
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned timeout = 20;
  std::string input;
  bool have_input = false;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--timeout" && i + 1 < argc) {
      timeout = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--input" && i + 1 < argc) {
      input = argv[++i];
      have_input = true;
    } else {
      break;
    }
  }
  if (i + 1 != argc) {
    std::fprintf(stderr, "usage: silo-test-recvtty [--timeout S] [--input TEXT] SOCKET_PATH\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGALRM, on_alarm);
  ::alarm(timeout);

  int lfd = listen_on(argv[i]);
  int conn;
  do conn = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0) die("accept");
  int master = receive_fd(conn);
  ::close(conn);
  ::close(lfd);
  remove_socket();
  g_socket_path = nullptr;

  if (have_input && !write_all(master, input.data(), input.size())) die("write to pty");
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EIO) break;  // every slave end is closed
    if (n < 0) die("read from pty");
    if (n == 0) break;
    if (!write_all(STDOUT_FILENO, buf, static_cast<size_t>(n))) die("write to stdout");
  }
  return 0;
}
