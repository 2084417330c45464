# macOS arm64 (Apple silicon) compile-and-link check with zig; see zig-macos.cmake.
set(TL_ZIG_TARGET aarch64-macos)
set(TL_ZIG_ARCH arm64)
include("${CMAKE_CURRENT_LIST_DIR}/zig-macos.cmake")
