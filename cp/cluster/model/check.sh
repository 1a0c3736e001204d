#!/usr/bin/env bash
# Model-check cp/cluster/model/oplock.pml with spin (exhaustive, safety:
# assertions and invalid end states).
#
#   check.sh [N] [-DNAME[=V]...] [--expect-violation] [--keep]
#
#   N                   number of nodes, 2 or 3 (default 3)
#   -DNAME[=V]          passed to spin (model knobs, e.g. -DBUG_NO_RESTART,
#                       -DRETRY_TIMER, -DMAXRETRY=1; see oplock.pml)
#   --expect-violation  succeed only if spin finds an error (mutation check)
#   --keep              keep the work directory (printed)
#
# Exit 0: no error and the search was complete (or, with --expect-violation,
# an error was found). Exit 1 otherwise; 2 for a usage or tool failure.
# On an error, a readable counterexample is printed (replayed with atomic
# steps in place of d_step, which spin's replay of d_step garbles).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="$here/oplock.pml"
nodes=3
expect_violation=0
keep=0
defs=()
for arg in "$@"; do
  case "$arg" in
    --expect-violation) expect_violation=1 ;;
    --keep) keep=1 ;;
    -D*) defs+=("$arg") ;;
    [0-9]*) nodes="$arg" ;;
    *) echo "check.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
if [[ "$nodes" != 2 && "$nodes" != 3 ]]; then
  echo "check.sh: N must be 2 or 3" >&2; exit 2
fi
command -v spin >/dev/null || { echo "check.sh: spin not found" >&2; exit 2; }
cc="${CC:-gcc}"
command -v "$cc" >/dev/null || cc=cc

# Bounds that keep the exhaustive search within ~2 GB and a few minutes
# (see README.md): with 3 nodes only nodes 0 and 1 ever update.
bounds=(-DN="$nodes" -DQSZ=8 -DMAXRETRY=2)
if [[ "$nodes" == 3 ]]; then bounds+=(-DACQNODES=2); fi
# 2 nodes are cheap: each may join, share and update twice.
if [[ "$nodes" == 2 ]]; then bounds+=(-DMAXJOIN=2 -DMAXSHARE=2 -DMAXACQ=2); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/oplock-spin.XXXXXX")"
if [[ $keep == 0 ]]; then trap 'rm -rf "$work"' EXIT; else echo "work dir: $work"; fi
cp "$model" "$work/oplock.pml"
cd "$work"

# Turns the model's printf trace into one line per step.
trail_awk='
function bits(x,  s, k) { s = ""; for (k = 0; k < 8; k++) if (int(x / 2^k) % 2) s = s (s == "" ? "" : ",") k; return "{" s "}" }
BEGIN { split("Boot Uninterested WantToJoin Joined WantToShare Sharing WantToAcquire Acquired", S, " ");
        split("join leave share unshare acquire release ack nak", M, " ") }
$1 == "T" && $4 == "in" {   # T node i in s receives t from j round r interested a waiting w
  x = ""; if ($7 >= 6) x = " round=" $11 ($13 ? "" : " not-interested") ($15 ? " waiting" : "");
  else if ($7 == 0 || $7 == 2 || $7 == 4) x = " round=" $11;
  printf "    n%d [%s] <- %s from n%d%s\n", $3, S[$5 + 1], M[$7 + 1], $9, x; next }
$1 == "T" && $4 == "now" {  # T node i now s inround b await a slist s alist a remem r cache v/c version v
  split($17, cv, "/");
  printf "n%d -> %s%s slist=%s alist=%s remem=%s cache=%s version=%d\n", $3, S[$5 + 1],
    ($7 ? " round awaiting " bits($9) : ""), bits($11), bits($13), bits($15),
    (cv[1] ? "v" cv[2] : "-"), $19; next }
/assert|violated|invalid end/ { print }
'

# -DCOLLAPSE: lossless state compression (still exhaustive).
# -DMEMLIM: pan stops (and says so) rather than exceed 2 GB.
panflags=(-O2 -DSAFETY -DCOLLAPSE -DMEMLIM=2000)
run_pan() {  # $1: extra spin define(s) or "", output to pan.out
  spin -a "${bounds[@]}" "${defs[@]}" $1 oplock.pml >spin.out 2>&1 \
    || { cat spin.out; echo "check.sh: spin -a failed" >&2; exit 2; }
  "$cc" "${panflags[@]}" -o pan pan.c 2>cc.out \
    || { cat cc.out; echo "check.sh: compiling pan failed" >&2; exit 2; }
  # -m: depth limit (checked below); -q: end states need empty channels
  ./pan -m100000 -q >pan.out 2>&1 || true
}

echo "spin ${bounds[*]} ${defs[*]}"
start=$(date +%s)
run_pan ""
end=$(date +%s)
grep -E '^(pan:|State-vector|Warning)|states, stored|transitions \(|total actual memory|errors:|too small|out of memory|memory limit' pan.out || true
echo "time: $((end - start)) s"

errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.out | tail -1)
if [[ -z "$errors" ]]; then
  cat pan.out
  echo "check.sh: could not read pan's result" >&2
  exit 2
fi
incomplete=0
if grep -qE 'max search depth too small|Search not completed|out of memory|memory limit|MEMLIM' pan.out \
   && [[ "$errors" == 0 ]]; then
  incomplete=1
fi

if [[ "$errors" != 0 ]]; then
  echo "--- counterexample (replayed with atomic steps) ---"
  rm -f oplock.pml.trail
  run_pan "-Dd_step=atomic"
  if [[ -f oplock.pml.trail ]]; then
    spin -t "${bounds[@]}" "${defs[@]}" -Dd_step=atomic oplock.pml 2>&1 \
      | awk "$trail_awk" || true
  fi
  echo "---"
fi

if [[ $expect_violation == 1 ]]; then
  if [[ "$errors" != 0 ]]; then
    echo "OK: the deliberately broken variant is caught (errors: $errors)"
    exit 0
  fi
  echo "FAIL: expected a violation, spin found none" >&2
  exit 1
fi
if [[ "$errors" != 0 ]]; then
  echo "FAIL: spin found $errors error(s)" >&2
  exit 1
fi
if [[ $incomplete == 1 ]]; then
  echo "FAIL: the search was not complete (depth or memory limit)" >&2
  exit 1
fi
echo "OK: errors: 0, search complete"
