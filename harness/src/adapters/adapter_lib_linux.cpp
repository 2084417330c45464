// adapter_lib_linux.cpp — executable_dir() on Linux: /proc/self/exe, so the
// module path follows the binary wherever it was built or installed.
#include <unistd.h>

#include <climits>
#include <string>

#include "adapters/builtin.h"

namespace threadlab {

std::string executable_dir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  const std::string exe(buf, static_cast<size_t>(n));
  const size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "" : exe.substr(0, slash);
}

}  // namespace threadlab
