#pragma once
// The container log in Docker's json-file format: one JSON object per line,
//   {"log":"text\n","stream":"stdout","time":"2026-11-23T09:00:00.123456789Z"}
// rotated as Docker rotates it: when the file has reached max-size, path.N-2 -> path.N-1,
// …, path -> path.1, and a fresh path.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"
#include "shim/protocol.h"

namespace silo::shim {

// A partial line is written out (without its newline) once this much has accumulated.
inline constexpr size_t kMaxPartialLine = 16 * 1024;

// One json-file line (with its trailing '\n') for `text` read from `stream` at `time`.
std::string format_log_line(std::string_view text, Stream stream, std::string_view time);
// The name of rotation generation `n` of `path`: path for 0, path.1, path.2, ...
std::string rotated_name(const std::string& path, int n);

// Cuts a byte stream into lines at '\n'; hands out a partial line once it reaches
// kMaxPartialLine bytes, and the rest on flush().
class LineSplitter {
 public:
  using Sink = std::function<void(std::string_view line)>;
  // Calls `sink` for each complete line (with its '\n') or over-long partial line.
  void feed(std::string_view bytes, const Sink& sink);
  // Hands out what is left (a line without its newline), if anything.
  void flush(const Sink& sink);

 private:
  std::string pending_;
};

struct LogOptions {
  std::string path;       // empty: no log
  uint64_t max_size = 0;  // bytes; 0: never rotate
  int max_file = 1;       // files kept, the live one included (Docker's max-file)
};

// Owns the log file; appends lines for each stream and rotates by size.
class JsonFileLog {
 public:
  // Opens (creates, appends to) opts.path. An empty path gives a log that drops everything.
  [[nodiscard]] static Result<JsonFileLog> open(LogOptions opts);

  // Adds bytes the container wrote to `stream`; complete lines are written at once.
  [[nodiscard]] Status write(Stream stream, std::string_view bytes);
  // Writes out partial lines of both streams (at exit).
  [[nodiscard]] Status flush();

 private:
  explicit JsonFileLog(LogOptions opts) : opts_(std::move(opts)) {}
  [[nodiscard]] Status emit(Stream stream, std::string_view text);
  [[nodiscard]] Status rotate();
  [[nodiscard]] Status reopen(bool truncate);

  LogOptions opts_;
  UniqueFd fd_;
  uint64_t size_ = 0;
  LineSplitter out_, err_;
};

}  // namespace silo::shim
