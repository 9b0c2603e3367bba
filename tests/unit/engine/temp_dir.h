#pragma once
// The shared test helpers (tests/unit/common/temp_dir.h) under the engine tests' names.

#include "../common/temp_dir.h"

namespace silo::engine::testing {
using silo::testing::TempDir;
}  // namespace silo::engine::testing
