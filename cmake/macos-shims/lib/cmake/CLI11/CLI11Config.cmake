# CLI11 (header-only, Debian libcli11-dev) for the macOS cross check.
include("${CMAKE_CURRENT_LIST_DIR}/../../../host-headers.cmake")
tl_host_headers(CLI11::CLI11 CLI)
