# Cross toolchain: Linux aarch64 with Debian's g++-aarch64-linux-gnu.
#
# Libraries come from Debian multiarch (`ci/setup cross` adds arm64 and
# installs the :arm64 -dev packages into /usr/lib/aarch64-linux-gnu, where the
# Debian cross compiler already looks). Arch-independent headers (CLI11,
# nlohmann-json) are found in /usr/include as usual.
# Binaries run under qemu-user: CMAKE_CROSSCOMPILING_EMULATOR is used by CTest
# and by gtest_discover_tests, so `ctest --preset aarch64` runs on x86_64.
# Invariant: no x86_64 library can be linked (find_* never look in the host's
# multiarch dir because CMAKE_LIBRARY_ARCHITECTURE is aarch64-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# No -L / QEMU_LD_PREFIX: binaries run with the multiarch loader and libc
# (libc6:arm64, /lib/ld-linux-aarch64.so.1). Pointing qemu at the cross
# toolchain's own libc (/usr/aarch64-linux-gnu) mixes its ld.so with the
# multiarch libc.so of another Debian revision, and glibc's private ld.so/libc
# interface does not survive that: pthread_create spins forever.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config must read the arm64 .pc files only (libunwind's headers live in
# the multiarch include dir, so a host .pc would add x86_64 include paths).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
