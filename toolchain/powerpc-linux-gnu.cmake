# Cross-compiles for powerpc-linux-gnu (32-bit, big-endian) with Debian's cross
# compilers (g++-powerpc-linux-gnu) and runs target binaries (ctest, test
# discovery, the footprint target) under qemu-user; binfmt is not assumed.
#
#   cmake -S . -B build-ppc -G Ninja -DSPLITPATH_FIRMWARE_ONLY=ON \
#         -DCMAKE_TOOLCHAIN_FILE=toolchain/powerpc-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ppc)

set(CMAKE_C_COMPILER powerpc-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER powerpc-linux-gnu-g++)

# Debian's multiarch cross sysroot: headers and libraries of the target.
set(CMAKE_FIND_ROOT_PATH /usr/powerpc-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# -L points qemu at the target's dynamic loader and libstdc++.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-ppc;-L;/usr/powerpc-linux-gnu)
