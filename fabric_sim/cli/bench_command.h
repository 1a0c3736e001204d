// `splitpath bench scaling [--ports LIST] [--duration SECONDS] [--csv FILE] [--null-disks]
// [--seed N]`: the port-scaling benchmark of the split path
// (fabric_sim/bench/scaling_scenario.h). For each number of loaded ports it
// runs the scenario with the FPs on and with every I/O forced to the CP, and
// writes one CSV row per run (to FILE, or stdout), then a summary of simulated
// IOPS and their ratio on stderr.
//
// `splitpath bench decode [--frames N] [--keep FILE] [--seed N]`: the trace
// decoder's rate in frames/s and MB/s on a generated capture, side by side with
// tcpdump and tshark reading the same file (fabric_sim/bench/decode_bench.h).
//
// Returns the exit status: 0, 1 if a scaling run had verify or I/O errors, 2 for
// bad arguments (or a decode capture that cannot be written).
#pragma once

#include <string>
#include <vector>

int bench_command(const std::vector<std::string>& args);
