// registry.cpp — the table of adapters: built-ins, then third-party extras,
// then adapters loaded from libraries (adapter_lib_posix.cpp).
//
// Invariants:
//   - An adapter is listed only after adapter_problem() found it usable (ABI
//     version, struct size, name, init, and every operation its capability
//     bits promise); callers can rely on those pointers. (Extras handed to
//     threadlab_main are listed as given; `threadlab list` shows their problem.)
//   - Every listed table is a full tl_adapter: one built against an older
//     header is copied into a zero-filled table of this threadlab's size, so
//     the operations of later revisions read as NULL. Nothing past a loaded
//     table's abi_version and struct_size is read before that copy.
//   - Names are unique: a loaded adapter whose name is taken is refused.
//   - The table grows only before the process starts threads (the CLI loads
//     what it needs first; a scenario child or fuzz target on its first
//     find_adapter), so readers take no lock.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>

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
// Origins other than "built-in": "threadlab_main" or a library's path.
std::map<const tl_adapter*, std::string>& origins() {
  static std::map<const tl_adapter*, std::string> m;
  return m;
}
const tl_adapter* registered(const std::string& name) {
  for (auto* a : table())
    if (a && a->name && name == a->name) return a;
  return nullptr;
}
// A table whose struct_size ends before this threadlab's, as a full one.
const tl_adapter* full_table(const tl_adapter* a) {
  if (!a || a->struct_size < kRevision1Size || a->struct_size >= sizeof(tl_adapter)) return a;
  auto* full = new tl_adapter{};  // lives as long as the process
  std::memcpy(full, a, a->struct_size);
  return full;
}
bool valid_name(const char* n) {
  for (const char* c = n; *c; ++c)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) return false;
  return true;
}
}  // namespace

std::string adapter_problem(const tl_adapter* a) {
  if (!a) return "null adapter";
  if (a->abi_version != TL_ADAPTER_ABI_VERSION)
    return fmt::format("ABI version {} (this threadlab speaks {})", a->abi_version, TL_ADAPTER_ABI_VERSION);
  if (a->struct_size < kRevision1Size)
    return fmt::format("struct_size {} smaller than any tl_adapter revision ({})", a->struct_size, kRevision1Size);
  if (!a->name || !*a->name) return "no name";
  if (!valid_name(a->name)) return fmt::format("name '{}' is not made of [a-z0-9_-]", a->name);
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
    const tl_adapter* a = full_table(extra[i]);
    table().push_back(a);
    origins()[a] = "threadlab_main";
  }
}

std::string register_loaded_adapter(const tl_adapter* given, const std::string& origin) {
  // abi_version and struct_size first: the fields every revision has.
  if (given->abi_version != TL_ADAPTER_ABI_VERSION || given->struct_size < kRevision1Size)
    return adapter_problem(given);
  tl_adapter seen{};  // what the table offers, as a full one: checked before anything is kept
  std::memcpy(&seen, given, std::min<size_t>(given->struct_size, sizeof seen));
  if (auto why = adapter_problem(&seen); !why.empty()) return why;
  if (const tl_adapter* other = registered(seen.name))
    return fmt::format("adapter name '{}' is taken by {}", seen.name,
                       origins().count(other) ? origins()[other] : std::string("a built-in adapter"));
  const tl_adapter* a = full_table(given);
  table().push_back(a);
  origins()[a] = origin;
  return "";
}

const std::vector<const tl_adapter*>& all_adapters() {
  load_env_adapter_libs();  // a refusal is the CLI's to report (cli.cpp)
  return table();
}

const tl_adapter* find_adapter(const std::string& name) {
  // Outside the CLI (a fuzz target) nobody else reports a refusal: say it once.
  static bool said = false;
  auto say = [](const std::string& why) {
    if (!why.empty() && !said) std::fprintf(stderr, "threadlab: %s\n", why.c_str());
    said = said || !why.empty();
  };
  say(load_env_adapter_libs());
  if (const tl_adapter* a = registered(name)) return a;
  bool found = false;
  say(load_adapter_module(name, &found));
  return registered(name);
}

std::string adapter_origin(const tl_adapter* a) {
  auto it = origins().find(a);
  return it == origins().end() ? "built-in" : it->second;
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
