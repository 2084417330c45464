// wait_graph.cpp — see wait_graph.h.
#include "probes/wait_graph.h"

#include <map>
#include <set>

namespace threadlab {

std::vector<tl_adapter_wait_edge> find_wait_cycle(const std::vector<tl_adapter_wait_edge>& edges) {
  std::map<tl_adapter_thread_id, const tl_adapter_wait_edge*> out_of;
  for (auto& e : edges)
    if (e.owner) out_of[e.waiter] = &e;
  for (auto& start : edges) {
    std::vector<const tl_adapter_wait_edge*> path;
    std::map<tl_adapter_thread_id, size_t> seen;  // thread -> index in path
    tl_adapter_thread_id t = start.waiter;
    while (out_of.count(t) && !seen.count(t)) {
      seen[t] = path.size();
      path.push_back(out_of[t]);
      t = out_of[t]->owner;
    }
    if (seen.count(t)) {
      std::vector<tl_adapter_wait_edge> cycle;
      for (size_t i = seen[t]; i < path.size(); ++i) cycle.push_back(*path[i]);
      return cycle;
    }
  }
  return {};
}

}  // namespace threadlab
