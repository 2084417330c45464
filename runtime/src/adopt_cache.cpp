// adopt_cache.cpp — the cache of released adopted records (see header).
#include "adopt_cache.h"
#include "fork.h"
#include "lock_rank.h"

#include <pthread.h>

#include <new>

#include "blocking.h"
#include "ledger.h"
#include "record.h"

#include "sanitizer_policy.h"

// A cached record is poisoned (ASan), so a stale pointer to it is still
// reported.
#define TL_CACHE_POISON(r) TL_ASAN_POISON(r, sizeof(Record))
#define TL_CACHE_UNPOISON(r) TL_ASAN_UNPOISON(r, sizeof(Record))

namespace tl {
namespace {

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
Record** g_items = nullptr;  // [g_mu] cached records, g_count of them
size_t g_count = 0;          // [g_mu]
size_t g_cap = 0;

Record* pop() {
  NoStopScope no_stop;  // never stopped holding g_mu
  lock_ranked(&g_mu, Rank::Leaf, "adoption cache");
  Record* r = g_count ? g_items[--g_count] : nullptr;
  if (r) ledger().records_cached.fetch_sub(1, std::memory_order_relaxed);
  unlock_ranked(&g_mu, Rank::Leaf);
  if (r) TL_CACHE_UNPOISON(r);
  return r;
}

}  // namespace

pthread_mutex_t* adopt_cache_mutex() { return &g_mu; }  // fork.cpp takes it around fork()

void adopt_cache_configure(size_t cap) {
  if (cap == 0 || g_items) return;
  g_items = new (std::nothrow) Record*[cap];
  g_cap = g_items ? cap : 0;
}

Record* adopt_cache_take() {
  Record* r = pop();
  if (!r) return nullptr;
  if (!r->value.reopen() || !r->temp.reopen()) {
    record_delete(r);
    return nullptr;
  }
  record_reset(r);  // re-arms the canaries, now that the stacks are writable
  return r;
}

bool adopt_cache_put(Record* r) {
  TL_CACHE_POISON(r);  // before it is visible to another thread's take
  NoStopScope no_stop;
  lock_ranked(&g_mu, Rank::Leaf, "adoption cache");
  const bool kept = g_count < g_cap;
  if (kept) {
    g_items[g_count++] = r;
    ledger().records_cached.fetch_add(1, std::memory_order_relaxed);
  }
  unlock_ranked(&g_mu, Rank::Leaf);
  if (!kept) TL_CACHE_UNPOISON(r);
  return kept;
}

void adopt_cache_trim() {
  while (Record* r = pop()) record_delete(r);
}

}  // namespace tl
