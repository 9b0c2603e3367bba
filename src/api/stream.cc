#include "api/stream.h"

#include <algorithm>

namespace silo::api {

void append_mux_frame(std::string& out, StdStream stream, std::string_view payload) {
  constexpr size_t kMaxFrame = 0xffffffffu;
  do {
    size_t n = std::min(payload.size(), kMaxFrame);
    char header[kMuxHeaderSize] = {static_cast<char>(stream),
                                   0,
                                   0,
                                   0,
                                   static_cast<char>((n >> 24) & 0xff),
                                   static_cast<char>((n >> 16) & 0xff),
                                   static_cast<char>((n >> 8) & 0xff),
                                   static_cast<char>(n & 0xff)};
    out.append(header, kMuxHeaderSize);
    out.append(payload.substr(0, n));
    payload.remove_prefix(n);
  } while (!payload.empty());
}

std::string mux_frame(StdStream stream, std::string_view payload) {
  std::string out;
  out.reserve(kMuxHeaderSize + payload.size());
  append_mux_frame(out, stream, payload);
  return out;
}

Result<std::optional<MuxFrame>> MuxDecoder::next() {
  if (pending() < kMuxHeaderSize) return std::nullopt;
  auto h = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  if (h[0] > 3 || h[1] != 0 || h[2] != 0 || h[3] != 0)
    return fail(Code::Invalid,
                "multiplexed stream: bad frame header (stream byte " + std::to_string(h[0]) + ")");
  size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
  if (pending() < kMuxHeaderSize + len) return std::nullopt;
  MuxFrame f{static_cast<StdStream>(h[0]), buf_.substr(pos_ + kMuxHeaderSize, len)};
  pos_ += kMuxHeaderSize + len;
  // Compact once the consumed prefix dominates, so a long stream does not grow forever.
  if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return f;
}

}  // namespace silo::api
