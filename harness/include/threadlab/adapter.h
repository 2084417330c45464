/*
 * threadlab adapter interface — C ABI.
 *
 * An adapter is a table of operations through which scenarios and fuzzers
 * drive a language runtime's thread machinery. The harness never calls a
 * runtime directly, so one suite runs against any runtime that supplies an
 * adapter (docs/writing-an-adapter.md).
 *
 * Invariants:
 *   - `caps` is honest: a bit is set only when every operation it covers is
 *     implemented and does what it says. An operation whose capability bit is
 *     clear may be NULL; the harness never calls it, and a scenario needing
 *     the capability is reported `skip` with the reason.
 *   - Operations return TL_ADAPTER_OK (0) or a negative status; `last_error`
 *     (optional) names the calling thread's most recent failure.
 *   - Thread ids are nonzero, and never reused within a process.
 *   - `thread_list` and `wait_edges` may be called by the harness watchdog
 *     while other threads are deadlocked: they must not block on a lock a
 *     stuck thread can hold (use atomics, a try-lock, or return
 *     TL_ADAPTER_EBUSY).
 *   - Adapters are process-global: `init` runs once per process, before any
 *     other operation.
 *   - The table only grows at its end. Operations after `thread_list` are
 *     revision 2, and each later "revision N" block below (3: lock order and
 *     handoff, stacks; 4: heap images, trim; 5: os_fail_nth) extends it; an
 *     adapter whose struct_size ends before a revision is accepted and that
 *     revision's operations read as NULL (their capability bits must be clear).
 * This header compiles as C99 and as C++.
 */
#ifndef THREADLAB_ADAPTER_H
#define THREADLAB_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TL_ADAPTER_ABI_VERSION 1u

/* ---- status --------------------------------------------------------- */
enum {
  TL_ADAPTER_OK = 0,
  TL_ADAPTER_EFAIL = -1,     /* the operation failed; see last_error */
  TL_ADAPTER_ENOTSUP = -2,   /* not offered by this adapter */
  TL_ADAPTER_EBUSY = -3,     /* could not answer without blocking */
  TL_ADAPTER_ETIMEDOUT = -4  /* gave up waiting */
};
/* collect: the collection was deferred (a without-GC scope is open); it runs
 * when the last such scope ends. Not an error. */
#define TL_ADAPTER_DEFERRED 1
/* lock: acquired, but the previous owner was killed (or died) holding it.
 * Not an error: the caller holds the lock. */
#define TL_ADAPTER_OWNER_DIED 2

/* ---- capabilities ---------------------------------------------------- */
/* The one list of capabilities: X(NAME, name, bit, needs) per capability.
 * TL_CAP_<NAME> is 1 << bit; `name` is what `threadlab list` and reports
 * print (tl_cap_name); `needs` is the condition on an adapter table `a` the
 * harness checks before it lists an adapter with the bit set (the
 * operations the capability promises). A new capability is one line here. */
#define TL_CAPABILITIES(X)                                                                        \
  /* spawn, join */                                                                               \
  X(SPAWN, spawn, 0, a->spawn && a->join && a->self)                                              \
  /* callback_enter/exit from threads the runtime did not create */                               \
  X(FOREIGN_CALLBACK, foreign_callback, 1, a->callback_enter && a->callback_exit)                 \
  /* kill a thread, unwinding it and releasing its locks */                                       \
  X(KILL, kill, 2, a->kill)                                                                       \
  /* run a function on another thread at its next safe point */                                   \
  X(INTERRUPT, interrupt, 3, a->interrupt)                                                        \
  /* suspend_all / resume_all (stop the world) */                                                 \
  X(SUSPEND, suspend, 4, a->suspend_all && a->resume_all)                                         \
  /* collect: a full garbage collection */                                                        \
  X(COLLECT, collect, 5, a->collect)                                                              \
  /* fork_prepare / fork_parent / fork_child */                                                   \
  X(FORK, fork, 6, a->fork_prepare && a->fork_parent && a->fork_child)                            \
  /* lock_new/lock/unlock/lock_free with owners (wait_edges) */                                   \
  X(LOCKS, locks, 7, a->lock_new && a->lock && a->unlock && a->lock_free && a->wait_edges)        \
  /* bounded mailboxes with blocking send/receive */                                              \
  X(MAILBOXES, mailboxes, 8,                                                                      \
    a->mailbox_new && a->mailbox_send && a->mailbox_receive && a->mailbox_free)                   \
  /* provoke_fault: faults the runtime recovers from */                                           \
  X(FAULTS, faults, 9, a->provoke_fault)                                                          \
  /* counters: the runtime's own ledger */                                                        \
  X(COUNTERS, counters, 10, a->counters)                                                          \
  /* check_integrity: canaries, registry consistency */                                           \
  X(INTEGRITY, integrity, 11, a->check_integrity)                                                 \
  /* value_push/value_pop on a per-thread managed stack */                                        \
  X(VALUE_STACK, value_stack, 12, a->value_push && a->value_pop)                                  \
  /* thread_list (record states for hang dumps) */                                                \
  X(THREAD_LIST, thread_list, 13, a->thread_list)                                                 \
  /* revision 2: safepoint, foreign/blocking/no-interrupt regions */                              \
  X(REGIONS, regions, 14,                                                                         \
    a->safepoint && a->foreign_begin && a->foreign_end && a->blocking_begin && a->blocking_end && \
        a->no_interrupt_begin && a->no_interrupt_end)                                             \
  /* alloc, is_live, without_gc scopes, heap_stats */                                             \
  X(HEAP, heap, 15, a->alloc && a->is_live && a->without_gc_begin && a->without_gc_end && a->heap_stats) \
  /* cleanup_push/pop: handlers a kill or exit runs */                                            \
  X(CLEANUPS, cleanups, 16, a->cleanup_push && a->cleanup_pop)                                    \
  /* with KILL: a thread blocked in a system call is ended too, within the kill; without it such  \
     a kill may return TL_ADAPTER_ETIMEDOUT and stay pending until the call returns */            \
  X(KILL_BLOCKED, kill_blocked, 17, (a->caps & TL_CAP_KILL))                                     \
  /* revision 3: lock_handoff to a chosen queued waiter, lock_waiters (FIFO order) */             \
  X(LOCK_HANDOFF, lock_handoff, 18, (a->caps & TL_CAP_LOCKS) && a->lock_handoff && a->lock_waiters) \
  /* revision 3: stacks — each thread's stacks and guards as the runtime believes them */          \
  X(STACKS, stacks, 19, a->stacks)                                                               \
  /* revision 4: heap images — save_image, image_check, fork_and_save */                          \
  X(IMAGE, image, 20, a->save_image && a->image_check && a->fork_and_save)                       \
  /* revision 5: os_fail_nth — make one chosen OS call of the calling thread fail */               \
  X(OS_FAIL, os_fail, 21, a->os_fail_nth)

#define TL_CAP_ENUM_(NAME, name, bit, needs) TL_CAP_##NAME = 1u << (bit),
enum { TL_CAPABILITIES(TL_CAP_ENUM_) };
#undef TL_CAP_ENUM_
/* "+1" is a term of the sum "0 +1 +1 ..." below: parenthesised it would read
   "0 (+1)", which does not compile, so clang-tidy's macro-parentheses finding is false. */
/* NOLINTNEXTLINE(bugprone-macro-parentheses) */
#define TL_CAP_ONE_(NAME, name, bit, needs) +1
enum { TL_CAP_COUNT = 0 TL_CAPABILITIES(TL_CAP_ONE_) };
#undef TL_CAP_ONE_
/* Name of one capability bit ("spawn", "foreign_callback", ...), or NULL. */
const char *tl_cap_name(uint64_t bit);

/* ---- data exchanged with the harness --------------------------------- */
typedef uint64_t tl_adapter_thread_id;
typedef uint64_t tl_adapter_handle; /* locks and mailboxes; 0 is never valid */

enum { TL_UNIT_COUNT = 0, TL_UNIT_BYTES = 1 };

typedef struct tl_adapter_counter {
  const char *name; /* static string, e.g. "records_live" */
  uint64_t value;
  int unit;         /* TL_UNIT_* */
} tl_adapter_counter;

enum { TL_VIOLATION_SCRIBBLE = 0, TL_VIOLATION_INVARIANT = 1 };

typedef struct tl_adapter_violation {
  int kind;                    /* TL_VIOLATION_* */
  tl_adapter_thread_id thread; /* 0 if not tied to a thread */
  uintptr_t address;           /* 0 if none */
  char what[128];
} tl_adapter_violation;

typedef struct tl_adapter_thread {
  tl_adapter_thread_id id;
  int64_t kernel_tid;   /* OS thread id, -1 if unknown */
  char state[16];       /* runtime's own state name: "managed", "foreign", ... */
  char name[32];
  char waiting_on[64];  /* what the runtime knows it waits for, "" if nothing */
} tl_adapter_thread;

/* One edge of the wait-for graph: `waiter` blocks on lock `lock`, which
 * `owner` holds. */
typedef struct tl_adapter_wait_edge {
  tl_adapter_thread_id waiter;
  tl_adapter_thread_id owner;
  tl_adapter_handle lock;
  char lock_name[32];
} tl_adapter_wait_edge;

enum {
  TL_FAULT_STACK_OVERFLOW = 0, /* overflow the calling thread's stack; expect recovery */
  TL_FAULT_NULL_DEREF = 1,     /* touch an unmapped page; expect the runtime's fault path */
  TL_FAULT_WRITE_BARRIER = 2,  /* hit a write-barrier page; expect record-and-resume */
  TL_FAULT_NATIVE_OVERFLOW = 3 /* overflow the calling thread's native (control) stack; expect recovery */
};
/* fault_mode: where the runtime handles faults (TL_CAP_FAULTS, optional). */
enum { TL_FAULT_MODE_DIRECT = 0, TL_FAULT_MODE_FORWARDED = 1 };

/* A lock-order cycle the runtime predicted (lock_order_cycles): thread
 * threads[i] took locks[(i+1) % n] while it held locks[i]. Taken at the
 * same time, those orders deadlock, whether or not this run ever hung. */
#define TL_ADAPTER_CYCLE_MAX 8
typedef struct tl_adapter_lock_cycle {
  unsigned n;
  tl_adapter_handle locks[TL_ADAPTER_CYCLE_MAX];
  tl_adapter_thread_id threads[TL_ADAPTER_CYCLE_MAX];
  char lock_names[TL_ADAPTER_CYCLE_MAX][32];
} tl_adapter_lock_cycle;

/* One of a thread's stacks as the runtime believes it to be (stacks):
 * [lo, hi) is what it uses and scans — for the control stack, the whole
 * range the OS gave the thread; each guard [start, end) is a range it
 * promises is inaccessible (0, 0: none on that side that the runtime made).
 * kind: "control", "value", "temp", "altstack", ... */
typedef struct tl_adapter_stack {
  char kind[16];
  uintptr_t lo, hi;
  uintptr_t guard_below_start, guard_below_end;
  uintptr_t guard_above_start, guard_above_end;
} tl_adapter_stack;

typedef void (*tl_adapter_fn)(void *arg);

/* What a kill cost (kill_report, optional with TL_CAP_KILL). */
typedef struct tl_adapter_kill_report {
  int hard;                /* 1: the target never reached a safe point and was ended the hard way */
  unsigned cleanups_run;   /* cleanup handlers run on the target */
  unsigned locks_released; /* runtime locks it held, released */
  char state_at_kill[16];  /* the runtime's state name when the kill was asked */
  char text[256];          /* the runtime's own account, in words */
} tl_adapter_kill_report;

typedef struct tl_adapter_heap_stats {
  uint64_t collections;    /* collections that ran (deferred ones count when they run) */
  uint64_t live_objects;
  uint64_t freed_objects;  /* since init */
} tl_adapter_heap_stats;

/* ---- the operation table --------------------------------------------- */
typedef struct tl_adapter {
  uint32_t abi_version;    /* TL_ADAPTER_ABI_VERSION */
  uint32_t struct_size;    /* sizeof(tl_adapter) the adapter was built with */
  const char *name;        /* "reference", "pthread", ... ([a-z0-9_-]+) */
  const char *description; /* one line */
  uint64_t caps;           /* TL_CAP_* bits */

  /* lifecycle (required) */
  int (*init)(void);
  const char *(*last_error)(void); /* optional */

  /* TL_CAP_SPAWN (spawn, join, self required) */
  int (*spawn)(const char *name, tl_adapter_fn fn, void *arg, tl_adapter_thread_id *out);
  int (*join)(tl_adapter_thread_id id);
  tl_adapter_thread_id (*self)(void); /* 0 if the calling thread has no record */

  /* TL_CAP_FOREIGN_CALLBACK */
  int (*callback_enter)(void);
  int (*callback_exit)(void);

  /* TL_CAP_KILL: end a spawned thread — unwind it at its next safe point
   * (running its cleanups, releasing its runtime locks) or, when it never
   * reaches one, the hard way; returns once it ended (join it afterwards).
   * TL_CAP_INTERRUPT: run fn(arg) on the target at its next safe point. */
  int (*kill)(tl_adapter_thread_id id);
  int (*interrupt)(tl_adapter_thread_id id, tl_adapter_fn fn, void *arg);

  /* TL_CAP_SUSPEND: stop every other thread the runtime knows, in whatever
   * state, and restart them; nests. TL_ADAPTER_ETIMEDOUT: a thread never
   * answered (last_error names it); the world was restarted. */
  int (*suspend_all)(void);
  int (*resume_all)(void);

  /* TL_CAP_COLLECT: a full collection now, or TL_ADAPTER_DEFERRED. */
  int (*collect)(void);

  /* TL_CAP_FORK: called around fork() by the harness */
  int (*fork_prepare)(void);
  int (*fork_parent)(void);
  int (*fork_child)(void);

  /* TL_CAP_LOCKS */
  int (*lock_new)(const char *name, tl_adapter_handle *out);
  int (*lock)(tl_adapter_handle lock);
  int (*unlock)(tl_adapter_handle lock);
  int (*lock_free)(tl_adapter_handle lock);
  /* Wait-for graph; *count receives the total number of edges. */
  int (*wait_edges)(tl_adapter_wait_edge *out, size_t cap, size_t *count);

  /* TL_CAP_MAILBOXES */
  int (*mailbox_new)(size_t capacity, tl_adapter_handle *out);
  int (*mailbox_send)(tl_adapter_handle box, uint64_t word);
  int (*mailbox_receive)(tl_adapter_handle box, uint64_t *word);
  int (*mailbox_free)(tl_adapter_handle box);

  /* TL_CAP_FAULTS: provoke a fault of the given kind on the calling thread;
   * returns TL_ADAPTER_OK after the runtime recovered from it. */
  int (*provoke_fault)(int kind);

  /* TL_CAP_VALUE_STACK */
  int (*value_push)(uintptr_t word);
  int (*value_pop)(uintptr_t *word);

  /* TL_CAP_COUNTERS: *count receives the number of counters available. */
  int (*counters)(tl_adapter_counter *out, size_t cap, size_t *count);

  /* TL_CAP_INTEGRITY: returns the number of violations (0 = clean), writing
   * up to cap of them, or a negative status. */
  int (*check_integrity)(tl_adapter_violation *out, size_t cap);

  /* TL_CAP_THREAD_LIST: *count receives the total number of live threads. */
  int (*thread_list)(tl_adapter_thread *out, size_t cap, size_t *count);

  /* ---- revision 2 ---- */
  /* TL_CAP_KILL, optional: what the calling thread's latest kill cost. */
  int (*kill_report)(tl_adapter_kill_report *out);

  /* TL_CAP_REGIONS: where a thread is, in the runtime's own terms. A thread
   * in a foreign or blocking region may be stopped without being asked and
   * must not return to managed code while the world is stopped; safepoint
   * polls for a pending stop, interrupt or kill; a no-interrupt window
   * defers stops and interrupts until it closes. Regions do not nest across
   * kinds: *_end from another region than the matching *_begin fails. */
  int (*safepoint)(void);
  int (*foreign_begin)(void);
  int (*foreign_end)(void);
  int (*blocking_begin)(void);
  int (*blocking_end)(void);
  int (*no_interrupt_begin)(void);
  int (*no_interrupt_end)(void);

  /* TL_CAP_HEAP: managed objects the collector (TL_CAP_COLLECT) traces
   * conservatively from every thread's stacks and saved registers. alloc
   * returns zeroed memory or NULL; is_live says whether p is inside a live
   * object; a without-GC scope defers any collection until the last scope
   * on any thread ends, which then runs it exactly once. */
  void *(*alloc)(size_t bytes);
  int (*is_live)(const void *p);
  int (*without_gc_begin)(void);
  int (*without_gc_end)(void);
  int (*heap_stats)(tl_adapter_heap_stats *out);
  /* Byte a freed object is filled with (0 if the runtime does not poison). */
  unsigned poison_byte;

  /* TL_CAP_CLEANUPS: handlers run innermost first when the thread is killed
   * or exits early; cleanup_pop(1) runs the innermost one now. */
  int (*cleanup_push)(tl_adapter_fn fn, void *arg);
  int (*cleanup_pop)(int run);

  /* ---- revision 3 ---- */
  /* TL_CAP_LOCKS, optional: the lock-order cycles the runtime predicted so
   * far, each once; *count receives their number. Called after each cycle. */
  int (*lock_order_cycles)(tl_adapter_lock_cycle *out, size_t cap, size_t *count);
  /* TL_CAP_LOCK_HANDOFF: release a held lock straight to `successor`, a
   * thread queued on it (0: the oldest waiter); the queued waiters, oldest
   * first (*count receives their number). */
  int (*lock_handoff)(tl_adapter_handle lock, tl_adapter_thread_id successor);
  int (*lock_waiters)(tl_adapter_handle lock, tl_adapter_thread_id *out, size_t cap, size_t *count);
  /* TL_CAP_MAILBOXES, optional: close a mailbox; every waiter wakes, sends
   * fail, receives drain what is left and then fail. */
  int (*mailbox_close)(tl_adapter_handle box);
  /* TL_CAP_FAULTS, optional: handle faults on the faulting thread
   * (TL_FAULT_MODE_DIRECT) or on a dedicated handler thread
   * (TL_FAULT_MODE_FORWARDED); TL_ADAPTER_ENOTSUP when it has no such mode. */
  int (*fault_mode)(int mode);
  /* TL_CAP_STACKS: thread `id`'s stacks (0: the calling thread); *count
   * receives their number. Checked by the harness against the address
   * space: a stack whose range is not all accessible, a promised guard that
   * is not, or a control stack that differs from what the OS gave the thread
   * is a finding. */
  int (*stacks)(tl_adapter_thread_id id, tl_adapter_stack *out, size_t cap, size_t *count);

  /* ---- revision 4 ---- */
  /* TL_CAP_IMAGE: write the managed heap and its roots to `path` (atomically:
   * complete or untouched); refused (TL_ADAPTER_EFAIL, last_error says why)
   * unless the world is single-threaded. image_check verifies a file
   * (header, version, checksum) without needing the runtime's state.
   * fork_and_save: fork a child that saves (the runtime picks the thread to
   * fork on), wait up to timeout_ms for it; the parent's threads keep
   * running; *status receives the child's exit status (-1: no child). */
  int (*save_image)(const char *path);
  int (*image_check)(const char *path);
  int (*fork_and_save)(const char *path, unsigned timeout_ms, int *status);
  /* Optional: give the runtime's caches back to the OS (spare thread slots,
   * adopted records kept for reuse, ...). The harness calls it at each
   * cycle's end, just before the leak probes sample, so they see what the
   * runtime retains rather than how full a bounded cache happens to be (a
   * cache filling up over the first cycles at 64 threads read as a slope).
   * A cache past its own bound is the runtime's to report (integrity). */
  int (*trim)(void);

  /* ---- revision 5 ---- */
  /* TL_CAP_OS_FAIL: the calling thread's nth OS call the runtime makes from
   * now on (counting only calls the runtime can fail on purpose: mmap,
   * mprotect, thread creation, sigaltstack, per-thread handles, fork, ...)
   * fails with its usual errno, as if the OS had refused it; 0 disarms. The
   * counter is the calling thread's own: calls other threads make do not
   * count. The operation that made the failed call reports it as an error
   * (last_error says which call) and leaves nothing behind. */
  int (*os_fail_nth)(unsigned nth);
} tl_adapter;

/* ---- loadable adapters (threadlab --adapter-lib PATH) ----------------- */
/* A shared library that carries an adapter exports one function, named
 * TL_ADAPTER_ENTRY_SYMBOL, of type tl_adapter_entry_fn: it returns the
 * adapter's table (static storage, never freed) or NULL when the library
 * cannot offer one. It runs before the table's init, and must not start
 * threads or call into the runtime. threadlab checks the table as it checks
 * a built-in (abi_version, struct_size, name, init, the operations each
 * capability bit promises) and refuses it naming what is wrong.
 *   TL_ADAPTER_EXPORT const tl_adapter *threadlab_adapter(void) { return &my_table; }
 */
#define TL_ADAPTER_ENTRY_SYMBOL "threadlab_adapter"
typedef const tl_adapter *(*tl_adapter_entry_fn)(void);
#if defined(__GNUC__) || defined(__clang__)
#define TL_ADAPTER_EXPORT __attribute__((visibility("default")))
#else
#define TL_ADAPTER_EXPORT
#endif

/* ---- the harness's own entry point --------------------------------- */
/* Run the threadlab CLI with the built-in adapters plus `extra` (n of them).
 * Returns the process exit code (0 all good, 1 findings, 2 usage error).
 * The installed package does not offer it for linking (the harness library
 * would bring the reference runtime into a third party's link): a runtime
 * author builds a loadable module instead (TL_ADAPTER_ENTRY_SYMBOL above,
 * `threadlab --adapter-lib`, docs/writing-an-adapter.md). */
int threadlab_main(int argc, char **argv, const tl_adapter *const *extra, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* THREADLAB_ADAPTER_H */
