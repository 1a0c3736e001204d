// The switching testbed moved to fabric_sim/bench/switch_testbed.h, where
// `splitpath bench` measures frames switched per second with it; tests keep
// their name for it.
#pragma once

#include "fabric_sim/bench/switch_testbed.h"

namespace splitpath::testing {
using SwitchTestbed = sim::SwitchTestbed;
}  // namespace splitpath::testing
