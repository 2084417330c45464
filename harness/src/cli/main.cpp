// threadlab CLI entry point: the built-in adapters only. Third-party
// adapters call threadlab_main themselves (docs/writing-an-adapter.md).
#include <threadlab/adapter.h>

#if defined(TL_UNDER_TSAN)
// The fork scenarios' children start threads after a multi-threaded fork,
// which ThreadSanitizer's die_after_fork forbids: off for this program only
// (no other scenario's child starts a thread), and TSAN_OPTIONS from the
// environment still apply on top. docs/architecture.md, "Fork".
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }
#endif

int main(int argc, char** argv) { return threadlab_main(argc, argv, nullptr, 0); }
