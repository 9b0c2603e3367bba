#pragma once
// Docker's parsers for sizes, CPU counts and durations, with the semantics of
// docker/go-units and Go's time.ParseDuration, so that "-m 512m", "--cpus 1.5",
// "--stop-timeout", "max-size": "10m" mean what they mean to Docker.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/error.h"

namespace silo::engine {

// go-units RAMInBytes: "<number>[ ][kmgtp][i][b]", case-insensitive, binary multiples
// ("512m" = 512 MiB, "8MiB", "1.5g"; a bare number is bytes). Used for --memory, --shm-size.
// Errors: Invalid, "invalid size: '<text>'".
[[nodiscard]] Result<int64_t> ram_in_bytes(std::string_view text);
// go-units FromHumanSize: the same grammar with decimal multiples ("10m" = 10,000,000).
// Used for json-file's max-size, as dockerd does.
[[nodiscard]] Result<int64_t> from_human_size(std::string_view text);
// --cpus: a decimal number of CPUs to NanoCPUs ("1.5" -> 1500000000). Errors: Invalid,
// "failed to parse x as a rational number", or "value is too precise" past 9 decimals.
[[nodiscard]] Result<int64_t> parse_nano_cpus(std::string_view text);
// Go's time.ParseDuration: "10s", "1m30s", "1.5h", "300ms", "-2h45m", "0". Units ns, us,
// µs, ms, s, m, h. Errors: Invalid, with Go's messages (`time: invalid duration "x"`,
// `time: missing unit in duration "10"`, `time: unknown unit "x" in duration "10x"`).
[[nodiscard]] Result<std::chrono::nanoseconds> parse_duration(std::string_view text);
// Whole seconds since the epoch of a stored RFC 3339 UTC time ("2026-11-23T10:11:12.5Z"):
// the date and time fields, the rest ignored; 0 when empty or unparsable.
int64_t rfc3339_seconds(std::string_view text);
// Docker's time filter values (GetTimestamp): Unix seconds with an optional fraction,
// RFC 3339 or its shorter layouts (2006-01-02T15:04:05, 2006-01-02T15:04, 2006-01-02;
// UTC unless an offset is given), or a duration back from `now_nano` ("10m"). Returns
// nanoseconds since the epoch. Errors: Invalid, "failed to parse value as time or
// duration: \"x\"" as dockerd.
[[nodiscard]] Result<int64_t> parse_docker_time(std::string_view value, int64_t now_nano);

}  // namespace silo::engine
