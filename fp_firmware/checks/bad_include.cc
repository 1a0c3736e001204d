// Deliberately breaks the firmware include rule (never built; the include
// check must refuse it): a simulator header and a heap-using standard header.
#include <vector>

#include "hal/sim/sim_port.h"
#include "splitpath/hal.h"
