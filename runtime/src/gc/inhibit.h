// inhibit.h — without_gcing: scopes in which no collection may run.
//
// Invariants:
//   - One atomic word holds (open scopes across all threads) << 1 | pending.
//     A request while any scope is open sets `pending`; the end of the last
//     open scope, from whichever thread, clears it and runs the collection —
//     in the same compare-and-swap, so it runs exactly once and a request
//     can never slip between the check and the end.
//   - A killed thread's open scopes are closed by its kill (close_scopes_of_*),
//     so a kill cannot leave collection inhibited forever.
#pragma once

namespace tl {
struct Record;
}

namespace tl::gc {

// TL_OK after collecting, TL_GC_DEFERRED when inhibited, or an error.
int request_collection();
// Close every without-GC scope r left open. The collection they deferred:
//   - runs now, on the caller, in close_scopes_of_and_collect (a thread
//     that can take part in a stop: teardown, a soft kill);
//   - is left pending in close_scopes_of_leaving_pending, which is
//     signal-path code (atomics only: a hard kill's handler, the reaper
//     under the registry lock); it returns true when it left one, for the
//     caller to run with run_pending_if_uninhibited once it may.
void close_scopes_of_and_collect(Record* r);
bool close_scopes_of_leaving_pending(Record* r);
void run_pending_if_uninhibited();
// The collection itself (world stopped inside); no inhibition check.
int collect_now();

}  // namespace tl::gc
