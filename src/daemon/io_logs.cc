// The json-file log reader, log output encoding, and detach keys.
#include "daemon/io_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <deque>
#include <fstream>
#include <iterator>

#include "api/stream.h"
#include "common/json.h"

namespace silo::daemon {

std::optional<int64_t> parse_rfc3339_ns(std::string_view s) {
  int y, mo, d, h, mi, sec;
  int consumed = 0;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                  &consumed) != 6)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
  tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
  int64_t secs = ::timegm(&tm);
  int64_t nanos = 0;
  size_t i = static_cast<size_t>(consumed);
  if (i < str.size() && str[i] == '.') {
    int64_t scale = 100000000;
    for (++i; i < str.size() && std::isdigit(static_cast<unsigned char>(str[i])); ++i) {
      nanos += (str[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i < str.size() && (str[i] == '+' || str[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(str.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    int64_t off = (oh * 3600 + om * 60) * (str[i] == '+' ? 1 : -1);
    secs -= off;
  } else if (i >= str.size() || (str[i] != 'Z' && str[i] != 'z')) {
    return std::nullopt;
  }
  return secs * 1000000000 + nanos;
}

Result<int64_t> parse_log_time(std::string_view s, std::string_view what) {
  if (s.empty()) return 0;
  if (auto ns = parse_rfc3339_ns(s)) return *ns;
  // "seconds[.nanoseconds]" as the docker CLI sends it.
  auto dot = s.find('.');
  std::string_view sec = s.substr(0, dot);
  int64_t secs = 0;
  auto [end, ec] = std::from_chars(sec.data(), sec.data() + sec.size(), secs);
  if (ec != std::errc() || end != sec.data() + sec.size())
    return fail(Code::Invalid, "invalid value for " + std::string(what) + ": " + std::string(s));
  int64_t nanos = 0;
  if (dot != std::string_view::npos) {
    std::string frac(s.substr(dot + 1));
    frac.resize(9, '0');
    for (char c : frac) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return fail(Code::Invalid,
                    "invalid value for " + std::string(what) + ": " + std::string(s));
      nanos = nanos * 10 + (c - '0');
    }
  }
  return secs * 1000000000 + nanos;
}

Result<std::optional<size_t>> parse_tail(std::string_view s) {
  if (s.empty() || s == "all") return std::optional<size_t>();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size())
    return fail(Code::Invalid, "invalid value for \"tail\": \"" + std::string(s) +
                                   "\" is not a number or \"all\"");
  if (n < 0) return std::optional<size_t>();
  return std::optional<size_t>(static_cast<size_t>(n));
}

std::optional<LogEntry> parse_log_line(std::string_view line) {
  auto doc = parse_json(line, "log line");
  if (!doc || !doc->is_object()) return std::nullopt;
  LogEntry e;
  e.log = doc->value("log", "");
  e.stream = doc->value("stream", "stdout");
  e.time = doc->value("time", "");
  e.time_ns = parse_rfc3339_ns(e.time).value_or(0);
  return e;
}

bool log_wanted(const LogEntry& e, const LogQuery& q) {
  if (e.stream == "stderr" ? !q.stderr_ : !q.stdout_) return false;
  if (q.since_ns && e.time_ns < q.since_ns) return false;
  if (q.until_ns && e.time_ns > q.until_ns) return false;
  return true;
}

std::string encode_log_entry(const LogEntry& e, const LogQuery& q, bool tty) {
  std::string text = q.timestamps ? e.time + " " + e.log : e.log;
  if (tty) return text;
  return api::mux_frame(e.stream == "stderr" ? api::StdStream::Stderr : api::StdStream::Stdout,
                        text);
}

namespace {

// Appends the lines of the open file `fd` from `offset` to `out` (via `keep`); returns
// the size read.
template <class Keep>
uint64_t read_fd_lines(int fd, uint64_t offset, std::string& partial, Keep keep) {
  char buf[65536];
  uint64_t pos = offset;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return pos;
    std::string_view chunk(buf, static_cast<size_t>(n));
    pos += chunk.size();
    size_t start = 0;
    for (size_t nl; (nl = chunk.find('\n', start)) != std::string_view::npos; start = nl + 1) {
      partial.append(chunk.substr(start, nl - start));
      if (auto e = parse_log_line(partial)) keep(std::move(*e));
      partial.clear();
    }
    partial.append(chunk.substr(start));
  }
}

UniqueFd open_log(const std::string& file) {
  return UniqueFd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
}

// read_fd_lines of the file at `file`; `offset` when it cannot be opened.
template <class Keep>
uint64_t read_lines(const std::string& file, uint64_t offset, std::string& partial, Keep keep) {
  UniqueFd fd = open_log(file);
  return fd ? read_fd_lines(fd.get(), offset, partial, keep) : offset;
}

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

Result<std::vector<LogEntry>> read_log(const std::string& path, const LogQuery& q,
                                       uint64_t* end_offset) {
  std::deque<LogEntry> kept;
  auto keep = [&](LogEntry e) {
    if (!log_wanted(e, q)) return;
    kept.push_back(std::move(e));
    if (q.tail && kept.size() > *q.tail) kept.pop_front();
  };
  int oldest = 0;
  while (oldest < 100 && inode_of(path + "." + std::to_string(oldest + 1)) != 0) ++oldest;
  for (int n = oldest; n >= 1; --n) {
    std::string partial;
    read_lines(path + "." + std::to_string(n), 0, partial, keep);
  }
  std::string partial;
  uint64_t end = read_lines(path, 0, partial, keep);
  // A torn last line is left for the follower to read whole.
  if (end_offset) *end_offset = end - partial.size();
  return std::vector<LogEntry>(std::make_move_iterator(kept.begin()),
                               std::make_move_iterator(kept.end()));
}

// The file is held open: a container removed (with its log) right after it exits, as
// docker-py's run(remove=True) does while its follow stream is still being read, keeps
// its last lines readable.
LogFollower::LogFollower(std::string path, uint64_t offset)
    : path_(std::move(path)), offset_(offset), inode_(inode_of(path_)), fd_(open_log(path_)) {}

std::vector<LogEntry> LogFollower::poll() {
  std::vector<LogEntry> out;
  auto keep = [&](LogEntry e) { out.push_back(std::move(e)); };
  uint64_t ino = inode_of(path_);
  if (ino != inode_ && ino != 0) {
    // Rotated (or created): finish the file held open (now path.1), then the new one from 0.
    if (fd_) read_fd_lines(fd_.get(), offset_, partial_, keep);
    partial_.clear();
    fd_ = open_log(path_);
    inode_ = ino;
    offset_ = 0;
  }
  if (fd_) offset_ = read_fd_lines(fd_.get(), offset_, partial_, keep);
  return out;
}

Result<std::string> parse_detach_keys(std::string_view spec) {
  std::string out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string_view k =
        spec.substr(start, comma == std::string_view::npos ? spec.npos : comma - start);
    auto bad = [&] {
      return fail(Code::Invalid, "Invalid detach keys (" + std::string(spec) +
                                     ") provided: use ctrl-<value> where <value> is one of: "
                                     "a-z, @, ^, [, , or _, or a single character");
    };
    if (k.size() == 1) {
      out.push_back(k[0]);
    } else if (k.size() == 6 && k.starts_with("ctrl-")) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(k[5])));
      if (c >= 'a' && c <= 'z')
        out.push_back(static_cast<char>(c - 'a' + 1));
      else if (c == '@')
        out.push_back('\0');
      else if (c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
        out.push_back(static_cast<char>(c - '[' + 27));
      else
        return bad();
    } else {
      return bad();
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool DetachMatcher::feed(std::string_view in, std::string& out) {
  if (keys_.empty()) {
    out.append(in);
    return false;
  }
  for (char c : in) {
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) return true;
      continue;
    }
    // A partial match that breaks: its bytes were typed for the container.
    out.append(keys_, 0, matched_);
    matched_ = c == keys_[0] ? 1 : 0;
    if (matched_ == 0) out.push_back(c);
  }
  return false;
}

}  // namespace silo::daemon
