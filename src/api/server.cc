// Listeners, start and graceful stop of the Engine API server.

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>

#include "api/server_impl.h"
#include "common/sys.h"

namespace silo::api {

namespace asio = detail::asio;
namespace beast = detail::beast;
using detail::Connection;

namespace {

// Refuses to take over a socket a live daemon answers on; removes a dead one.
Status clear_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return fail_errno(errno, "stat " + path);
  }
  if (!S_ISSOCK(st.st_mode))
    return fail(Code::Conflict, path + " exists and is not a socket; not removing it");
  if (auto live = sys::connect_unix(path, path); live)
    return fail(Code::Conflict, "another daemon is already listening on " + path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return fail_errno(errno, "remove stale socket " + path);
  return {};
}

// Mode 0660, group `group` when it exists (dockerd's "docker" group convention).
Status set_socket_owner(const std::string& path, const std::string& group) {
  if (!group.empty()) {
    struct group gr {};
    struct group* found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found)
      if (::chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0)
        return fail_errno(errno, "chown " + path + " to group " + group);
  }
  if (::chmod(path.c_str(), 0660) != 0) return fail_errno(errno, "chmod " + path);
  return {};
}

Status bind_error(const beast::error_code& ec, const std::string& what) {
  if (ec.category() == boost::system::system_category()) return fail_errno(ec.value(), what);
  return fail(Code::Internal, what + ": " + ec.message());
}

Status listen_unix(Server::Impl& s) {
  const std::string& path = s.opt.unix_path;
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    return fail(Code::Invalid, "socket path " + path + " is too long (max " +
                                   std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");
  SILO_TRY(clear_stale_socket(path));
  auto& acc = s.unix_acceptor.emplace(s.ioc);
  beast::error_code ec;
  acc.open(asio::local::stream_protocol(), ec);
  if (ec) return bind_error(ec, "socket for " + path);
  detail::set_cloexec(acc.native_handle());
  acc.bind(asio::local::stream_protocol::endpoint(path), ec);
  if (ec) return bind_error(ec, "bind " + path);
  SILO_TRY(set_socket_owner(path, s.opt.socket_group));
  acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return bind_error(ec, "listen on " + path);
  return {};
}

Status listen_tcp(Server::Impl& s) {
  const std::string where = *s.opt.tcp_host + ":" + std::to_string(s.opt.tcp_port);
  beast::error_code ec;
  auto addr = asio::ip::make_address(*s.opt.tcp_host, ec);
  if (ec) return fail(Code::Invalid, "listen on " + where + ": not an IP address");
  asio::ip::tcp::endpoint ep(addr, s.opt.tcp_port);
  auto& acc = s.tcp_acceptor.emplace(s.ioc);
  acc.open(ep.protocol(), ec);
  if (ec) return bind_error(ec, "socket for " + where);
  detail::set_cloexec(acc.native_handle());
  acc.set_option(asio::socket_base::reuse_address(true), ec);
  acc.bind(ep, ec);
  if (ec) return bind_error(ec, "bind " + where);
  acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return bind_error(ec, "listen on " + where);
  return {};
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop();
}

Result<std::unique_ptr<Server>> Server::start(Router router, ServerOptions options) {
  if (options.unix_path.empty() && !options.tcp_host)
    return fail(Code::Invalid, "api server: no unix socket path and no TCP address");
  SILO_TRY_CTX(add_system_routes(router, options.version), "api server");
  auto impl = std::make_unique<Impl>(std::move(router), std::move(options));
  impl->server_value = server_header(impl->opt.version);
  if (!impl->opt.unix_path.empty()) SILO_TRY_CTX(listen_unix(*impl), "api server");
  if (impl->opt.tcp_host) {
    if (auto ok = listen_tcp(*impl); !ok) {
      if (impl->unix_acceptor) ::unlink(impl->opt.unix_path.c_str());  // ours, just bound
      return wrap(ok.error(), "api server");
    }
  }
  std::unique_ptr<Server> server(new Server(std::move(impl)));
  Impl& s = *server->impl_;
  s.work.emplace(s.ioc.get_executor());
  if (s.unix_acceptor) s.accept_loop(*s.unix_acceptor);
  if (s.tcp_acceptor) s.accept_loop(*s.tcp_acceptor);
  for (unsigned i = 0; i < std::max(1u, s.opt.io_threads); ++i)
    s.io_threads.emplace_back([&s] { s.ioc.run(); });
  return server;
}

uint16_t Server::tcp_port() const {
  if (!impl_->tcp_acceptor) return 0;
  beast::error_code ec;
  auto ep = impl_->tcp_acceptor->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::stop() {
  Impl& s = *impl_;
  if (s.stopped.exchange(true)) return;
  s.stopping = true;
  // 1. No new connections. Acceptors belong to the io threads; close them there.
  std::promise<void> closed;
  asio::post(s.ioc, [&s, &closed] {
    beast::error_code ec;
    if (s.unix_acceptor) s.unix_acceptor->close(ec);
    if (s.tcp_acceptor) s.tcp_acceptor->close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
  // 2. Idle keep-alive connections go now; 3. running handlers get the grace period.
  s.for_each_connection([](Connection& c) {
    if (!c.busy()) c.shutdown_socket();
  });
  auto none_busy = [&s] { return s.busy == 0; };
  {
    std::unique_lock lock(s.busy_mu);
    s.busy_cv.wait_for(lock, s.opt.stop_grace, none_busy);
  }
  // 4. Whatever still runs (streams, attach before hijack) sees its socket shut.
  s.for_each_connection([](Connection& c) { c.shutdown_socket(); });
  {
    std::unique_lock lock(s.busy_mu);
    s.busy_cv.wait(lock, none_busy);
  }
  s.pool.join();
  // 5. Let the io threads finish the last completions (all sockets are shut), then end.
  s.work.reset();
  for (int i = 0; i < 200 && !s.ioc.stopped(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  s.ioc.stop();
  for (auto& t : s.io_threads) t.join();
  s.io_threads.clear();
  if (s.unix_acceptor && !s.opt.unix_path.empty()) ::unlink(s.opt.unix_path.c_str());
}

}  // namespace silo::api
