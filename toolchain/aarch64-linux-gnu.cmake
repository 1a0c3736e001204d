# Cross-compiles for aarch64-linux-gnu (64-bit, little-endian) with Debian's cross
# compilers (g++-aarch64-linux-gnu) and runs target binaries (ctest, test
# discovery, the footprint target) under qemu-user; binfmt is not assumed.
#
#   cmake -S . -B build-aarch64 -G Ninja -DSPLITPATH_FIRMWARE_ONLY=ON \
#         -DCMAKE_TOOLCHAIN_FILE=toolchain/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Debian's multiarch cross sysroot: headers and libraries of the target.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# -L points qemu at the target's dynamic loader and libstdc++.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
