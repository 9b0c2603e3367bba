#pragma once
// SHA-256 through OpenSSL's EVP interface.

#include <string>
#include <string_view>

#include "common/error.h"

namespace silo {

// Incremental hasher. digest() may be called once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  // Lowercase hex of the 32-byte digest.
  std::string hex_digest();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

// Hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Hex SHA-256 of a file's contents.
[[nodiscard]] Result<std::string> sha256_file(const std::string& path);

}  // namespace silo
