#!/usr/bin/env bash
# Installs what Splitpath needs to build, test and capture on Debian 12, as
# root. Does nothing (and needs no network) when everything is already there.
#
#   setup-debian.sh      the build, the tests, the benchmarks (tshark and
#                        tcpdump are the peers of the capture tests and of
#                        `splitpath bench decode`; valgrind counts the
#                        instructions of `splitpath bench`; spin checks the
#                        oplock protocol's model, cp/cluster/model; fio,
#                        libnbd-bin and qemu-utils are the NBD clients of
#                        the `splitpath serve` tests, tests/gateway;
#                        libiscsi-bin (iscsi-ls, iscsi-inq, iscsi-test-cu)
#                        and qemu-block-extra (qemu's iscsi:// driver) its
#                        iSCSI initiators)
#   setup-debian.sh ci   also what CI adds: clang with libFuzzer
#                        (tools/ci-fuzz.sh), the big-endian PowerPC cross
#                        compiler and qemu-user (tools/ci-cross.sh)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkgconf git
  libboost-dev libboost-program-options-dev libpcap-dev libabsl-dev
  libfmt-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev nlohmann-json3-dev tshark tcpdump valgrind spin
  fio libnbd-bin qemu-utils libiscsi-bin qemu-block-extra
)
if [ "${1:-}" = ci ]; then
  packages+=(clang libclang-rt-14-dev g++-powerpc-linux-gnu qemu-user)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-debian.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "setup-debian.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q -o DPkg::Lock::Timeout=300
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
