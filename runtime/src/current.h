// current.h — finding the calling thread's record, three ways.
//
//   1. thread_local pointer (initial-exec TLS: one load, signal-safe);
//   2. a pthread key, whose destructor tears the record down at thread exit
//      and re-arms itself until the penultimate destructor round, so the
//      record outlives other keys' destructors that may still call back (the
//      last round is left to sanitizer runtimes, which finalise there);
//   3. the stack address: runtime-created threads run on power-of-two sized,
//      aligned stacks with the record at the base (lt-threads' TCB trick), so
//      masking the stack pointer finds it — signal-safe, and independent of
//      TLS, which a handler running for another thread cannot trust.
//
// Invariant: all three agree for every runtime-created thread; 1 and 2 agree
// for adopted and initial threads (3 finds nothing for them).
#pragma once
#include <cstdint>

namespace tl {

struct Record;

// The calling thread's record (TLS; lookup 1). Initial-exec: no lazy TLS
// allocation on first touch, so the load is safe inside signal handlers.
// Defined in current.cpp; read inline here, since the lock's fast path and
// every entry point start with it.
extern __thread Record* t_current __attribute__((tls_model("initial-exec")));

inline Record* current_record() { return t_current; }  // 1
Record* current_record_by_key();    // 2
Record* current_record_by_stack();  // 3
Record* record_by_stack_address(uintptr_t addr);

// Bind / unbind the calling thread to r (both the TLS slot and the key).
void set_current(Record* r);
void clear_current();
// Bind the TLS slot only (no key, so no teardown at exit). Used by the
// callback_borrows_initial_record defect.
void bind_tls_only(Record* r);

// True once this thread's record has been torn down (exiting threads must
// not adopt again from a late destructor).
bool current_torn_down();

// Create the pthread key; called by tl_init.
void current_init();

}  // namespace tl
