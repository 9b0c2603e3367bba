#pragma once
// Output as the docker CLI prints it: go-units' human durations and sizes, tabwriter
// tables (minwidth 10, padding 3), --format with the `table` prefix, and the ps row.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "common/quote.h"

namespace silo::cli {

// go-units HumanDuration: "Less than a second", "5 seconds", "About a minute", "3 hours",
// "2 weeks"...
[[nodiscard]] std::string human_duration(int64_t seconds);
// go-units HumanSize (decimal, 4 significant digits): 1200000 -> "1.2MB", 0 -> "0B".
[[nodiscard]] std::string human_size(double bytes);
// go-units BytesSize (binary): 1536 -> "1.5KiB".
[[nodiscard]] std::string bytes_size(double bytes);
// docker's Ellipsis: at most `max` characters (UTF-8 aware), the last one "…" when cut.
[[nodiscard]] std::string ellipsis(const std::string& s, size_t max);
// Unix seconds as Go's time.Time String() in local time: "2026-11-23 11:45:53 +0000 UTC".
[[nodiscard]] std::string go_time(int64_t unix_seconds);

// Aligns tab-separated cells as Go's text/tabwriter(minwidth 10, tabwidth 1, padding 3).
[[nodiscard]] std::string tabwrite(const std::string& text);

// Renders rows with a --format value (or `def` when it is empty). A "table" prefix
// prints a header row from `headers` (field -> title) and aligns the columns; otherwise
// each row is one line. Invalid error for a bad template.
[[nodiscard]] Result<std::string> render_rows(const std::string& format, const std::string& def,
                                              const std::vector<Json>& rows, const Json& headers);

// The ps row for one /containers/json entry (docker's ContainerContext fields), at time
// `now` (unix seconds). `trunc` shortens ID and Command as ps does without --no-trunc.
[[nodiscard]] Json ps_row(const Json& c, bool trunc, int64_t now);
// Headers of the ps fields.
[[nodiscard]] const Json& ps_headers();
// docker ps's default format.
inline constexpr const char* kPsTable =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

// "0.0.0.0:8080->80/tcp, 443/tcp" from a container's Ports array.
[[nodiscard]] std::string format_ports(const Json& ports);

}  // namespace silo::cli
