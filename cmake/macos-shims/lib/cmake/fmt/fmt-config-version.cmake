# Version check delegated to Debian's own file.
include(/usr/lib/x86_64-linux-gnu/cmake/fmt/fmt-config-version.cmake)
