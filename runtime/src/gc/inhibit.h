// inhibit.h — without_gcing: scopes in which no collection may run.
//
// Invariants:
//   - One atomic word holds (open scopes across all threads) << 1 | pending.
//     A request while any scope is open sets `pending`; the end of the last
//     open scope, from whichever thread, clears it and runs the collection —
//     in the same compare-and-swap, so it runs exactly once and a request
//     can never slip between the check and the end.
//   - A killed thread's open scopes are closed by its kill (close_scopes_of),
//     so a kill cannot leave collection inhibited forever.
#pragma once

namespace tl {
struct Record;
}

namespace tl::gc {

// TL_OK after collecting, TL_GC_DEFERRED when inhibited, or an error.
int request_collection();
void close_scopes_of(Record* r, bool may_collect);
void run_pending_if_uninhibited();
// The collection itself (world stopped inside); no inhibition check.
int collect_now();

}  // namespace tl::gc
