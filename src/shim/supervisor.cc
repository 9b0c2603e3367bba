// The shim's supervisor: start-up, the poll(2) loop, and the end of the container.
#include "shim/supervisor.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/json.h"
#include "common/sys.h"
#include "runtime/container.h"

namespace silo::shim {

namespace {

// How long the container's output may stay open after its init exited (processes that
// outlived it, without a pid namespace) before the shim stops reading and records the exit.
constexpr int kDrainMs = 2000;
// Clients are not read while this much stdin waits for the container (backpressure).
constexpr size_t kMaxStdinBacklog = 1u << 20;
// After this long without events the loop sheds its text pages again (shed_pages).
constexpr long kIdleShedMs = 1000;
constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

Status set_nonblock(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return fail_errno(errno, "fcntl O_NONBLOCK");
  return {};
}

long now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Result<UniqueFd> listen_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return fail(Code::Invalid, "console socket path " + path + " is too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fail_errno(errno, "console socket: socket");
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return fail_errno(errno, "bind console socket " + path);
  if (::listen(fd.get(), 1) < 0) return fail_errno(errno, "listen on console socket " + path);
  return fd;
}

// The mappings of our own executable whose resident pages can be dropped: not writable
// and holding no private (copied-on-write) page, so that MADV_DONTNEED is exactly "read
// it from the file again" (madvise(2)); a RELRO page that was relocated is kept.
std::vector<std::pair<uintptr_t, uintptr_t>> droppable_text() {
  std::vector<std::pair<uintptr_t, uintptr_t>> out;
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  auto smaps = sys::read_file("/proc/self/smaps");
  if (n <= 0 || !smaps) return out;
  std::string_view self(exe, static_cast<size_t>(n));
  std::string_view rest = *smaps;
  uintptr_t start = 0, end = 0;
  bool candidate = false;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.ends_with(self) && line.find('-') != std::string_view::npos) {
      // "start-end perms offset dev inode path"
      std::sscanf(std::string(line.substr(0, 40)).c_str(), "%lx-%lx", &start, &end);
      candidate = line.size() > 30 && line.find(" r-") != std::string_view::npos &&
                  line.find(" rw") == std::string_view::npos;
    } else if (candidate && line.starts_with("Anonymous:")) {
      if (line.find(" 0 kB") != std::string_view::npos) out.emplace_back(start, end);
      candidate = false;
    }
  }
  return out;
}

}  // namespace

// Drops from our RSS the pages of our own executable that were touched since the last
// call (start-up: the spec parser, the runtime's create path, libc; later: one round of
// the loop). They fault back in from the page cache when used, with the kernel's
// fault-around (64 KiB at a time), which is why the loop sheds them again each time it
// has been idle for kIdleShedMs: an idle shim then holds only the few pages its poll(2)
// returns into (VmRSS about 1.2 MiB without this, the text of the loop and libc).
void Supervisor::shed_pages() {
  for (auto [start, end] : text_ranges_)
    ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
}

Status Supervisor::block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int s : kForwardedSignals) sigaddset(&set, s);
  // The init resets its mask before exec (runtime/init.cc), so blocking here is private.
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return fail_errno(errno, "sigprocmask");
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return fail_errno(errno, "signalfd");
  signal_fd_.reset(fd);
  ::signal(SIGPIPE, SIG_IGN);
  return {};
}

Status Supervisor::open_stdio() {
  auto dn = sys::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (!dn) return std::unexpected(dn.error());
  devnull_ = std::move(*dn);
  auto dup_null = [&] { return UniqueFd(::fcntl(devnull_.get(), F_DUPFD_CLOEXEC, 3)); };
  if (opts_.tty) {
    SILO_TRY(sys::mkdir_p(opts_.runtime_root, 0700));
    // Short names: sun_path holds 107 bytes, and a 64-hex id under a test's temporary
    // runtime root does not fit. An exec's socket is named after the exec.
    console_path_ = is_exec(opts_)
                        ? opts_.runtime_root + "/x" + opts_.exec_id.substr(0, 16) + ".sock"
                        : opts_.runtime_root + "/c" + opts_.id.substr(0, 16) + ".sock";
    auto l = listen_unix(console_path_);
    if (!l) return std::unexpected(l.error());
    console_listener_ = std::move(*l);
    // The init replaces these with the pty's slave.
    child_in_ = dup_null();
    child_out_ = dup_null();
    child_err_ = dup_null();
    return {};
  }
  auto out = sys::pipe2(O_CLOEXEC);
  if (!out) return std::unexpected(out.error());
  auto err = sys::pipe2(O_CLOEXEC);
  if (!err) return std::unexpected(err.error());
  out_ = std::move(out->first), child_out_ = std::move(out->second);
  err_ = std::move(err->first), child_err_ = std::move(err->second);
  SILO_TRY(set_nonblock(out_.get()));
  SILO_TRY(set_nonblock(err_.get()));
  if (!opts_.stdin_open) {
    child_in_ = dup_null();
    return {};
  }
  auto in = sys::pipe2(O_CLOEXEC);
  if (!in) return std::unexpected(in.error());
  child_in_ = std::move(in->first), in_ = std::move(in->second);
  return set_nonblock(in_.get());
}

Status Supervisor::receive_console() {
  int c = ::accept4(console_listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0 && errno == EAGAIN)
    return fail(Code::Invalid, "--tty was given but the bundle's process.terminal is false");
  if (c < 0) return fail_errno(errno, "accept on console socket " + console_path_);
  UniqueFd conn(c);
  auto master = sys::recv_fd(conn.get());
  if (!master) return wrap(master.error(), "receive the pty master");
  console_listener_.reset();
  ::unlink(console_path_.c_str());
  out_ = std::move(*master);
  SILO_TRY(set_nonblock(out_.get()));
  if (opts_.stdin_open) in_.reset(::fcntl(out_.get(), F_DUPFD_CLOEXEC, 3));
  return {};
}

Result<pid_t> Supervisor::exec_process() {
  runtime::StateDir dir(opts_.runtime_root);
  auto text = sys::read_file(opts_.process_file);
  if (!text) return wrap(text.error(), "--process");
  auto doc = parse_json(*text, opts_.process_file);
  if (!doc) return std::unexpected(doc.error());
  auto proc = runtime::parse_process(*doc);
  if (!proc) return wrap(proc.error(), "--process " + opts_.process_file);
  if (proc->terminal != opts_.tty)
    return fail(Code::Invalid, std::string("--tty ") + (opts_.tty ? "was" : "was not") +
                                   " given but the process's terminal is " +
                                   (proc->terminal ? "true" : "false"));
  runtime::ExecOptions eo;
  eo.id = opts_.id;
  eo.process = std::move(*proc);
  // Detached: runtime::exec returns once the process runs; we wait for it in the loop
  // (we are its subreaper, set in start()). The pid comes back through the pid file.
  eo.detach = true;
  eo.pid_file = opts_.runtime_root + "/x" + opts_.exec_id.substr(0, 16) + ".pid";
  if (opts_.tty) eo.console_socket = console_path_;
  ::dup2(child_in_.get(), 0);
  ::dup2(child_out_.get(), 1);
  ::dup2(child_err_.get(), 2);
  // The pty master is sent on the console socket during exec; the listener's backlog
  // holds that connection until receive_console() below accepts it.
  auto rc = runtime::exec(dir, eo);
  for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull_.get(), fd);
  child_in_.reset(), child_out_.reset(), child_err_.reset();
  auto pid_text = sys::read_file(eo.pid_file);
  ::unlink(eo.pid_file.c_str());
  if (!rc) return std::unexpected(rc.error());
  if (!pid_text) return wrap(pid_text.error(), "exec pid file");
  pid_ = static_cast<pid_t>(std::atoi(pid_text->c_str()));
  if (opts_.tty) {
    if (auto s = receive_console(); !s) {
      ::kill(pid_, SIGKILL);
      return std::unexpected(s.error());
    }
  }
  return pid_;
}

Result<pid_t> Supervisor::create_and_start() {
  if (is_exec(opts_)) return exec_process();
  runtime::StateDir dir(opts_.runtime_root);
  runtime::CreateOptions co;
  co.id = opts_.id;
  co.bundle = opts_.bundle;
  if (opts_.tty) co.console_socket = console_path_;
  // The init inherits fds 0-2 as its stdio: put the container's ends there for create.
  ::dup2(child_in_.get(), 0);
  ::dup2(child_out_.get(), 1);
  ::dup2(child_err_.get(), 2);
  auto pid = runtime::create(dir, co);
  for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull_.get(), fd);
  child_in_.reset(), child_out_.reset(), child_err_.reset();
  if (!pid) return std::unexpected(pid.error());
  pid_ = *pid;
  Status s = opts_.tty ? receive_console() : Status{};
  if (s) s = runtime::start(dir, opts_.id);
  if (!s) {
    (void)runtime::remove(dir, opts_.id, true);
    pid_ = -1;
    return std::unexpected(s.error());
  }
  return *pid;
}

Result<pid_t> Supervisor::start() {
  // A failed start leaves nothing: no socket, and no log file unless one was there.
  bool had_log = !opts_.log_path.empty() && sys::path_exists(opts_.log_path);
  auto undo = [&](const Error& e) {
    attach_.close();
    if (!console_path_.empty()) ::unlink(console_path_.c_str());
    if (!opts_.log_path.empty() && !had_log) ::unlink(opts_.log_path.c_str());
    return std::unexpected(e);
  };
  if (auto s = block_signals(); !s) return undo(s.error());
  // Processes of the container that leave its pid namespace's tree reparent to us.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  auto log = JsonFileLog::open({opts_.log_path, opts_.log_max_size, opts_.log_max_file});
  if (!log) return undo(log.error());
  log_.emplace(std::move(*log));
  auto attach = AttachServer::listen(opts_.attach_socket, opts_.tty);
  if (!attach) return undo(attach.error());
  attach_ = std::move(*attach);
  if (auto s = open_stdio(); !s) return undo(s.error());
  if (opts_.wait_client_ms > 0) (void)attach_.wait_for_client(opts_.wait_client_ms);
  auto pid = create_and_start();
  if (!pid) return undo(pid.error());
  return *pid;
}

void Supervisor::on_signal() {
  signalfd_siginfo si;
  while (::read(signal_fd_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo != SIGCHLD) {
      if (pid_ > 0 && !wait_status_) ::kill(pid_, static_cast<int>(si.ssi_signo));
      continue;
    }
    int st = 0;
    pid_t p;
    // Reap everything: as a subreaper we also inherit the container's orphans.
    while ((p = ::waitpid(-1, &st, WNOHANG)) > 0) {
      if (p == pid_) wait_status_ = st;
    }
  }
}

void Supervisor::on_output(UniqueFd& fd, Stream stream) {
  char buf[32768];
  for (int i = 0; i < 4 && fd; ++i) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    // EOF on a pipe; EIO on a pty master once the last slave closed.
    if (n <= 0) {
      fd.reset();
      return;
    }
    std::string_view data(buf, static_cast<size_t>(n));
    (void)log_->write(stream, data);  // a full disk must not stop the container
    attach_.broadcast(stream, data);
  }
}

void Supervisor::flush_stdin() {
  while (in_ && stdin_pos_ < stdin_buf_.size()) {
    ssize_t n = ::write(in_.get(), stdin_buf_.data() + stdin_pos_, stdin_buf_.size() - stdin_pos_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) {
      in_.reset();  // EPIPE: the container closed its stdin
      break;
    }
    stdin_pos_ += static_cast<size_t>(n);
  }
  stdin_buf_.clear();
  stdin_pos_ = 0;
  if (stdin_close_requested_) in_.reset();
}

void Supervisor::on_request(const Request& r) {
  switch (r.type) {
    case RequestType::Stdin:
      if (!in_) return;
      stdin_buf_.append(r.payload);
      flush_stdin();
      return;
    case RequestType::CloseStdin:
      // A pty has no EOF to give short of hanging up the terminal: ignored there.
      if (opts_.tty) return;
      stdin_close_requested_ = true;
      flush_stdin();
      return;
    case RequestType::Replay:  // handled by the attach server
      return;
    case RequestType::Resize:
      if (auto rc = decode_resize(r.payload); rc && opts_.tty && out_) {
        winsize ws{};
        ws.ws_row = rc->first;
        ws.ws_col = rc->second;
        ::ioctl(out_.get(), TIOCSWINSZ, &ws);
      }
      return;
  }
}

void Supervisor::loop() {
  long deadline = -1;
  const long early_end = now_ms() + kEarlyOutputMs;
  std::vector<pollfd> fds;
  for (;;) {
    if (wait_status_ && deadline < 0) deadline = now_ms() + kDrainMs;
    if (wait_status_ && ((!out_ && !err_) || now_ms() >= deadline)) return;
    bool stdin_pending = in_ && stdin_pos_ < stdin_buf_.size();
    fds.clear();
    fds.push_back({signal_fd_.get(), POLLIN, 0});
    fds.push_back({out_.get(), POLLIN, 0});
    fds.push_back({err_.get(), POLLIN, 0});
    fds.push_back({stdin_pending ? in_.get() : -1, POLLOUT, 0});
    attach_.add_pollfds(fds, stdin_buf_.size() - stdin_pos_ < kMaxStdinBacklog);
    if (attach_.early_output_open() && now_ms() >= early_end) {
      attach_.end_early_output();
      ::malloc_trim(0);
      shed_ = false;
    }
    long wake = deadline;
    if (attach_.early_output_open()) wake = wake < 0 ? early_end : std::min(wake, early_end);
    const long now = now_ms();
    const bool shed_due = !shed_;
    if (shed_due) wake = wake < 0 ? now + kIdleShedMs : std::min(wake, now + kIdleShedMs);
    int timeout = wake < 0 ? -1 : static_cast<int>(std::max(0L, wake - now));
    int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0) {
      // Never give up on a live container (giving up would remove it): wait and retry.
      if (errno != EINTR) ::usleep(10000);
      continue;
    }
    if (ready == 0 && shed_due && now_ms() >= now + kIdleShedMs) {
      shed_pages();
      shed_ = true;
      continue;
    }
    shed_ = false;
    if (fds[0].revents) on_signal();
    if (fds[1].revents) on_output(out_, Stream::Stdout);
    if (fds[2].revents) on_output(err_, Stream::Stderr);
    if (fds[3].revents) flush_stdin();
    attach_.handle(fds, 4, [this](const Request& r) { on_request(r); });
  }
}

void Supervisor::finish() {
  (void)log_->flush();
  attach_.drain(1000);
  if (is_exec(opts_)) {
    // An exec leaves its container alone.
    if (!opts_.exit_file.empty()) {
      auto rec = exit_record_from_wait(wait_status_.value_or(0), false, rfc3339_nano_now());
      (void)sys::write_file_atomic(opts_.exit_file, exit_json(rec), 0644);
    }
    attach_.close();
    return;
  }
  runtime::StateDir dir(opts_.runtime_root);
  // The OOM count lives in the cgroup, which remove() destroys: read it first.
  auto info = runtime::inspect(dir, opts_.id);
  bool oom = info && info->oom_killed;
  (void)runtime::remove(dir, opts_.id, true);
  // The exit file comes last, so a reader that sees it finds the container gone.
  if (!opts_.exit_file.empty()) {
    auto rec = exit_record_from_wait(wait_status_.value_or(0), oom, rfc3339_nano_now());
    (void)sys::write_file_atomic(opts_.exit_file, exit_json(rec), 0644);
  }
  attach_.close();
}

int Supervisor::run() {
  // A shim lives as long as its container: shed what start-up needed. Here, after the
  // start-up report went out, so that `docker run` does not wait for it.
  ::malloc_trim(0);
  text_ranges_ = droppable_text();
  ::malloc_trim(0);
  shed_pages();
  loop();
  finish();
  return wait_status_ ? exit_record_from_wait(*wait_status_, false, {}).exit_code : 255;
}

}  // namespace silo::shim
