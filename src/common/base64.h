#pragma once
// Base64 (RFC 4648), as Docker's headers use it: X-Registry-Auth (URL alphabet),
// X-Docker-Container-Path-Stat and Basic auth (standard alphabet).
//
// Written here rather than taken from OpenSSL (EVP_EncodeBlock): silo_common is linked
// into the static silo-runc and into the CLI, which would then carry libcrypto for it.

#include <string>
#include <string_view>

#include "common/error.h"

namespace silo {

// Padded base64 of `in`; `url` picks the URL-safe alphabet (- and _ for + and /).
std::string base64_encode(std::string_view in, bool url = false);
// Decodes either alphabet, padded or not (decoding stops at the first '='). Invalid for
// any other character: "illegal base64 data: unexpected character '*'".
[[nodiscard]] Result<std::string> base64_decode(std::string_view in);

}  // namespace silo
