// threadlab CLI entry point: the built-in adapters only. Third-party
// adapters call threadlab_main themselves (docs/writing-an-adapter.md).
#include <threadlab/adapter.h>

int main(int argc, char** argv) { return threadlab_main(argc, argv, nullptr, 0); }
