# nlohmann-json (header-only, Debian nlohmann-json3-dev) for the macOS cross check.
include("${CMAKE_CURRENT_LIST_DIR}/../../../host-headers.cmake")
tl_host_headers(nlohmann_json::nlohmann_json nlohmann)
