#pragma once
// Docker's multiplexed stdout/stderr stream (stdcopy): each frame is an 8-byte header
// — the stream byte, three zero bytes, the payload length as a big-endian uint32 — then
// the payload. Used by attach, logs and exec when the container has no TTY.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace silo::api {

enum class StdStream : uint8_t { Stdin = 0, Stdout = 1, Stderr = 2, Systemerr = 3 };

// Size of a frame header.
inline constexpr size_t kMuxHeaderSize = 8;

// Appends one frame (header + payload) to `out`. Payloads over 4 GiB - 1 are split
// into several frames.
void append_mux_frame(std::string& out, StdStream stream, std::string_view payload);
// One frame as a new string.
[[nodiscard]] std::string mux_frame(StdStream stream, std::string_view payload);

// One decoded frame.
struct MuxFrame {
  StdStream stream;
  std::string payload;
};

// Incremental decoder for a multiplexed stream (the CLI side, and tests).
class MuxDecoder {
 public:
  // Adds received bytes.
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next complete frame, nullopt when more bytes are needed. Invalid error for a
  // header whose stream byte is not 0-3 or whose padding bytes are not zero.
  [[nodiscard]] Result<std::optional<MuxFrame>> next();
  // Bytes received but not yet returned as frames.
  [[nodiscard]] size_t pending() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace silo::api
