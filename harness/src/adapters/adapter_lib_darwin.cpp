// adapter_lib_darwin.cpp — executable_dir() on macOS: _NSGetExecutablePath,
// resolved (it may name a symlink or hold "..").
#include <mach-o/dyld.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "adapters/builtin.h"

namespace threadlab {

std::string executable_dir() {
  uint32_t size = 0;
  _NSGetExecutablePath(nullptr, &size);  // asks for the size
  std::vector<char> buf(size + 1);
  if (_NSGetExecutablePath(buf.data(), &size) != 0) return "";
  char resolved[PATH_MAX];
  if (!realpath(buf.data(), resolved)) return "";
  const std::string exe = resolved;
  const size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "" : exe.substr(0, slash);
}

}  // namespace threadlab
