#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz and runs
# each for a bounded time from a seed corpus; fails on any crash, sanitizer
# report, leak or timeout the fuzzer finds.
#
#   trace_fuzz  the trace reader, exchange tracker, decode reports and the
#               replay's command extraction (tests/trace/trace_fuzz.cc)
#   wire_fuzz   every wire codec under include/splitpath/fc (tests/fuzz/wire_fuzz.cc)
#   topology_fuzz  the topology YAML parser and its validation
#               (tests/fuzz/topology_fuzz.cc; seeds in tests/fuzz/corpus/topology)
#   name_server_fuzz  a switch's login server, name server and replication
#               (tests/fuzz/name_server_fuzz.cc; seeds in tests/fuzz/corpus/name_server)
#   storehouse_fuzz  the DVE cluster's storehouse file reader
#               (tests/fuzz/storehouse_fuzz.cc; seeds in tests/fuzz/corpus/storehouse)
#   nbd_fuzz    the NBD codec of `splitpath serve`
#               (tests/gateway/nbd_fuzz.cc; seeds in tests/gateway/corpus/nbd)
#   iscsi_fuzz  the iSCSI PDU codec and target state machine of `splitpath serve`
#               (tests/gateway/iscsi_fuzz.cc; seeds in tests/gateway/corpus/iscsi)
#
# Seeds: tests/trace/corpus/{trace,wire} (committed, synthetic), plus, for
# trace_fuzz, the real captures in ../shared/captures when present. Findings go
# to build-fuzz/artifacts/.
#
# Environment: FUZZ_SECONDS per target (default 45), CC/CXX (default
# clang/clang++).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-45}
dir=build-fuzz

CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPLITPATH_FUZZ=ON -DSPLITPATH_BUILD_BENCH=OFF \
  -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_CXX_COMPILER="${CXX:-clang++}" >/dev/null
cmake --build "$dir" --target trace_fuzz wire_fuzz topology_fuzz name_server_fuzz storehouse_fuzz \
  nbd_fuzz iscsi_fuzz

work="$dir/fuzz-run"
rm -rf "$work"
mkdir -p "$work/trace" "$work/wire" "$work/topology" "$work/name_server" "$work/storehouse" \
  "$work/nbd" "$work/iscsi" "$dir/artifacts"
cp tests/trace/corpus/trace/* "$work/trace/"
cp tests/trace/corpus/wire/* "$work/wire/"
cp tests/fuzz/corpus/topology/* "$work/topology/"
cp tests/fuzz/corpus/name_server/* "$work/name_server/"
cp tests/fuzz/corpus/storehouse/* "$work/storehouse/"
cp tests/gateway/corpus/nbd/* "$work/nbd/"
cp tests/gateway/corpus/iscsi/* "$work/iscsi/"
if compgen -G "../shared/captures/*.pcap" >/dev/null; then
  cp ../shared/captures/*.pcap "$work/trace/"
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
# target:directory of its binary under build-fuzz/tests.
for entry in trace_fuzz:trace wire_fuzz:fuzz topology_fuzz:torture name_server_fuzz:torture \
  storehouse_fuzz:cluster nbd_fuzz:gateway iscsi_fuzz:gateway; do
  target=${entry%%:*}
  corpus="$work/${target%_fuzz}"
  echo "== $target: ${seconds}s from $(ls "$corpus" | wc -l) seeds"
  if ! "$dir/tests/${entry#*:}/$target" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/$target-" "$corpus" 2>"$work/$target.log"; then
    echo "$target FAILED; the input is in $dir/artifacts/, the log in $work/$target.log:"
    tail -n 60 "$work/$target.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$target.log" || true
  fi
done
exit $status
