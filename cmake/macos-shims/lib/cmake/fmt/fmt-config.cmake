# fmt for the macOS cross check: Debian's headers (libfmt-dev) used in fmt's
# documented header-only mode (FMT_HEADER_ONLY), so no x86_64 libfmt is linked.
include("${CMAKE_CURRENT_LIST_DIR}/../../../host-headers.cmake")
tl_host_headers(fmt::fmt-header-only fmt)
set_property(TARGET fmt::fmt-header-only APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_property(TARGET fmt::fmt PROPERTY INTERFACE_LINK_LIBRARIES fmt::fmt-header-only)
endif()
