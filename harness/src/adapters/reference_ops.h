// reference_ops.h — the reference adapter's operations, one file per
// mechanism: reference.cpp (lifecycle, threads, ledger, the tables),
// reference_control.cpp (stop the world, regions, heap, interrupt, kill,
// cleanups), reference_locks.cpp (locks and the wait-for graph).
#pragma once
#include <threadlab/adapter.h>

namespace threadlab::ref {

// Map a runtime status to an adapter status, noting the failure (with the
// runtime's own message) for last_error.
int st(int rc, const char* call);
const char* last_error();

// reference_control.cpp
int suspend_all();
int resume_all();
int collect();
int interrupt(tl_adapter_thread_id id, tl_adapter_fn fn, void* arg);
int kill(tl_adapter_thread_id id);
int kill_report(tl_adapter_kill_report* out);
int safepoint();
int foreign_begin();
int foreign_end();
int blocking_begin();
int blocking_end();
int no_interrupt_begin();
int no_interrupt_end();
void* alloc(size_t bytes);
int is_live(const void* p);
int without_gc_begin();
int without_gc_end();
int heap_stats(tl_adapter_heap_stats* out);
int cleanup_push(tl_adapter_fn fn, void* arg);
int cleanup_pop(int run);

// reference_faults.cpp
int provoke_fault(int kind);
int fault_mode(int mode);

// reference_locks.cpp
int lock_new(const char* name, tl_adapter_handle* out);
int lock(tl_adapter_handle h);
int unlock(tl_adapter_handle h);
int lock_free(tl_adapter_handle h);
int wait_edges(tl_adapter_wait_edge* out, size_t cap, size_t* count);
int lock_handoff(tl_adapter_handle h, tl_adapter_thread_id successor);
int lock_waiters(tl_adapter_handle h, tl_adapter_thread_id* out, size_t cap, size_t* count);
int lock_order_cycles(tl_adapter_lock_cycle* out, size_t cap, size_t* count);

// reference_mailboxes.cpp
int mailbox_new(size_t capacity, tl_adapter_handle* out);
int mailbox_send(tl_adapter_handle box, uint64_t word);
int mailbox_receive(tl_adapter_handle box, uint64_t* word);
int mailbox_close(tl_adapter_handle box);
int mailbox_free(tl_adapter_handle box);
// Lock-free: the name of the adapter lock at `lock` (the runtime's
// tl_lock address), or "" when it is not one of ours. Signal-safe.
const char* lock_name(uintptr_t lock);

}  // namespace threadlab::ref
