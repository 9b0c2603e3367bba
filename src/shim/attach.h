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
// Output kept for Replay requests, and for how long after start.
inline constexpr size_t kMaxEarlyOutput = 256u << 10;
inline constexpr int kEarlyOutputMs = 5000;

class AttachServer {
 public:
  using RequestSink = std::function<void(const Request&)>;

  AttachServer() = default;
  AttachServer(AttachServer&& o) noexcept
      : path_(std::exchange(o.path_, {})),
        listener_(std::move(o.listener_)),
        tty_(o.tty_),
        clients_(std::move(o.clients_)),
        early_(std::move(o.early_)),
        early_open_(o.early_open_) {}
  AttachServer& operator=(AttachServer&& o) noexcept {
    if (this != &o) {
      close();
      path_ = std::exchange(o.path_, {});
      listener_ = std::move(o.listener_);
      tty_ = o.tty_;
      clients_ = std::move(o.clients_);
      early_ = std::move(o.early_);
      early_open_ = o.early_open_;
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
  // Stops keeping output for Replay and frees what was kept.
  void end_early_output();
  bool early_output_open() const { return early_open_; }
  // Waits up to `timeout_ms` for a first client and accepts it; false on timeout.
  bool wait_for_client(int timeout_ms);
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
    size_t early_mark = 0;  // early_.size() when it connected
    bool sent = false;      // some output was written to it
  };
  void accept_all();
  void read_from(Client& c, const RequestSink& sink);
  void write_to(Client& c);

  std::string path_;
  UniqueFd listener_;
  bool tty_ = false;
  std::vector<Client> clients_;
  std::string early_;  // encoded output since start, for Replay
  bool early_open_ = true;
};

}  // namespace silo::shim
