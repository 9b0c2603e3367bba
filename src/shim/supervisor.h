#pragma once
// The shim's supervisor: creates and starts the container with the shim as the init's
// parent, then runs a poll(2) loop over the container's output, the attach socket and a
// signalfd until the init exited and its output is drained; then records the exit.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "shim/attach.h"
#include "shim/json_log.h"
#include "shim/shim.h"

namespace silo::shim {

class Supervisor {
 public:
  explicit Supervisor(Options opts) : opts_(std::move(opts)) {}
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Opens the log and the attach socket, creates and starts the container. Returns the
  // init's pid. On failure everything made is undone (socket, runtime container).
  [[nodiscard]] Result<pid_t> start();
  // Serves the container until it exited, then writes the exit file and removes the
  // runtime container. Returns the container's exit code.
  int run();

 private:
  [[nodiscard]] Status block_signals();
  [[nodiscard]] Status open_stdio();
  [[nodiscard]] Status receive_console();
  [[nodiscard]] Result<pid_t> create_and_start();
  [[nodiscard]] Result<pid_t> exec_process();
  void loop();
  void on_signal();
  void on_output(UniqueFd& fd, Stream stream);
  void on_request(const Request& r);
  void flush_stdin();
  void finish();
  void shed_pages();

  Options opts_;
  pid_t pid_ = -1;
  std::optional<int> wait_status_;
  std::optional<JsonFileLog> log_;
  AttachServer attach_;
  UniqueFd devnull_;
  UniqueFd signal_fd_;
  UniqueFd console_listener_;
  std::string console_path_;
  UniqueFd out_, err_;  // read ends of the container's stdout/stderr, or the pty master in out_
  UniqueFd in_;         // write end of the container's stdin (a dup of the master for a tty)
  UniqueFd child_in_, child_out_, child_err_;  // the container's ends, until create is done
  std::string stdin_buf_;
  size_t stdin_pos_ = 0;
  bool stdin_close_requested_ = false;
  std::vector<std::pair<uintptr_t, uintptr_t>> text_ranges_;  // see shed_pages()
  bool shed_ = false;  // no event since the pages were last shed
};

}  // namespace silo::shim
