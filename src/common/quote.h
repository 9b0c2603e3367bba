#pragma once
// Go's strconv.Quote for the ASCII range, where Docker's output uses it (%q in the docker
// CLI's templates, the classic builder's "#(nop)" history lines).

#include <string>
#include <string_view>

namespace silo {

// "a\"b" for a"b: quotes, backslashes, \n \t \r and other control bytes (\x01, \x7f)
// escaped as Go writes them; other bytes, UTF-8 included, as they are.
std::string go_quote(std::string_view s);

}  // namespace silo
