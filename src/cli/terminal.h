#pragma once
// The local terminal during an interactive attach: raw mode (restored on every exit path,
// signals included), its size, and the attach I/O pump between the terminal and a
// hijacked connection.

#include <functional>
#include <string>

#include "cli/client.h"
#include "common/error.h"

namespace silo::cli {

// Puts stdin's terminal in raw mode for its lifetime; the saved settings are also
// restored by a fatal-signal handler (SIGINT, SIGTERM, SIGHUP, SIGQUIT) before the
// signal is re-raised. A no-op when stdin is not a terminal.
class RawTerminal {
 public:
  RawTerminal();
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  // Whether raw mode is on.
  [[nodiscard]] bool active() const { return active_; }

 private:
  bool active_ = false;
};

// The size of the terminal on `fd` (rows, columns); {0, 0} when it is not one.
[[nodiscard]] std::pair<int, int> terminal_size(int fd);

// "ctrl-p,ctrl-q" as bytes {0x10, 0x11}. Invalid error naming the key it cannot read.
[[nodiscard]] Result<std::string> parse_detach_keys(const std::string& keys);

// How to pump one attach.
struct PumpOptions {
  bool tty = false;                                // raw stream (else stdout/stderr frames)
  bool send_stdin = false;                         // copy our stdin to the connection
  std::string detach_keys;                         // bytes that detach ("" for none)
  std::function<void(int rows, int cols)> resize;  // called at SIGWINCH; may be empty
  std::function<void(int sig)> forward_signal;     // called at SIGINT/SIGTERM (sig-proxy)
};

// How the pump ended.
enum class PumpEnd { Closed, Detached };

// Copies stdin to the connection and its output to stdout/stderr until the connection
// closes or the detach keys are typed. Writes are non-blocking with a pending buffer, so
// a large paste arrives whole while output keeps flowing.
[[nodiscard]] Result<PumpEnd> pump(Hijacked& conn, const PumpOptions& opts);

}  // namespace silo::cli
