// threadlab CLI entry point: the built-in adapters, plus whatever
// --adapter-lib, THREADLAB_ADAPTER_LIB or a module on the adapter path loads
// (adapter_lib_posix.cpp). A runtime author builds their adapter as such a
// module and runs this binary (docs/writing-an-adapter.md); threadlab_main
// and the harness library are not installed for linking.
#include <threadlab/adapter.h>

#if defined(TL_UNDER_TSAN)
// The fork scenarios' children start threads after a multi-threaded fork,
// which ThreadSanitizer's die_after_fork forbids: off for this program only
// (no other scenario's child starts a thread), and TSAN_OPTIONS from the
// environment still apply on top. docs/architecture.md, "Fork".
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }
#endif

int main(int argc, char** argv) { return threadlab_main(argc, argv, nullptr, 0); }
