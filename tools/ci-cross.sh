#!/usr/bin/env bash
# The firmware-only build for big-endian 32-bit PowerPC, tested under qemu:
# fp_firmware/, hal/sim, hal/ring, the HAL conformance suite, the firmware
# unit tests (including the wire-bytes test against golden bytes) and the
# firmware build checks, built with -fno-exceptions -fno-rtti in build-ppc/
# and run through ctest with qemu-ppc as the emulator. Prints the footprint.
#
# Installs nothing: needs g++-powerpc-linux-gnu, qemu-user, cmake, ninja-build
# and googletest sources in /usr/src/googletest (libgtest-dev), as
# tools/setup-debian.sh installs them. TRIPLE=aarch64-linux-gnu BUILD=build-arm
# runs the same for aarch64.
set -euo pipefail
cd "$(dirname "$0")/.."

TRIPLE=${TRIPLE:-powerpc-linux-gnu}
BUILD=${BUILD:-build-ppc}
JOBS=${JOBS:-2}

for tool in "${TRIPLE}-g++" cmake ninja; do
  command -v "$tool" > /dev/null || { echo "ci-cross: $tool not found" >&2; exit 2; }
done
case "$TRIPLE" in
  powerpc-linux-gnu) qemu=qemu-ppc ;;
  aarch64-linux-gnu) qemu=qemu-aarch64 ;;
  *) echo "ci-cross: no toolchain file for $TRIPLE" >&2; exit 2 ;;
esac
command -v "$qemu" > /dev/null || { echo "ci-cross: $qemu not found (qemu-user)" >&2; exit 2; }

cmake -S . -B "$BUILD" -G Ninja -DSPLITPATH_FIRMWARE_ONLY=ON \
  -DCMAKE_TOOLCHAIN_FILE="toolchain/${TRIPLE}.cmake"
cmake --build "$BUILD" -j "$JOBS"
ctest --test-dir "$BUILD" -j "$JOBS" --output-on-failure
cmake --build "$BUILD" --target footprint
