// lock_order.cpp — deadlock prediction: an acquired-before graph over the
// runtime locks, in the manner of abseil's DeadlockCheck.
//
// Each lock that is ever taken while another is held becomes a node (its
// order_id). Taking B while holding A adds the edge A -> B, remembering the
// thread that did it first. If B already reaches A, the new edge closes a
// cycle: two threads taking those locks in their orders at the same time
// would deadlock, whether or not this run ever blocks. The cycle is kept
// (once per set of locks) for tl_lock_order_cycles. Edges come from takes
// that succeeded (a wait that a kill broke adds none); a lock with
// TL_LOCK_CHECK_ORDER is checked before the take, and refuses it
// (TL_EDEADLK) when it would close a cycle.
//
// Invariants:
//   - Off (order_checking false), the graph is never touched: a take pays
//     one relaxed load, and only when it already holds a lock.
//   - The graph is guarded by one leaf mutex (lock_rank.h), taken inside a
//     no-stop scope; nothing under it blocks or takes another lock. It is never shrunk: a node outlives its
//     lock (a freed lock's id is simply no longer taken). At kMaxNodes the
//     graph stops growing and says so once.
//   - Remembered cycles are bounded (kMaxCycles); each holds at most
//     TL_ORDER_MAX locks (longer cycles are cut, and marked by n).
#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "blocking.h"
#include "fork.h"
#include "lock.h"
#include "lock_rank.h"
#include "status.h"

namespace tl {
bool order_checking = false;
}

using namespace tl;

namespace {
constexpr size_t kMaxNodes = 1u << 16;
constexpr size_t kMaxCycles = 64;

struct Edge {
  uint32_t to;
  tl_thread_id by;
};
struct Node {
  uintptr_t lock = 0;
  const char* name = nullptr;
  std::vector<Edge> out;
};

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
std::vector<Node> g_nodes(1);  // index 0 unused: order_id 0 means "no node yet"
std::vector<tl_lock_cycle> g_cycles;
std::vector<std::vector<uint32_t>> g_cycle_keys;  // sorted node ids, one per kept cycle
bool g_full_noted = false;

// Under g_mu. 0 when the graph is full.
uint32_t node_of(tl_lock* l) {
  if (!l->order_id) {
    if (g_nodes.size() >= kMaxNodes) {
      if (!g_full_noted) std::fprintf(stderr, "threadlab: lock-order graph full (%zu locks); not growing\n", kMaxNodes);
      g_full_noted = true;
      return 0;
    }
    l->order_id = static_cast<uint32_t>(g_nodes.size());
    g_nodes.emplace_back();
  }
  Node& n = g_nodes[l->order_id];
  n.lock = reinterpret_cast<uintptr_t>(l);
  n.name = l->name;
  return l->order_id;
}

const Edge* edge(uint32_t from, uint32_t to) {
  for (const Edge& e : g_nodes[from].out)
    if (e.to == to) return &e;
  return nullptr;
}

// A path from `from` to `to` (node ids, both ends included), or empty.
std::vector<uint32_t> path(uint32_t from, uint32_t to) {
  std::vector<uint32_t> parent(g_nodes.size(), 0), stack{from};
  std::vector<bool> seen(g_nodes.size(), false);
  seen[from] = true;
  while (!stack.empty()) {
    uint32_t n = stack.back();
    stack.pop_back();
    if (n == to) {
      std::vector<uint32_t> p{to};
      while (p.back() != from) p.push_back(parent[p.back()]);
      std::reverse(p.begin(), p.end());
      return p;
    }
    for (const Edge& e : g_nodes[n].out) {
      if (seen[e.to]) continue;
      seen[e.to] = true;
      parent[e.to] = n;
      stack.push_back(e.to);
    }
  }
  return {};
}

// The cycle held -> taken -> ... -> held, taken by `self` after `held`.
void remember(uint32_t held, const std::vector<uint32_t>& back, tl_thread_id self) {
  std::vector<uint32_t> ring{held};
  ring.insert(ring.end(), back.begin(), back.end() - 1);  // taken ... (up to, not repeating, held)
  std::vector<uint32_t> key = ring;
  std::sort(key.begin(), key.end());
  if (g_cycles.size() >= kMaxCycles || std::find(g_cycle_keys.begin(), g_cycle_keys.end(), key) != g_cycle_keys.end())
    return;
  tl_lock_cycle c{};
  c.n = static_cast<unsigned>(std::min<size_t>(ring.size(), TL_ORDER_MAX));
  for (unsigned i = 0; i < c.n; ++i) {
    const Node& n = g_nodes[ring[i]];
    c.locks[i] = n.lock;
    std::snprintf(c.names[i], sizeof c.names[i], "%s", n.name ? n.name : "");
    const uint32_t next = ring[(i + 1) % ring.size()];
    const Edge* e = i == 0 ? nullptr : edge(ring[i], next);
    c.threads[i] = e ? e->by : self;
  }
  g_cycles.push_back(c);
  g_cycle_keys.push_back(std::move(key));
}

// Under g_mu: for each lock h that r holds (other than l), the path l -> h
// if there is one (taking l would close a cycle through h), else add h -> l
// when `add`. Returns true when some path closed a cycle.
bool walk(Record* r, tl_lock* l, bool add) {
  bool closed = false;
  const uint32_t taken = node_of(l);
  for (tl_lock* h = r->held_locks; h && taken; h = h->next_held) {
    if (h == l) continue;
    const uint32_t held = node_of(h);
    if (!held || edge(held, taken)) continue;
    std::vector<uint32_t> back = path(taken, held);
    if (!back.empty()) {
      remember(held, back, r->id);
      closed = true;
      if (!add) break;
    }
    if (add) g_nodes[held].out.push_back(Edge{taken, r->id});
  }
  return closed;
}
}  // namespace

namespace tl {

pthread_mutex_t* lock_order_mutex() { return &g_mu; }  // fork.cpp takes it around fork()
int order_refuses(Record* r, tl_lock* l) {
  bool closed;
  {
    NoStopScope no_stop;
    lock_ranked(&g_mu, Rank::Leaf, "lock-order graph");
    closed = walk(r, l, false);
    unlock_ranked(&g_mu, Rank::Leaf);
  }
  if (closed)
    return fail(TL_EDEADLK, "tl_lock_acquire: taking lock %s here would close a lock-order cycle (tl_lock_order_cycles)",
                l->name ? l->name : "(unnamed)");
  return TL_OK;
}

void order_after_take(Record* r, tl_lock* l) {
  NoStopScope no_stop;
  lock_ranked(&g_mu, Rank::Leaf, "lock-order graph");
  walk(r, l, true);
  unlock_ranked(&g_mu, Rank::Leaf);
}
}  // namespace tl

extern "C" int tl_lock_order_check(int on) {
  __atomic_store_n(&order_checking, on != 0, __ATOMIC_RELAXED);
  return TL_OK;
}

extern "C" size_t tl_lock_order_cycles(tl_lock_cycle* out, size_t cap) {
  NoStopScope no_stop;
  lock_ranked(&g_mu, Rank::Leaf, "lock-order graph");
  const size_t n = g_cycles.size();
  for (size_t i = 0; i < n && i < cap && out; ++i) out[i] = g_cycles[i];
  unlock_ranked(&g_mu, Rank::Leaf);
  return n;
}
