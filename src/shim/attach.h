#pragma once
// The attach socket: a listening unix socket with any number of clients. Each client
// receives the container's output live (raw bytes for a tty, Docker multiplexed frames
// otherwise) and may send requests (stdin, close stdin, resize); see shim.h.

#include <poll.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "shim/protocol.h"

namespace silo::shim {

// A client that falls this far behind on output is disconnected rather than let the
// shim's memory grow (the log still has everything).
inline constexpr size_t kMaxClientBacklog = 4u << 20;

class AttachServer {
 public:
  using RequestSink = std::function<void(const Request&)>;

  AttachServer() = default;
  AttachServer(AttachServer&& o) noexcept
      : path_(std::exchange(o.path_, {})),
        listener_(std::move(o.listener_)),
        tty_(o.tty_),
        clients_(std::move(o.clients_)) {}
  AttachServer& operator=(AttachServer&& o) noexcept {
    if (this != &o) {
      close();
      path_ = std::exchange(o.path_, {});
      listener_ = std::move(o.listener_);
      tty_ = o.tty_;
      clients_ = std::move(o.clients_);
    }
    return *this;
  }
  ~AttachServer() { close(); }

  // Listens on `path` (mode 0600, a stale socket file is replaced). An empty path gives
  // a server with no socket. Errors name the path.
  [[nodiscard]] static Result<AttachServer> listen(const std::string& path, bool tty);

  // Appends the pollfds of the listener and every client; with `want_input` false
  // clients are not read (stdin backpressure).
  void add_pollfds(std::vector<pollfd>& fds, bool want_input) const;
  // Handles the events of the entries add_pollfds added from `first` on: accepts,
  // reads requests (handed to `sink`), writes pending output, drops broken clients.
  void handle(const std::vector<pollfd>& fds, size_t first, const RequestSink& sink);
  // Sends output to every client.
  void broadcast(Stream stream, std::string_view data);
  // Tries for up to `timeout_ms` to write every client's pending output (at exit).
  void drain(int timeout_ms);
  // Disconnects every client and removes the socket file.
  void close();
  size_t clients() const { return clients_.size(); }

 private:
  struct Client {
    UniqueFd fd;
    RequestDecoder decoder;
    std::string out;
    size_t out_pos = 0;
    bool dead = false;
  };
  void accept_all();
  void read_from(Client& c, const RequestSink& sink);
  void write_to(Client& c);

  std::string path_;
  UniqueFd listener_;
  bool tty_ = false;
  std::vector<Client> clients_;
};

}  // namespace silo::shim
