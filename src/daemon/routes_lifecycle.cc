// Placeholder: registers nothing until this route group is written (issue #3).

#include "daemon/daemon.h"

namespace silo::daemon {

Status add_lifecycle_routes(api::Router&, const Context&) { return {}; }

}  // namespace silo::daemon
