#pragma once
// The shim's wire formats, as pure functions the unit tests check without a kernel:
// Docker's multiplexed output frames (shim -> attach client, non-tty), the client ->
// shim request frames, and the exit file's JSON. See shim.h for the protocol as a whole.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace silo::shim {

// Output streams, numbered as Docker's multiplexed stream header numbers them.
enum class Stream : uint8_t { Stdin = 0, Stdout = 1, Stderr = 2 };

// Size of a Docker stream frame header: [stream, 0, 0, 0, uint32 big-endian length].
inline constexpr size_t kOutputHeaderSize = 8;

// Appends one Docker multiplexed frame (header + payload) to `out`.
void encode_output_frame(Stream stream, std::string_view payload, std::string& out);

// Kinds of client -> shim requests. Each frame is [type(1), uint32 big-endian length]
// followed by `length` payload bytes.
enum class RequestType : uint8_t {
  Stdin = 1,       // payload: bytes for the container's stdin
  CloseStdin = 2,  // no payload: close the container's stdin (EOF to the process)
  Resize = 3,      // payload: uint16 rows, uint16 cols, big-endian (tty only)
  Replay = 4,      // no payload: send me the output from before I connected (see shim.h)
};
inline constexpr size_t kRequestHeaderSize = 5;
// Largest payload a client may send in one frame; bigger ones are a protocol error.
inline constexpr uint32_t kMaxRequestPayload = 1u << 20;

struct Request {
  RequestType type;
  std::string payload;
};

// Appends one request frame to `out` (used by clients and tests).
void encode_request(RequestType type, std::string_view payload, std::string& out);
// Appends a Resize request for `rows` x `cols`.
void encode_resize(uint16_t rows, uint16_t cols, std::string& out);
// Reads rows and cols from a Resize payload; Invalid when it is not 4 bytes.
[[nodiscard]] Result<std::pair<uint16_t, uint16_t>> decode_resize(std::string_view payload);

// Splits a client's byte stream into requests; bytes may arrive in any chunking.
class RequestDecoder {
 public:
  // Adds received bytes.
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next complete request, nullopt when more bytes are needed. Invalid on an unknown
  // type or an oversized payload: the connection should then be dropped.
  [[nodiscard]] Result<std::optional<Request>> next();
  // Bytes held that do not yet make a whole frame.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;
};

// How the container's init ended.
struct ExitRecord {
  int exit_code = 0;          // the exit status, or 128+signal when killed (Docker's convention)
  std::optional<int> signal;  // the killing signal, nullopt when it exited
  bool oom_killed = false;    // the kernel's OOM killer killed a process of the container
  std::string finished_at;    // RFC 3339 with nanoseconds, UTC
};

// Builds an ExitRecord from a waitpid() status.
ExitRecord exit_record_from_wait(int wait_status, bool oom_killed, std::string finished_at);
// The exit file's content: {"exit_code":N,"signal":S|null,"oom_killed":B,"finished_at":"…"}\n
std::string exit_json(const ExitRecord& r);

// The current time (CLOCK_REALTIME) as RFC 3339 with 9 fraction digits, UTC:
// "2026-11-23T09:00:00.123456789Z".
std::string rfc3339_nano_now();
// The same for a given time.
std::string rfc3339_nano(int64_t seconds, long nanoseconds);

// Appends `s` to `out` as a JSON string body (no quotes), escaping like Go's
// encoding/json (which Docker's json-file driver uses): quotes, backslash, control
// characters, <, >, &, U+2028/U+2029; invalid UTF-8 becomes U+FFFD.
void append_json_escaped(std::string_view s, std::string& out);

}  // namespace silo::shim
