# macOS x86_64 (Intel) compile-and-link check with zig; see zig-macos.cmake.
set(TL_ZIG_TARGET x86_64-macos)
set(TL_ZIG_ARCH x86_64)
include("${CMAKE_CURRENT_LIST_DIR}/zig-macos.cmake")
