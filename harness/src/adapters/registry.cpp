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
#define TL_NEED_(NAME, name, bit, needs) {TL_CAP_##NAME, static_cast<bool>(needs)},
  const Need needs[] = {TL_CAPABILITIES(TL_NEED_)};
#undef TL_NEED_
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
#define TL_CAP_CASE_(NAME, name, bit, needs) \
  case TL_CAP_##NAME: return #name;
    TL_CAPABILITIES(TL_CAP_CASE_)
#undef TL_CAP_CASE_
    default: return nullptr;
  }
}
