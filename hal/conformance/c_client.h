/* Firmware-style callers of hal.h written in C: the suite calls them to prove
 * that the header is C and that a C caller can drive any HAL through its
 * tables. */
#pragma once

#include "splitpath/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives up to `max` (at most 16) frames and transmits each straight back
 * with its S_ID and D_ID swapped; frames the transmit ring refuses are freed.
 * *echoed is the number transmitted. Returns the first status that was not
 * SP_HAL_OK, else SP_HAL_OK. */
sp_hal_status sp_hal_conformance_c_echo(const sp_hal* hal, uint32_t max, uint32_t* echoed);

/* Posts a 12-byte message of `type` to the CP: the port index (4 bytes) then the
 * WWPN (8 bytes), big-endian. Returns the status of port_info or mbox_send. */
sp_hal_status sp_hal_conformance_c_report(const sp_hal* hal, uint32_t type);

#ifdef __cplusplus
}  // extern "C"
#endif
