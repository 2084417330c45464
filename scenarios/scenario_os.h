// scenario_os.h — the few OS calls scenarios make outside the adapter,
// behind one interface (scenario_os_linux.cpp, scenario_os_posix.cpp).
#pragma once
namespace threadlab::scn {
// Open a per-thread kernel handle the way runtimes do (eventfd on Linux, a
// kqueue elsewhere) and return its fd; the caller decides whether to close.
int open_thread_handle();
}  // namespace threadlab::scn
