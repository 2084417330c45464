// wait_graph.h — find a cycle in a runtime's wait-for graph.
//
// Invariant: each thread waits on at most one lock, so the graph is a
// functional graph (waiter -> owner) and a cycle is found by walking it.
#pragma once
#include <threadlab/adapter.h>

#include <vector>

namespace threadlab {
// The edges forming one cycle, in order; empty if there is none.
std::vector<tl_adapter_wait_edge> find_wait_cycle(const std::vector<tl_adapter_wait_edge>& edges);
}  // namespace threadlab
