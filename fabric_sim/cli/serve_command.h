// `splitpath serve [TOPOLOGY.yaml] [--nbd ADDRESS:PORT] [--iscsi ADDRESS:PORT]
// [--initiators N] [--max-block BYTES] [--seed N] [--exit-after SECONDS]
// [--log-level LEVEL]`: runs the fabric in real time (simulated time tied to
// the wall clock) and serves every virtual volume a virtual target presents
// as an NBD export (fixed newstyle) named after the volume, and/or every
// virtual target as an iSCSI target with its LUNs (RFC 7143). Each NBD
// connection or iSCSI session takes one of the gateway's initiator N_Ports
// and its requests cross the switch as SCSI (fabric_sim/gateway/). Without
// --nbd or --iscsi it serves NBD on 127.0.0.1:10809; without a topology, the
// embedded default.
//
// Prints one line on stdout per protocol once the exports are ready
// ("serving NBD on ADDRESS:PORT: ...", then "serving iSCSI on ADDRESS:PORT:
// ..."), serves until SIGINT or SIGTERM (or --exit-after), and prints the
// connection counts, one line per protocol. Exit status: 0 after a stop; 2
// for bad arguments, a bad topology, an address it cannot bind, or exports
// that never became ready.
#pragma once

#include <string>
#include <vector>

int serve_command(const std::vector<std::string>& args);
