# Version check delegated to Debian's own file (header-only, arch-independent).
include(/usr/share/cmake/nlohmann_json/nlohmann_jsonConfigVersion.cmake)
