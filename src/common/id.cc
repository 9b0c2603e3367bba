#include "common/id.h"

#include <sys/random.h>

#include <cctype>

namespace silo {

std::string new_id() {
  unsigned char raw[32];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

Status validate_id(std::string_view id) {
  if (id.empty()) return fail(Code::Invalid, "container id must not be empty");
  if (id.size() > 1024) return fail(Code::Invalid, "container id is longer than 1024 characters");
  if (id[0] == '.' || id[0] == '-')
    return fail(Code::Invalid,
                "invalid container id \"" + std::string(id) + "\": must not start with '.' or '-'");
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '+' && c != '.' &&
        c != '-')
      return fail(Code::Invalid,
                  "invalid container id \"" + std::string(id) + "\": use only [A-Za-z0-9_+.-]");
  }
  return {};
}

}  // namespace silo
