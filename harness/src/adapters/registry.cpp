// registry.cpp — the table of adapters: built-ins, then third-party extras.
//
// Invariant: an adapter is listed only after adapter_problem() found it
// usable (ABI version, struct size, name, init, and every operation its
// capability bits promise); callers can rely on those pointers.
#include <fmt/format.h>

#include "adapters/builtin.h"

namespace threadlab {
namespace {
std::vector<const tl_adapter*>& table() {
  static std::vector<const tl_adapter*> t{&tl_reference_adapter, &tl_pthread_adapter};
  return t;
}
}  // namespace

std::string adapter_problem(const tl_adapter* a) {
  if (!a) return "null adapter";
  if (a->abi_version != TL_ADAPTER_ABI_VERSION)
    return fmt::format("ABI version {} (this threadlab speaks {})", a->abi_version, TL_ADAPTER_ABI_VERSION);
  if (a->struct_size < sizeof(tl_adapter)) return "struct_size smaller than this threadlab's tl_adapter";
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
  };
  for (auto& n : needs)
    if ((a->caps & n.cap) && !n.ok)
      return fmt::format("capability '{}' is set but its operations are missing", tl_cap_name(n.cap));
  return "";
}

void register_extra_adapters(const tl_adapter* const* extra, size_t n) {
  for (size_t i = 0; i < n; ++i) table().push_back(extra[i]);
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
    default: return nullptr;
  }
}
