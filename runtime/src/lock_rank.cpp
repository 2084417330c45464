// lock_rank.cpp — the lock-order check (see lock_rank.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "lock_rank.h"

#if TL_INJECTION_COMPILED
#include "sigsafe_buf.h"
#include "threadlab/runtime.h"

namespace tl {
namespace {

constexpr unsigned kMaxHeld = 16;
struct Held {
  Rank rank[kMaxHeld];
  const char* name[kMaxHeld];
  unsigned n;
};
__attribute__((tls_model("initial-exec"))) thread_local Held t_held;

const char* rank_name(Rank r) {
  switch (r) {
    case Rank::Lifecycle: return "lifecycle";
    case Rank::Registry: return "registry";
    case Rank::Heap: return "heap";
    case Rank::Roots: return "roots";
    case Rank::Leaf: return "leaf";
  }
  return "?";
}

}  // namespace

void rank_taken(Rank r, const char* name) {
  Held& h = t_held;
  if (h.n > 0) {
    const Rank top = h.rank[h.n - 1];
    if (top >= r || top == Rank::Leaf) {
      SigsafeBuf<256> msg;
      msg.str("lock order violated: took the ").str(name).str(" lock (rank ").str(rank_name(r))
          .str(") while holding the ").str(h.name[h.n - 1]).str(" lock (rank ").str(rank_name(top))
          .str("); see docs/architecture.md, \"Lock order\"");
      tl_fatal(msg.c_str());
    }
  }
  if (h.n < kMaxHeld) {
    h.rank[h.n] = r;
    h.name[h.n] = name;
  }
  ++h.n;
}

void rank_reset_after_fork() { t_held.n = 0; }

void rank_dropped(Rank r) {
  Held& h = t_held;
  if (h.n == 0) return;
  // Released out of order only by the hard kill's forced releases; find it.
  unsigned i = h.n < kMaxHeld ? h.n : kMaxHeld;
  while (i > 0 && h.rank[i - 1] != r) --i;
  if (i == 0) return;
  for (unsigned j = i; j < h.n && j < kMaxHeld; ++j) {
    h.rank[j - 1] = h.rank[j];
    h.name[j - 1] = h.name[j];
  }
  --h.n;
}

}  // namespace tl
#endif
