// Wire formats of the shim: output frames, request frames, exit file, JSON strings.
#include "shim/protocol.h"

#include <sys/wait.h>

#include <cstdio>
#include <ctime>

namespace silo::shim {

namespace {

void put_u32(uint32_t v, std::string& out) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

uint32_t get_u32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// Length of the valid UTF-8 sequence at s[i], 0 when it is not one (overlong forms,
// surrogates and values past U+10FFFF are invalid, as in Go's utf8.DecodeRune).
size_t utf8_len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
  }
  return n;
}

}  // namespace

void encode_output_frame(Stream stream, std::string_view payload, std::string& out) {
  out.push_back(static_cast<char>(stream));
  out.append(3, '\0');
  put_u32(static_cast<uint32_t>(payload.size()), out);
  out.append(payload);
}

void encode_request(RequestType type, std::string_view payload, std::string& out) {
  out.push_back(static_cast<char>(type));
  put_u32(static_cast<uint32_t>(payload.size()), out);
  out.append(payload);
}

void encode_resize(uint16_t rows, uint16_t cols, std::string& out) {
  char p[4] = {static_cast<char>(rows >> 8), static_cast<char>(rows), static_cast<char>(cols >> 8),
               static_cast<char>(cols)};
  encode_request(RequestType::Resize, std::string_view(p, 4), out);
}

Result<std::pair<uint16_t, uint16_t>> decode_resize(std::string_view payload) {
  if (payload.size() != 4) return fail(Code::Invalid, "resize request: payload must be 4 bytes");
  auto b = reinterpret_cast<const unsigned char*>(payload.data());
  return std::pair<uint16_t, uint16_t>(static_cast<uint16_t>((b[0] << 8) | b[1]),
                                       static_cast<uint16_t>((b[2] << 8) | b[3]));
}

Result<std::optional<Request>> RequestDecoder::next() {
  if (buffered() < kRequestHeaderSize) return std::optional<Request>();
  const char* h = buf_.data() + pos_;
  auto type = static_cast<uint8_t>(h[0]);
  uint32_t len = get_u32(h + 1);
  if (type < 1 || type > 4)
    return fail(Code::Invalid, "attach request: unknown type " + std::to_string(type));
  if (len > kMaxRequestPayload)
    return fail(Code::Invalid,
                "attach request: payload of " + std::to_string(len) + " bytes is too large");
  if (buffered() < kRequestHeaderSize + len) return std::optional<Request>();
  Request r{static_cast<RequestType>(type), buf_.substr(pos_ + kRequestHeaderSize, len)};
  pos_ += kRequestHeaderSize + len;
  // Compact once everything was consumed, or when the dead prefix dominates.
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return std::optional<Request>(std::move(r));
}

ExitRecord exit_record_from_wait(int wait_status, bool oom_killed, std::string finished_at) {
  ExitRecord r;
  if (WIFSIGNALED(wait_status)) {
    r.signal = WTERMSIG(wait_status);
    r.exit_code = 128 + *r.signal;
  } else {
    r.exit_code = WEXITSTATUS(wait_status);
  }
  r.oom_killed = oom_killed;
  r.finished_at = std::move(finished_at);
  return r;
}

std::string exit_json(const ExitRecord& r) {
  std::string out = "{\"exit_code\":" + std::to_string(r.exit_code) + ",\"signal\":";
  out += r.signal ? std::to_string(*r.signal) : "null";
  out += ",\"oom_killed\":";
  out += r.oom_killed ? "true" : "false";
  out += ",\"finished_at\":\"";
  append_json_escaped(r.finished_at, out);
  out += "\"}\n";
  return out;
}

std::string rfc3339_nano(int64_t seconds, long nanoseconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanoseconds);
  return buf;
}

std::string rfc3339_nano_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339_nano(ts.tv_sec, ts.tv_nsec);
}

void append_json_escaped(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          // Go escapes <, > and & too (HTML safety); Docker's logs carry them so.
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9) break JavaScript parsers; Go escapes them.
    if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
}

}  // namespace silo::shim
