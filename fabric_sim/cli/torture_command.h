// `splitpath torture [--seed N] [--runs K] [--ops M] [--json] [--break MECHANISM]
// [--all-faults] [--out-dir DIR] [--pcap FILE] [--event-log FILE]`: deterministic
// simulation testing (fabric_sim/torture/). Each run draws a random fabric,
// workload and fault schedule from its seed and checks the durability,
// revocation and progress invariants as it goes. --seed N runs seeds N ..
// N+K-1; without it, K fresh seeds are drawn and printed. The first run with a
// violation stops the campaign: its report is printed, and the seed is run
// again with a capture and an event log written to DIR
// (torture-SEED.pcap, torture-SEED.log), checking that the violation recurs.
//
// Returns the exit status: 0 no violation, 1 a violation, 2 bad arguments.
#pragma once

#include <string>
#include <vector>

int torture_command(const std::vector<std::string>& args);
