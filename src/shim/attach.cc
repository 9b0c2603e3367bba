// The attach socket server.
#include "shim/attach.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace silo::shim {

Result<AttachServer> AttachServer::listen(const std::string& path, bool tty) {
  AttachServer s;
  s.tty_ = tty;
  if (path.empty()) return s;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return fail(Code::Invalid, "attach socket path " + path + " is too long (at most 107 bytes)");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fail_errno(errno, "attach socket " + path + ": socket");
  ::unlink(path.c_str());
  // Only the owner (the engine, root) may attach: the socket carries the container's stdin.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc < 0) return fail_errno(errno, "bind attach socket " + path);
  s.path_ = path;
  if (::listen(fd.get(), 16) < 0) return fail_errno(errno, "listen on attach socket " + path);
  s.listener_ = std::move(fd);
  return s;
}

void AttachServer::add_pollfds(std::vector<pollfd>& fds, bool want_input) const {
  fds.push_back({listener_.get(), static_cast<short>(listener_ ? POLLIN : 0), 0});
  for (const auto& c : clients_) {
    short ev = want_input ? POLLIN : 0;
    if (c.out_pos < c.out.size()) ev |= POLLOUT;
    fds.push_back({c.fd.get(), ev, 0});
  }
}

void AttachServer::handle(const std::vector<pollfd>& fds, size_t first, const RequestSink& sink) {
  bool accept_now = first < fds.size() && (fds[first].revents & POLLIN);
  // Clients are polled in order after the listener; new ones are accepted after the loop.
  size_t n = std::min(clients_.size(), fds.size() - first - 1);
  for (size_t i = 0; i < n; ++i) {
    short re = fds[first + 1 + i].revents;
    Client& c = clients_[i];
    if (c.dead) continue;
    if (re & POLLOUT) write_to(c);
    if (!c.dead && (re & (POLLIN | POLLHUP | POLLERR))) read_from(c, sink);
  }
  std::erase_if(clients_, [](const Client& c) { return c.dead; });
  if (accept_now) accept_all();
}

void AttachServer::accept_all() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN, or a client that went away before we got to it
    clients_.push_back(Client{UniqueFd(fd), {}, {}, 0, false, early_.size(), false});
  }
}

void AttachServer::read_from(Client& c, const RequestSink& sink) {
  char buf[16384];
  ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    // The client hung up; its stdin stream ends with it only if it asked (CloseStdin).
    c.dead = true;
    return;
  }
  c.decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
  for (;;) {
    auto r = c.decoder.next();
    if (!r) {
      c.dead = true;  // a protocol error: drop the client, not the container
      return;
    }
    if (!*r) return;
    if ((*r)->type == RequestType::Replay) {
      // Only before anything was written to it, so the replay comes first and whole.
      if (early_open_ && !c.sent && c.out_pos == 0) c.out.insert(0, early_, 0, c.early_mark);
      continue;
    }
    sink(**r);
  }
}

void AttachServer::write_to(Client& c) {
  while (c.out_pos < c.out.size()) {
    ssize_t n =
        ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) {
      c.dead = true;
      return;
    }
    c.out_pos += static_cast<size_t>(n);
    c.sent = true;
  }
  c.out.clear();
  c.out_pos = 0;
}

void AttachServer::broadcast(Stream stream, std::string_view data) {
  if (early_open_ && early_.size() < kMaxEarlyOutput) {
    if (tty_)
      early_.append(data);
    else
      encode_output_frame(stream, data, early_);
  }
  for (auto& c : clients_) {
    if (tty_)
      c.out.append(data);
    else
      encode_output_frame(stream, data, c.out);
    if (c.out.size() - c.out_pos > kMaxClientBacklog) c.dead = true;
    if (!c.dead) write_to(c);
  }
  // Dead clients are erased in handle(): the pollfd order must stay as add_pollfds left it.
}

void AttachServer::drain(int timeout_ms) {
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    std::vector<pollfd> fds;
    for (const auto& c : clients_)
      if (c.out_pos < c.out.size()) fds.push_back({c.fd.get(), POLLOUT, 0});
    if (fds.empty()) return;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    long left =
        timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
    if (left <= 0 || ::poll(fds.data(), fds.size(), static_cast<int>(left)) <= 0) return;
    for (auto& c : clients_)
      if (c.out_pos < c.out.size()) write_to(c);
    std::erase_if(clients_, [](const Client& c) { return c.dead; });
  }
}

bool AttachServer::wait_for_client(int timeout_ms) {
  if (!listener_) return false;
  pollfd p{listener_.get(), POLLIN, 0};
  int rc;
  while ((rc = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (rc <= 0) return false;
  accept_all();
  return !clients_.empty();
}

void AttachServer::end_early_output() {
  early_open_ = false;
  std::string().swap(early_);
}

void AttachServer::close() {
  clients_.clear();
  listener_.reset();
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace silo::shim
