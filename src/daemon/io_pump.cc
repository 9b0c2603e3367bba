// The attach / exec byte pump.
#include "daemon/io_pump.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/stream.h"
#include "common/sys.h"
#include "daemon/io_logs.h"

namespace silo::daemon {

namespace {

constexpr uint8_t kStdin = 1, kCloseStdin = 2, kResize = 3;

bool write_all(int fd, std::string_view data) {
  return data.empty() || sys::write_all(fd, data.data(), data.size()).has_value();
}

// Passes client stdin on to the shim; true when the detach keys were typed.
bool forward_input(int shim, std::string_view in, DetachMatcher& m) {
  std::string out;
  bool detached = m.feed(in, out);
  if (!out.empty()) (void)send_shim_request(shim, kStdin, out);
  return detached;
}

}  // namespace

Status send_shim_request(int fd, uint8_t type, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>(type));
  auto n = static_cast<uint32_t>(payload.size());
  for (int s = 24; s >= 0; s -= 8) f.push_back(static_cast<char>((n >> s) & 0xff));
  f.append(payload);
  return sys::write_all(fd, f.data(), f.size());
}

Status send_resize(const std::string& path, int rows, int cols) {
  auto fd = sys::connect_unix(path, "attach socket");
  if (!fd) return std::unexpected(fd.error());
  char p[4] = {static_cast<char>(rows >> 8), static_cast<char>(rows), static_cast<char>(cols >> 8),
               static_cast<char>(cols)};
  return send_shim_request(fd->get(), kResize, std::string_view(p, 4));
}

PumpEnd pump(api::Hijacked& client, UniqueFd& shim, const PumpOptions& o) {
  DetachMatcher matcher(o.detach_keys);
  bool reading_client = o.forward_stdin;
  if (reading_client && !client.buffered.empty()) {
    if (forward_input(shim.get(), client.buffered, matcher)) return PumpEnd::Detached;
    client.buffered.clear();
  }
  bool filter = !o.tty && !(o.want_stdout && o.want_stderr);
  api::MuxDecoder decoder;
  char buf[32768];
  for (;;) {
    pollfd fds[2] = {{shim.get(), POLLIN, 0}, {reading_client ? client.fd.get() : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return PumpEnd::ClientGone;
    }
    if (fds[0].revents) {
      ssize_t n = ::read(shim.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return PumpEnd::ShimClosed;
      std::string_view data(buf, static_cast<size_t>(n));
      std::string out;
      if (filter) {
        decoder.feed(data);
        for (;;) {
          auto f = decoder.next();
          if (!f || !*f) break;
          bool err = (*f)->stream == api::StdStream::Stderr;
          if (err ? o.want_stderr : o.want_stdout)
            api::append_mux_frame(out, (*f)->stream, (*f)->payload);
        }
        data = out;
      }
      if (!write_all(client.fd.get(), data)) return PumpEnd::ClientGone;
    }
    if (fds[1].revents) {
      ssize_t n = ::read(client.fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // Half-close (docker sends it when its stdin ends) or gone: stdin is over.
        reading_client = false;
        if (o.close_stdin_on_eof) (void)send_shim_request(shim.get(), kCloseStdin, {});
        continue;
      }
      if (forward_input(shim.get(), std::string_view(buf, static_cast<size_t>(n)), matcher))
        return PumpEnd::Detached;
    }
  }
}

}  // namespace silo::daemon
