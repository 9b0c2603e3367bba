// The json-file log writer.
#include "shim/json_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/sys.h"

namespace silo::shim {

std::string format_log_line(std::string_view text, Stream stream, std::string_view time) {
  std::string out;
  out.reserve(text.size() + 80);
  out += "{\"log\":\"";
  append_json_escaped(text, out);
  out += stream == Stream::Stderr ? "\",\"stream\":\"stderr\",\"time\":\""
                                  : "\",\"stream\":\"stdout\",\"time\":\"";
  out += time;
  out += "\"}\n";
  return out;
}

std::string rotated_name(const std::string& path, int n) {
  return n == 0 ? path : path + "." + std::to_string(n);
}

void LineSplitter::feed(std::string_view bytes, const Sink& sink) {
  while (!bytes.empty()) {
    // Look for a newline only within the room left, so a partial line never outgrows
    // the limit however the bytes were chunked.
    size_t room = kMaxPartialLine - pending_.size();
    size_t nl = bytes.substr(0, room).find('\n');
    size_t take = nl == std::string_view::npos ? std::min(room, bytes.size()) : nl + 1;
    pending_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (pending_.back() == '\n' || pending_.size() >= kMaxPartialLine) {
      sink(pending_);
      pending_.clear();
    }
  }
}

void LineSplitter::flush(const Sink& sink) {
  if (pending_.empty()) return;
  sink(pending_);
  pending_.clear();
}

Result<JsonFileLog> JsonFileLog::open(LogOptions opts) {
  if (opts.max_file < 1) opts.max_file = 1;
  JsonFileLog log(std::move(opts));
  if (!log.opts_.path.empty()) SILO_TRY(log.reopen(false));
  return log;
}

Status JsonFileLog::reopen(bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  auto fd = sys::open(opts_.path, flags, 0640);
  if (!fd) return wrap(fd.error(), "open the container log");
  struct stat st {};
  size_ = ::fstat(fd->get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  fd_ = std::move(*fd);
  return {};
}

Status JsonFileLog::rotate() {
  if (opts_.max_file <= 1) {
    // Docker with max-file 1 starts the one file over.
    if (::ftruncate(fd_.get(), 0) < 0) return fail_errno(errno, "truncate " + opts_.path);
    size_ = 0;
    return {};
  }
  const std::string& p = opts_.path;
  ::unlink(rotated_name(p, opts_.max_file - 1).c_str());
  for (int n = opts_.max_file - 2; n >= 0; --n) {
    std::string from = rotated_name(p, n);
    if (::rename(from.c_str(), rotated_name(p, n + 1).c_str()) < 0 && errno != ENOENT)
      return fail_errno(errno, "rotate " + from);
  }
  return reopen(true);
}

Status JsonFileLog::emit(Stream stream, std::string_view text) {
  if (!fd_) return {};
  std::string line = format_log_line(text, stream, rfc3339_nano_now());
  // Like Docker: rotate before a write once the file has reached max-size.
  if (opts_.max_size > 0 && size_ >= opts_.max_size) SILO_TRY(rotate());
  SILO_TRY_CTX(sys::write_all(fd_.get(), line.data(), line.size()), "write the container log");
  size_ += line.size();
  return {};
}

Status JsonFileLog::write(Stream stream, std::string_view bytes) {
  Status result;
  auto sink = [&](std::string_view line) {
    if (auto r = emit(stream, line); !r && result) result = std::move(r);
  };
  (stream == Stream::Stderr ? err_ : out_).feed(bytes, sink);
  return result;
}

Status JsonFileLog::flush() {
  Status result;
  for (Stream s : {Stream::Stdout, Stream::Stderr}) {
    auto sink = [&](std::string_view line) {
      if (auto r = emit(s, line); !r && result) result = std::move(r);
    };
    (s == Stream::Stderr ? err_ : out_).flush(sink);
  }
  return result;
}

}  // namespace silo::shim
