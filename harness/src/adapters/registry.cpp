// registry.cpp — the table of adapters: built-ins, then third-party extras.
//
// Invariants:
//   - An adapter is listed only after adapter_problem() found it usable (ABI
//     version, struct size, name, init, and every operation its capability
//     bits promise); callers can rely on those pointers.
//   - Every listed table is a full tl_adapter: an extra built against an
//     older (revision 1) header is copied into a zero-filled table of this
//     threadlab's size, so its revision-2 operations read as NULL.
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "adapters/builtin.h"

namespace threadlab {
namespace {
// Size of the revision-1 table: everything before kill_report.
constexpr size_t kRevision1Size = offsetof(tl_adapter, kill_report);

std::vector<const tl_adapter*>& table() {
  static std::vector<const tl_adapter*> t{&tl_reference_adapter, &tl_reference_hybrid_adapter, &tl_pthread_adapter};
  return t;
}
}  // namespace

std::string adapter_problem(const tl_adapter* a) {
  if (!a) return "null adapter";
  if (a->abi_version != TL_ADAPTER_ABI_VERSION)
    return fmt::format("ABI version {} (this threadlab speaks {})", a->abi_version, TL_ADAPTER_ABI_VERSION);
  if (a->struct_size < kRevision1Size)
    return fmt::format("struct_size {} smaller than any tl_adapter revision ({})", a->struct_size, kRevision1Size);
  if (!a->name || !*a->name) return "no name";
  if (!a->init) return "no init operation";
  struct Need { uint64_t cap; bool ok; };
  const Need needs[] = {
      {TL_CAP_SPAWN, a->spawn && a->join && a->self},
      {TL_CAP_FOREIGN_CALLBACK, a->callback_enter && a->callback_exit},
      {TL_CAP_KILL, a->kill != nullptr},
      {TL_CAP_INTERRUPT, a->interrupt != nullptr},
      {TL_CAP_SUSPEND, a->suspend_all && a->resume_all},
      {TL_CAP_COLLECT, a->collect != nullptr},
      {TL_CAP_FORK, a->fork_prepare && a->fork_parent && a->fork_child},
      {TL_CAP_LOCKS, a->lock_new && a->lock && a->unlock && a->lock_free && a->wait_edges},
      {TL_CAP_MAILBOXES, a->mailbox_new && a->mailbox_send && a->mailbox_receive && a->mailbox_free},
      {TL_CAP_FAULTS, a->provoke_fault != nullptr},
      {TL_CAP_COUNTERS, a->counters != nullptr},
      {TL_CAP_INTEGRITY, a->check_integrity != nullptr},
      {TL_CAP_VALUE_STACK, a->value_push && a->value_pop},
      {TL_CAP_THREAD_LIST, a->thread_list != nullptr},
      {TL_CAP_REGIONS, a->safepoint && a->foreign_begin && a->foreign_end && a->blocking_begin && a->blocking_end &&
                           a->no_interrupt_begin && a->no_interrupt_end},
      {TL_CAP_HEAP, a->alloc && a->is_live && a->without_gc_begin && a->without_gc_end && a->heap_stats},
      {TL_CAP_CLEANUPS, a->cleanup_push && a->cleanup_pop},
      {TL_CAP_KILL_BLOCKED, (a->caps & TL_CAP_KILL) != 0},
  };
  for (auto& n : needs)
    if ((a->caps & n.cap) && !n.ok)
      return fmt::format("capability '{}' is set but its operations are missing", tl_cap_name(n.cap));
  return "";
}

void register_extra_adapters(const tl_adapter* const* extra, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const tl_adapter* a = extra[i];
    if (a && a->struct_size >= kRevision1Size && a->struct_size < sizeof(tl_adapter)) {
      auto* full = new tl_adapter{};  // lives as long as the process
      std::memcpy(full, a, a->struct_size);
      a = full;
    }
    table().push_back(a);
  }
}

const std::vector<const tl_adapter*>& all_adapters() { return table(); }

const tl_adapter* find_adapter(const std::string& name) {
  for (auto* a : table())
    if (a && a->name && name == a->name) return a;
  return nullptr;
}

std::string cap_names(uint64_t caps) {
  std::string out;
  for (int i = 0; i < TL_CAP_COUNT; ++i) {
    uint64_t bit = uint64_t{1} << i;
    if (!(caps & bit)) continue;
    if (!out.empty()) out += ",";
    out += tl_cap_name(bit);
  }
  return out;
}

}  // namespace threadlab

extern "C" const char* tl_cap_name(uint64_t bit) {
  switch (bit) {
    case TL_CAP_SPAWN: return "spawn";
    case TL_CAP_FOREIGN_CALLBACK: return "foreign_callback";
    case TL_CAP_KILL: return "kill";
    case TL_CAP_INTERRUPT: return "interrupt";
    case TL_CAP_SUSPEND: return "suspend";
    case TL_CAP_COLLECT: return "collect";
    case TL_CAP_FORK: return "fork";
    case TL_CAP_LOCKS: return "locks";
    case TL_CAP_MAILBOXES: return "mailboxes";
    case TL_CAP_FAULTS: return "faults";
    case TL_CAP_COUNTERS: return "counters";
    case TL_CAP_INTEGRITY: return "integrity";
    case TL_CAP_VALUE_STACK: return "value_stack";
    case TL_CAP_THREAD_LIST: return "thread_list";
    case TL_CAP_REGIONS: return "regions";
    case TL_CAP_HEAP: return "heap";
    case TL_CAP_CLEANUPS: return "cleanups";
    case TL_CAP_KILL_BLOCKED: return "kill_blocked";
    default: return nullptr;
  }
}
