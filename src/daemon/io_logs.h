#pragma once
// Reading a container's json-file log (written by silo-shim, see src/shim/json_log.h) for
// GET /containers/{id}/logs and attach's logs=1: the rotations oldest first, filtering
// by stream and time, tail, and the output encoding (multiplexed frames, or raw with a
// TTY). Also the stdin side of attach: Docker's detach keys.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace silo::daemon {

// One log line.
struct LogEntry {
  std::string stream;  // "stdout" or "stderr"
  std::string log;     // the text, with its '\n' when the line had one
  std::string time;    // RFC 3339 with nanoseconds, as written
  int64_t time_ns = 0;
};

// What the client asked for.
struct LogQuery {
  bool stdout_ = true, stderr_ = true;
  int64_t since_ns = 0;  // 0: from the start
  int64_t until_ns = 0;  // 0: no end
  bool timestamps = false;
  std::optional<size_t> tail;  // nullopt: all
};

// Parses one json-file line; nullopt when it is not one (a torn last line).
std::optional<LogEntry> parse_log_line(std::string_view line);
// "2026-11-23T09:00:00.123456789Z" (or with an offset) -> ns since the epoch; nullopt when invalid.
std::optional<int64_t> parse_rfc3339_ns(std::string_view s);
// Docker's since/until: "1700000000", "1700000000.123456789", or RFC 3339. 0 for "".
[[nodiscard]] Result<int64_t> parse_log_time(std::string_view s, std::string_view what);
// Docker's tail: "all" / "" / negative -> nullopt, N -> N. Invalid otherwise.
[[nodiscard]] Result<std::optional<size_t>> parse_tail(std::string_view s);

// Whether `e` passes the stream and time filters of `q`.
bool log_wanted(const LogEntry& e, const LogQuery& q);
// The bytes a client receives for `e`: a multiplexed frame, or the raw text with `tty`;
// with timestamps the time and a space come first.
std::string encode_log_entry(const LogEntry& e, const LogQuery& q, bool tty);

// Every entry of `path` and its rotations (path.N ... path.1, path), oldest first, that
// `q` wants, tail applied. A missing log is no error (no entries). Also returns, in
// `end_offset`, the size of `path` that was read (where a follower continues).
[[nodiscard]] Result<std::vector<LogEntry>> read_log(const std::string& path, const LogQuery& q,
                                                     uint64_t* end_offset = nullptr);

// Follows `path` from `offset`: each poll() returns the complete lines added since,
// continuing in the new file after a rotation.
class LogFollower {
 public:
  LogFollower(std::string path, uint64_t offset);
  // New entries (unfiltered).
  std::vector<LogEntry> poll();

 private:
  std::string path_;
  uint64_t offset_;
  uint64_t inode_ = 0;
  UniqueFd fd_;  // the file being read, open across a rotation or a removal
  std::string partial_;
};

// Docker's detach keys: "ctrl-p,ctrl-q" -> "\x10\x11". Invalid with dockerd's message
// for a bad key.
[[nodiscard]] Result<std::string> parse_detach_keys(std::string_view spec);

// Finds the detach sequence in a stdin byte stream that may split it across reads.
class DetachMatcher {
 public:
  explicit DetachMatcher(std::string keys) : keys_(std::move(keys)) {}
  // Appends to `out` the bytes of `in` to pass on; returns true once the whole sequence
  // was typed (the bytes of the sequence are not passed on).
  bool feed(std::string_view in, std::string& out);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

}  // namespace silo::daemon
