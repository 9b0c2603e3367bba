#pragma once
// The byte pump between a hijacked API connection (attach, exec start) and a silo-shim
// attach socket (protocol in src/shim/shim.h): client stdin becomes stdin request frames,
// the client's half-close a close-stdin frame, and the shim's output goes to the client
// as it comes (already multiplexed or raw), filtered to the streams asked for.

#include <string>

#include "api/handler.h"
#include "common/error.h"
#include "common/fd.h"

namespace silo::daemon {

struct PumpOptions {
  bool forward_stdin = false;      // read the client and feed the container's stdin
  bool close_stdin_on_eof = true;  // the client's half-close closes the container's stdin
  std::string detach_keys;         // raw bytes; "" for none
  bool tty = false;                // the shim sends raw bytes, not frames
  bool want_stdout = true, want_stderr = true;
};

// How a pump ended.
enum class PumpEnd { ShimClosed, Detached, ClientGone };

// Runs until the shim closes the connection (the process ended), the client typed the
// detach keys, or the client went away.
PumpEnd pump(api::Hijacked& client, UniqueFd& shim, const PumpOptions& o);

// Sends one request frame (shim protocol) on `fd`.
[[nodiscard]] Status send_shim_request(int fd, uint8_t type, std::string_view payload);
// Connects to the attach socket at `path` and sends a resize request.
[[nodiscard]] Status send_resize(const std::string& path, int rows, int cols);

}  // namespace silo::daemon
