#!/usr/bin/env bash
# Sets up, builds, and runs the main job: `splitpath run` on the embedded default
# scenario. Extra arguments go to `splitpath run` (e.g. --json, --pcap out.pcap).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target splitpath
./build/splitpath run "$@"
