#pragma once
// Private to src/api: the server's internals, shared by server.cc (listeners, start,
// stop) and connection.cc (one client connection). Includes Asio and Beast.

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/server.h"
#include "api/wire.h"

namespace silo::api {
namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::generic::stream_protocol::socket;

// Handler threads: grows on demand so that a blocked handler (events, logs -f, wait)
// never holds up another request, up to a cap beyond which requests queue.
class WorkerPool {
 public:
  explicit WorkerPool(unsigned max) : max_(max ? max : 1) {}
  ~WorkerPool() { join(); }

  void submit(std::function<void()> task) {
    std::lock_guard lock(mu_);
    if (done_) return;
    queue_.push_back(std::move(task));
    if (queue_.size() > idle_ && threads_.size() < max_) {
      try {
        threads_.emplace_back([this] { loop(); });
      } catch (const std::system_error& e) {
        // Out of threads: the task waits for a running worker (there may be none yet).
        spdlog::error("api: cannot start a handler thread: {}", e.what());
      }
    }
    cv_.notify_one();
  }

  // Runs what is queued, then ends every thread. Not to be called from a worker.
  void join() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (true) {
      ++idle_;
      cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
      --idle_;
      if (queue_.empty()) return;
      auto task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  const unsigned max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool done_ = false;
};

constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// Sets FD_CLOEXEC: Asio opens and accepts without SOCK_CLOEXEC, and the daemon spawns
// shims, which must not inherit API connections.
void set_cloexec(int fd);

class Connection;

}  // namespace detail

struct Server::Impl {
  explicit Impl(Router r, ServerOptions o)
      : router(std::move(r)), opt(std::move(o)), pool(opt.max_workers) {}

  Router router;
  ServerOptions opt;
  std::string server_value;
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};

  // Declared before the io_context: connections still queued in it when it is destroyed
  // unregister themselves here.
  std::mutex conns_mu;
  std::unordered_map<detail::Connection*, std::weak_ptr<detail::Connection>> conns;
  std::mutex busy_mu;
  std::condition_variable busy_cv;
  int busy = 0;  // requests between "head arrived" and "handler done"

  detail::asio::io_context ioc;
  std::optional<detail::asio::executor_work_guard<detail::asio::io_context::executor_type>> work;
  std::optional<detail::asio::local::stream_protocol::acceptor> unix_acceptor;
  std::optional<detail::asio::ip::tcp::acceptor> tcp_acceptor;
  std::vector<std::thread> io_threads;
  detail::WorkerPool pool;

  template <class Acceptor>
  void accept_loop(Acceptor& acceptor);
  void request_done() {
    std::lock_guard lock(busy_mu);
    --busy;
    busy_cv.notify_all();
  }
  template <class F>
  void for_each_connection(F f);
};

namespace detail {

// One client connection. Idle, it waits in async_read_header on an io thread; once a
// request head arrives, the rest of the request (body, handler, response) runs
// synchronously on a worker, and the connection goes back to waiting.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl& srv, Socket sock) : srv_(srv), sock_(std::move(sock)) {
    fd_ = sock_.native_handle();
  }
  ~Connection() {
    std::lock_guard lock(srv_.conns_mu);
    srv_.conns.erase(this);
  }

  void read_header();
  // From stop(), any thread: wakes whatever this connection is blocked in.
  void shutdown_socket() {
    std::lock_guard lock(fd_mu_);
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }
  [[nodiscard]] bool busy() const { return busy_.load(); }

 private:
  friend class ConnCall;
  void on_header(const beast::error_code& ec);
  void serve();
  void reject(const beast::error_code& ec);
  void close_socket() {
    std::lock_guard lock(fd_mu_);
    fd_ = -1;
    beast::error_code ec;
    sock_.shutdown(asio::socket_base::shutdown_both, ec);
    sock_.close(ec);
  }
  // Closes after an error answer without losing it: a close with unread input makes the
  // kernel send RST, which can discard the answer before the client reads it (Go's
  // net/http lingers the same way).
  void lingering_close();
  int release_socket() {
    std::lock_guard lock(fd_mu_);
    fd_ = -1;
    beast::error_code ec;
    int fd = sock_.release(ec);
    return ec ? -1 : fd;
  }
  bool expects_continue() const;
  [[nodiscard]] Status send_continue_once();
  [[nodiscard]] Result<std::string> read_whole_body(size_t limit);
  void write_response(Response r, bool head_only, bool keep_alive, unsigned version);

  Server::Impl& srv_;
  Socket sock_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::empty_body>> head_;
  std::mutex fd_mu_;
  int fd_ = -1;
  std::atomic<bool> busy_{false};
  bool continue_sent_ = false;
  bool expect_continue_ = false;  // the head asked for "Expect: 100-continue"
};

// The Call a handler gets: writes straight to the connection's socket.
class ConnCall : public Call {
 public:
  ConnCall(Connection& c, unsigned version) : c_(c), version_(version) {}

  Status begin_stream(int status, std::string_view content_type) override;
  Status write(std::string_view data) override;
  Status end_stream() override;
  Result<Hijacked> hijack(std::string_view content_type) override;
  Result<size_t> read_body(char* buf, size_t n) override;
  bool stopping() const override { return c_.srv_.stopping.load(); }
  bool client_gone() const override;

  std::optional<http::request_parser<http::buffer_body>> body_parser;
  bool streaming = false, stream_ended = false, stream_failed = false, hijacked = false;

 private:
  Status io_error(const beast::error_code& ec, std::string_view what) {
    stream_failed = true;
    return fail(Code::Unavailable, std::string(what) + ": " + ec.message());
  }
  Connection& c_;
  unsigned version_;
  size_t body_pos_ = 0;
};

}  // namespace detail

template <class Acceptor>
void Server::Impl::accept_loop(Acceptor& acceptor) {
  acceptor.async_accept(
      [this, &acceptor](detail::beast::error_code ec, typename Acceptor::protocol_type::socket s) {
        if (ec == detail::asio::error::operation_aborted || stopping) return;
        if (ec) {
          // Out of fds and the like: retry in a moment rather than spin on the error.
          spdlog::warn("api: accept: {}", ec.message());
          auto timer =
              std::make_shared<detail::asio::steady_timer>(ioc, std::chrono::milliseconds(100));
          timer->async_wait([this, &acceptor, timer](detail::beast::error_code) {
            if (!stopping) accept_loop(acceptor);
          });
          return;
        }
        detail::set_cloexec(s.native_handle());
        auto conn = std::make_shared<detail::Connection>(*this, detail::Socket(std::move(s)));
        {
          std::lock_guard lock(conns_mu);
          conns.emplace(conn.get(), conn);
        }
        conn->read_header();
        accept_loop(acceptor);
      });
}

template <class F>
void Server::Impl::for_each_connection(F f) {
  std::vector<std::shared_ptr<detail::Connection>> live;
  {
    std::lock_guard lock(conns_mu);
    for (auto& [_, weak] : conns)
      if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) f(*c);
}

}  // namespace silo::api
