# Version check delegated to Debian's own file (header-only, arch-independent).
include(/usr/share/cmake/CLI11/CLI11ConfigVersion.cmake)
