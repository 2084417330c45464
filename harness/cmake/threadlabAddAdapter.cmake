# threadlabAddAdapter.cmake — threadlab_add_adapter(<target> [NAME <adapter>]
# <sources>...): a loadable adapter module, installed with threadlab's
# package config (find_package(threadlab)).
#
# Invariants:
#   - The module is threadlab-adapter-<adapter>.so (<adapter> defaults to
#     <target>; name it as the table's `name`), so `threadlab --adapter
#     <adapter>` finds it on THREADLAB_ADAPTER_PATH and `--adapter-lib` loads
#     it by path.
#   - It sees threadlab::api only (adapter.h), and exports nothing but what
#     TL_ADAPTER_EXPORT marks (hidden visibility): threadlab_adapter.
function(threadlab_add_adapter target)
  cmake_parse_arguments(PARSE_ARGV 1 TLA "" "NAME" "")
  if(NOT TLA_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "threadlab_add_adapter(${target}): no source files")
  endif()
  if(NOT TLA_NAME)
    set(TLA_NAME ${target})
  endif()
  add_library(${target} MODULE ${TLA_UNPARSED_ARGUMENTS})
  target_link_libraries(${target} PRIVATE threadlab::api Threads::Threads)
  set_target_properties(${target} PROPERTIES PREFIX "" SUFFIX ".so" OUTPUT_NAME "threadlab-adapter-${TLA_NAME}"
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
endfunction()
