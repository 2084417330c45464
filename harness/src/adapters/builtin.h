// builtin.h — the adapters compiled into threadlab, and the lookup table.
#pragma once
#include <threadlab/adapter.h>

#include <string>
#include <vector>

extern "C" const tl_adapter tl_reference_adapter;
extern "C" const tl_adapter tl_reference_hybrid_adapter;
extern "C" const tl_adapter tl_pthread_adapter;

namespace threadlab {
// Built-ins first, then the extras handed to threadlab_main.
void register_extra_adapters(const tl_adapter* const* extra, size_t n);
const std::vector<const tl_adapter*>& all_adapters();
const tl_adapter* find_adapter(const std::string& name);
// Why an adapter is unusable (ABI mismatch, missing required op), "" if fine.
std::string adapter_problem(const tl_adapter* a);
// Names of the bits set in caps, comma-separated.
std::string cap_names(uint64_t caps);
// Why THREADLAB_INJECT cannot be honoured (unknown or planned point,
// injection compiled out), naming the point; "" if unset or fine
// (reference_inject.cpp).
std::string inject_env_problem();
}  // namespace threadlab
