// names.cpp — threads, locks and mailboxes found by name (lt-threads'
// named resources).
//
// Invariants:
//   - One table per kind; a name is registered at most once per kind (a
//     second register is TL_EEXIST, never a silent replace), and names are
//     non-empty and shorter than TL_NAME_MAX.
//   - The tables are guarded by one leaf mutex (lock_rank.h), taken inside
//     a no-stop scope; nothing under it blocks.
#include <pthread.h>

#include <cstring>
#include <map>
#include <string>

#include "blocking.h"
#include "fork.h"
#include "lock_rank.h"
#include "status.h"

using namespace tl;

namespace {
constexpr int kKinds = 3;
const char* const kKindName[kKinds] = {"thread", "lock", "mailbox"};
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
std::map<std::string, uintptr_t> g_names[kKinds];

int check(int kind, const char* name, const char* what) {
  if (kind < 0 || kind >= kKinds) return fail(TL_EINVAL, "%s: unknown kind %d", what, kind);
  if (!name || !*name || std::strlen(name) >= TL_NAME_MAX)
    return fail(TL_EINVAL, "%s: a %s name must be 1 to %d bytes", what, kKindName[kind], TL_NAME_MAX - 1);
  return TL_OK;
}
}  // namespace

pthread_mutex_t* tl::names_mutex() { return &g_mu; }  // fork.cpp takes it around fork()

extern "C" int tl_name_register(int kind, const char* name, uintptr_t object) {
  if (int rc = check(kind, name, "tl_name_register")) return rc;
  NoStopScope no_stop;
  lock_ranked(&g_mu, Rank::Leaf, "names");
  const bool fresh = g_names[kind].emplace(name, object).second;
  unlock_ranked(&g_mu, Rank::Leaf);
  if (!fresh) return fail(TL_EEXIST, "tl_name_register: a %s named '%s' is already registered", kKindName[kind], name);
  return TL_OK;
}

extern "C" int tl_name_find(int kind, const char* name, uintptr_t* out) {
  if (int rc = check(kind, name, "tl_name_find")) return rc;
  NoStopScope no_stop;
  lock_ranked(&g_mu, Rank::Leaf, "names");
  auto it = g_names[kind].find(name);
  const bool found = it != g_names[kind].end();
  if (found && out) *out = it->second;
  unlock_ranked(&g_mu, Rank::Leaf);
  if (!found) return fail(TL_ENOTFOUND, "tl_name_find: no %s named '%s'", kKindName[kind], name);
  return TL_OK;
}

extern "C" int tl_name_remove(int kind, const char* name) {
  if (int rc = check(kind, name, "tl_name_remove")) return rc;
  NoStopScope no_stop;
  lock_ranked(&g_mu, Rank::Leaf, "names");
  const bool found = g_names[kind].erase(name) > 0;
  unlock_ranked(&g_mu, Rank::Leaf);
  if (!found) return fail(TL_ENOTFOUND, "tl_name_remove: no %s named '%s'", kKindName[kind], name);
  return TL_OK;
}
