// mutex_waits_darwin.cpp — see mutex_waits.h. Apple's pthread mutexes keep
// no owner a debugger-free outside reader can trust: no edges.
#include "probes/mutex_waits.h"

namespace threadlab {

std::vector<MutexWait> pthread_mutex_waits(long, std::string* note) {
  if (note) *note = "pthread mutex owners are not read on this OS";
  return {};
}

}  // namespace threadlab
