// reference_inject.cpp — THREADLAB_INJECT, the reference runtime's defect
// switch, checked by the CLI before any run starts.
//
// Invariants:
//   - Only validates: nothing is enabled in the CLI process (the runtime in
//     each scenario child reads THREADLAB_INJECT itself, in tl_init).
//   - A name that is unknown, planned (no defect behind it yet), or a build
//     with injection compiled out is a problem naming the point, so the CLI
//     exits 2 instead of running a suite that silently injects nothing.
#include <threadlab/runtime.h>

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "adapters/builtin.h"

// runtime/src/inject.cpp; declared here until runtime.h declares it.
extern "C" int tl_inject_check(const char* names);

namespace threadlab {

std::string inject_env_problem() {
  const char* spec = std::getenv("THREADLAB_INJECT");
  if (!spec || !*spec) return "";
  const int rc = tl_inject_check(spec);
  if (rc == TL_OK) return "";
  std::string why = tl_last_error();
  const std::string prefix = std::string(tl_strerror(rc)) + ": ";  // the message says more than the code
  if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
  return fmt::format("THREADLAB_INJECT={}: {}", spec, why);
}

}  // namespace threadlab
