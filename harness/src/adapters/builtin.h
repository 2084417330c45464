// builtin.h — the adapters compiled into threadlab, the lookup table, and
// the adapters loaded from shared libraries (adapter_lib_posix.cpp).
#pragma once
#include <threadlab/adapter.h>

#include <string>
#include <vector>

extern "C" const tl_adapter tl_reference_adapter;
extern "C" const tl_adapter tl_reference_hybrid_adapter;
extern "C" const tl_adapter tl_pthread_adapter;

namespace threadlab {
// Built-ins first, then the extras handed to threadlab_main, then the
// adapters loaded from libraries.
void register_extra_adapters(const tl_adapter* const* extra, size_t n);
// Register a table a library returned, coming from `origin` (its path):
// "" once listed, else why it was refused (unusable, or its name is taken).
std::string register_loaded_adapter(const tl_adapter* a, const std::string& origin);
const std::vector<const tl_adapter*>& all_adapters();
// A registered adapter by name; a name that is not registered is looked for
// as a module (load_adapter_module) before it is called unknown. The
// libraries THREADLAB_ADAPTER_LIB names are loaded first.
const tl_adapter* find_adapter(const std::string& name);
// Where a registered adapter comes from: "built-in", "threadlab_main", or
// the path of the library that carries it.
std::string adapter_origin(const tl_adapter* a);
// Why an adapter is unusable (ABI mismatch, missing required op), "" if fine.
std::string adapter_problem(const tl_adapter* a);
// Names of the bits set in caps, comma-separated.
std::string cap_names(uint64_t caps);
// Why THREADLAB_INJECT cannot be honoured (unknown or planned point,
// injection compiled out), naming the point; "" if unset or fine
// (reference_inject.cpp).
std::string inject_env_problem();

// ---- loadable adapters (adapter_lib_posix.cpp) ----
// Load the adapter the shared library at `path` carries and register it;
// "" (and *name receives the adapter's name) or what is wrong, naming the
// path. Loading the same file again is not an error.
std::string load_adapter_lib(const std::string& path, std::string* name);
// Load every library THREADLAB_ADAPTER_LIB names (':'-separated), once per
// process; "" or the first refusal (the same answer on every call).
std::string load_env_adapter_libs();
// Look for threadlab-adapter-NAME.so in adapter_module_dirs() and load the
// first found: "" when loaded or when there is none (*found says which),
// else why it was refused.
std::string load_adapter_module(const std::string& name, bool* found);
// THREADLAB_ADAPTER_PATH's directories, then <exe dir>/../lib/threadlab/adapters
// and <exe dir>/../LIBDIR/threadlab/adapters.
std::vector<std::string> adapter_module_dirs();
}  // namespace threadlab
