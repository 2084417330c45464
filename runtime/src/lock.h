// lock.h — what the rest of the runtime needs from the lock (lock.cpp) and
// the lock-order graph (lock_order.cpp).
#pragma once
#include "record.h"

namespace tl {

// Release every lock r holds and mark each abandoned: its next taker gets
// TL_EOWNERDEAD. Returns how many. Async-signal-safe (atomics, a spin on the
// lock's queue guard held by other threads, a futex wake); a kill that
// lands while r itself holds a queue guard is the one case it cannot undo
// (docs/architecture.md, "Runtime locks").
unsigned abandon_held_locks(Record* r);

// Lock-order graph (lock_order.cpp). `order_checking` is read on every
// nested take; when it is false the graph costs nothing. Edges are added
// only for takes that succeed (a wait a kill broke is no acquired-before).
extern bool order_checking;
// r holds other locks and is about to take l (TL_LOCK_CHECK_ORDER): TL_EDEADLK
// (the cycle remembered) if taking it would close a cycle, else TL_OK.
int order_refuses(Record* r, tl_lock* l);
// r has just taken l (at the head of r->held_locks) while holding the rest:
// add the acquired-before edges, remembering any cycle they close.
void order_after_take(Record* r, tl_lock* l);

}  // namespace tl
