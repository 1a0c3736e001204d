/* Built as C11 with -pedantic-errors: see c_client.h. */
#include "hal/conformance/c_client.h"

enum { kMaxEcho = 16 };

sp_hal_status sp_hal_conformance_c_echo(const sp_hal* hal, uint32_t max, uint32_t* echoed) {
  sp_hal_buf* bufs[kMaxEcho];
  uint32_t received = 0;
  uint32_t sent = 0;
  uint32_t i;
  sp_hal_status status;

  *echoed = 0;
  if (max > kMaxEcho) max = kMaxEcho;
  status = hal->fast->rx_burst(hal->port, bufs, max, &received);
  if (status != SP_HAL_OK || received == 0) return status;
  for (i = 0; i < received; ++i) {
    uint8_t* f = bufs[i]->data;
    int b;
    for (b = 0; b < 3; ++b) {
      const uint8_t d = f[1 + b];
      f[1 + b] = f[5 + b];
      f[5 + b] = d;
    }
  }
  status = hal->fast->tx_burst(hal->port, bufs, received, &sent);
  if (sent < received) {
    const sp_hal_status freed = hal->fast->free_bufs(hal->port, bufs + sent, received - sent);
    if (status == SP_HAL_OK) status = freed;
  }
  *echoed = sent;
  return status;
}

sp_hal_status sp_hal_conformance_c_report(const sp_hal* hal, uint32_t type) {
  sp_hal_port_info info;
  uint8_t msg[12];
  int i;
  const sp_hal_status status = hal->ctrl->port_info(hal->port, &info);
  if (status != SP_HAL_OK) return status;
  for (i = 0; i < 4; ++i)
    msg[i] = (uint8_t)(info.port_index >> (24 - 8 * i));
  for (i = 0; i < 8; ++i)
    msg[4 + i] = (uint8_t)(info.wwpn >> (56 - 8 * i));
  return hal->ctrl->mbox_send(hal->port, type, msg, sizeof msg);
}
