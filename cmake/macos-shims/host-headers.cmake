# tl_host_headers(TARGET DIR...) — for the macOS cross check only.
# Defines the INTERFACE IMPORTED target TARGET whose include directory holds
# symlinks to the named /usr/include subdirectories and nothing else, so a
# header-only Debian package is usable without -I/usr/include (which would
# pull glibc headers into a macOS build).
include_guard(GLOBAL)
function(tl_host_headers target)
  set(dir "${CMAKE_BINARY_DIR}/macos-host-headers")
  file(MAKE_DIRECTORY "${dir}")
  foreach(sub ${ARGN})
    if(NOT EXISTS "/usr/include/${sub}")
      message(FATAL_ERROR "/usr/include/${sub} missing: run ci/setup macos")
    endif()
    if(NOT EXISTS "${dir}/${sub}")
      file(CREATE_LINK "/usr/include/${sub}" "${dir}/${sub}" SYMBOLIC)
    endif()
  endforeach()
  if(NOT TARGET ${target})
    add_library(${target} INTERFACE IMPORTED)
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${dir}")
  endif()
endfunction()
