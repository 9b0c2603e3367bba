#pragma once
// The shared test helpers (tests/unit/common/temp_dir.h) under the image tests' names.

#include "../common/temp_dir.h"

namespace silo::image::testing {
using silo::testing::slurp;
using silo::testing::TempDir;
}  // namespace silo::image::testing
