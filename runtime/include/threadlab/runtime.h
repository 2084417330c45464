/*
 * threadlab reference runtime — C ABI.
 *
 * This header is the only interface the harness, the scenarios and foreign
 * code use. It compiles as C11 and as C++ (runtime/tests/c_abi_test.c).
 *
 * Conventions:
 *   - Every call that can fail returns an int: TL_OK (0) or a negative
 *     tl_status. tl_strerror() names the code; tl_last_error() gives the
 *     calling thread's detailed message for its most recent failure.
 *   - Nothing here may be called from a signal handler unless it says so.
 *   - Thread ids (tl_thread_id) are never reused within one process.
 */
#ifndef THREADLAB_RUNTIME_H
#define THREADLAB_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes --------------------------------------------------- */
typedef enum tl_status {
  TL_OK = 0,
  TL_ENOTINIT = -1,      /* runtime call before tl_init() */
  TL_EALREADY = -2,      /* tl_init() twice */
  TL_EUNBALANCED = -3,   /* tl_callback_exit() without a matching enter */
  TL_EDEADLK = -4,       /* join of the calling thread itself; a call the
                            thread holding the world stopped may not make */
  TL_ENOTHREAD = -5,     /* no such thread, or already joined */
  TL_ENOMEM = -6,        /* memory for a record or its stacks ran out */
  TL_EAGAIN = -7,        /* the OS refused another thread */
  TL_EINVAL = -8,        /* bad argument */
  TL_EADOPTOFF = -9,     /* callback on a foreign thread with adoption off */
  TL_EEXITING = -10,     /* the calling thread is already tearing down */
  TL_ETIMEDOUT = -11,    /* an operation gave up waiting */
  TL_ENOTSUP = -12,      /* not available on this platform or build */
  TL_EUNKNOWN = -13,     /* the calling thread has no record */
  TL_ESTATE = -14,       /* the target is in a state that forbids this */
  TL_EINJECT = -15,      /* THREADLAB_INJECT names an unknown or a planned
                            injection point */
  TL_EOWNERDEAD = -16,   /* lock acquired, but its previous owner was killed
                            or died holding it (it is held by the caller) */
  TL_ECLOSED = -17,      /* the mailbox was closed */
  TL_EBUSY = -18,        /* try-lock: the lock is held */
  TL_EEXIST = -19,       /* a name is already registered */
  TL_ENOTFOUND = -20,    /* no such name registered */
  TL_EOVERFLOW = -21,    /* a value, temp or control stack overflowed into its
                            guard zone; the thread unwound to its catch frame */
  TL_ESCRIBBLE = -22     /* the thread wrote into memory it does not own (another
                            thread's guard zone, or past a guard zone left open);
                            also a violation for tl_check_integrity */
} tl_status;

const char *tl_strerror(int status);
/* Detailed message for the calling thread's latest failure ("" if none).
 * The pointer stays valid until the next failing call on this thread. */
const char *tl_last_error(void);

/* ---- initialisation ------------------------------------------------- */
typedef enum tl_suspend_policy {
  TL_SUSPEND_PREEMPTIVE = 0, /* signal handshake */
  TL_SUSPEND_HYBRID = 1      /* state word + safepoints, signal after grace */
} tl_suspend_policy;

typedef struct tl_config {
  size_t control_stack_bytes; /* runtime-created threads; power of two, 0 = 1 MiB */
  size_t value_stack_bytes;   /* 0 = 256 KiB */
  size_t temp_stack_bytes;    /* 0 = 256 KiB */
  int allow_adoption;         /* foreign threads may call back (default 1) */
  int suspend_policy;         /* tl_suspend_policy */
  size_t stack_cache;         /* spare thread slots kept for reuse, 0 = 64; as many adopted records */
  unsigned suspend_timeout_ms; /* give up a stop-the-world after this, 0 = 5000 */
  unsigned suspend_resend_ms;  /* resend an unanswered suspend signal, 0 = 20 */
  unsigned hybrid_grace_us;    /* hybrid: signal managed threads after, 0 = 500 */
} tl_config;

/* Fills *cfg with the defaults. */
void tl_config_defaults(tl_config *cfg);
/* Initialise the runtime; the calling thread becomes the initial record.
 * cfg may be NULL for the defaults. Reads THREADLAB_INJECT. */
int tl_init(const tl_config *cfg);
int tl_is_initialized(void);
/* Turn adoption of foreign threads on or off at run time. */
int tl_set_adoption(int allow);
/* Give cached thread slots, cached adopted records and retired records back
 * to the OS. */
int tl_trim(void);

/* ---- threads -------------------------------------------------------- */
typedef uint64_t tl_thread_id;
typedef void (*tl_thread_fn)(void *arg);

/* Start a managed thread running fn(arg). name may be NULL; it is copied
 * (at most TL_NAME_MAX-1 bytes). */
#define TL_NAME_MAX 32
int tl_spawn(const char *name, tl_thread_fn fn, void *arg, tl_thread_id *out);
/* Wait for a managed thread to finish and release its record. TL_EINVAL
 * for an adopted or the initial thread (not joinable), TL_ENOTHREAD for an
 * id that was never spawned or is already joined. */
int tl_join(tl_thread_id id);
/* End the calling managed thread now (as if fn returned). */
void tl_exit(void)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;
/* The calling thread's id, or 0 if it has no record. Signal-safe. */
tl_thread_id tl_self(void);

typedef enum tl_state {
  TL_STATE_CREATING = 0,
  TL_STATE_MANAGED = 1,
  TL_STATE_FOREIGN = 2,
  TL_STATE_BLOCKED = 3,
  TL_STATE_EXITING = 4,
  TL_STATE_DEAD = 5
} tl_state;
const char *tl_state_name(int state);

enum {
  TL_FLAG_INITIAL = 1u << 0, /* the thread that called tl_init */
  TL_FLAG_ADOPTED = 1u << 1, /* a foreign thread adopted on callback */
  TL_FLAG_SPAWNED = 1u << 2  /* created by tl_spawn */
};

typedef struct tl_thread_info {
  tl_thread_id id;
  int64_t kernel_tid;
  int state;          /* tl_state */
  unsigned flags;     /* TL_FLAG_* */
  unsigned callback_depth;
  char name[TL_NAME_MAX];
} tl_thread_info;

/* Copy up to cap live threads (not yet dead) into buf; *count receives the
 * total number live (which may exceed cap). */
int tl_thread_list(tl_thread_info *buf, size_t cap, size_t *count);

/* The stacks the runtime keeps for thread `id` (0: the caller), as it
 * believes them to be: [lo, hi) is what it uses and the collector scans
 * (the control stack: the whole range the OS gave the thread), and each
 * guard range [start, end) it promises is inaccessible (0, 0: it keeps
 * none on that side — the OS's own guard of a thread it did not create is
 * not the runtime's). A harness checks these against the address space.
 * *count receives the number of stacks. TL_ENOTHREAD for an unknown id. */
enum { TL_STACK_CONTROL = 0, TL_STACK_VALUE = 1, TL_STACK_TEMP = 2, TL_STACK_ALT = 3 };
typedef struct tl_stack_info {
  int kind; /* TL_STACK_* */
  uintptr_t lo, hi;
  uintptr_t guard_below_start, guard_below_end;
  uintptr_t guard_above_start, guard_above_end;
} tl_stack_info;
int tl_thread_stacks(tl_thread_id id, tl_stack_info *out, size_t cap, size_t *count);

/* ---- foreign-thread callbacks --------------------------------------- */
/* Enter managed code from any thread. On a thread the runtime did not
 * create, the first call adopts it (record and stacks allocated, async
 * signals blocked meanwhile); later calls reuse the record; calls nest.
 * The record is released when the thread exits: by the runtime's pthread
 * key destructor, which keeps it until the C library's penultimate
 * destructor round so other libraries' destructors may still call back; or,
 * when that destructor no longer runs (a first callback from another
 * destructor in a late round, a raw exit system call), by the runtime on
 * the thread's behalf once the kernel reports it dead (Linux: a robust
 * mutex the thread holds; counters.records_vanished counts these) — at the
 * next stop, thread list or counter read. On a thread that is exiting a
 * callback fails with TL_ESTATE while its record is being released and
 * with TL_EEXITING after.
 * Errors: TL_EADOPTOFF (adoption off), TL_ENOMEM, TL_EINVAL (nested deeper
 * than 256), TL_ESTATE (the thread is BLOCKED, EXITING or DEAD). */
int tl_callback_enter(void);
int tl_callback_exit(void);
/* Current nesting depth of callbacks on this thread (0 outside). */
unsigned tl_callback_depth(void);

/* ---- signal handlers and alternate stacks ---------------------------- */
/* A handler may call back (tl_callback_enter ... tl_callback_exit) and run
 * managed code in between, on whatever stack it runs on, including a
 * sigaltstack, on a thread that already has a record (a first callback
 * adopts, and adoption allocates: not async-signal-safe), at any point of
 * the interrupted thread's life: a handler
 * cannot interrupt an adoption or a foreign thread's release of its record
 * (both block async signals), and a callback nested in the middle of an
 * outer tl_callback_enter or tl_callback_exit gets a nesting level of its
 * own. Inside the callback it may use the value stack, safepoints, foreign
 * and blocking regions and the collector; it may not spawn, join, kill,
 * interrupt or stop the world (those allocate or wait for locks the
 * interrupted code may hold). Outside a callback a handler may call only
 * what says "Signal-safe". While a thread runs managed code on its altstack it can be
 * stopped like any other; the collector then scans the altstack from where
 * it stopped to its top, and the normal stack from the point the signal
 * interrupted (found from the kernel's signal frame at the top of the
 * altstack; where it cannot be found, the whole mapped normal stack). For
 * that the runtime must know the altstack:
 *   - an adopted thread's altstack is read (sigaltstack) when it is adopted;
 *   - any thread's is read when it is stopped, or saves its context, on a
 *     stack that is neither its normal stack nor its known altstack and the
 *     OS says it runs on its altstack (this misses an altstack armed with
 *     SS_AUTODISARM, which reads as disabled while in use);
 *   - tl_register_altstack tells it outright: call it on the thread itself,
 *     after sigaltstack installed the stack and before a handler calls back
 *     on it, with the same ss_sp and ss_size. Signal-safe with valid
 *     arguments. TL_EUNKNOWN on a thread without a record (a foreign
 *     thread's altstack is read at adoption), TL_EINVAL for a NULL base or a
 *     zero size. tl_unregister_altstack forgets it: call it before the
 *     memory is freed or reused for anything but this thread's altstack.
 * Altstack budget: the runtime's suspend signal is installed without
 * SA_ONSTACK and runs on the interrupted stack, so it uses a thread's
 * altstack only when it stops a handler already running there. It then
 * needs one kernel signal frame (getauxval(AT_MINSIGSTKSZ): 3.3 KiB on
 * x86_64 with AVX-512, more with AMX) plus under 0.5 KiB of its own frames
 * below the handler's deepest frame, and it never runs the dynamic linker's
 * lazy resolver there (every C library function it calls is bound when
 * tl_init installs it; the resolver saved another 2.5 KiB of vector state).
 * So budget for two signal frames (the handler's own and the suspend
 * signal's), the handler's frames, and tl_callback_enter plus the managed
 * code it runs: an 8 KiB (SIGSTKSZ) altstack holding a small handler that
 * calls back used 6.1 KiB of it on that machine; use 16 KiB or more, and
 * more in sanitizer builds. */
int tl_register_altstack(void *base, size_t size);
int tl_unregister_altstack(void);

/* ---- value stack (a managed, GC-visible stack per record) ------------ */
int tl_value_push(uintptr_t word);
int tl_value_pop(uintptr_t *word);
size_t tl_value_depth(void);

/* ---- faults: catch frames, guard zones, write barrier (fault.h) ------ */
/* Every record runs with a signal alternate stack of at least 64 KiB (an
 * adopted thread's own altstack is kept when it is that large, otherwise it
 * is restored exactly when the record is released) and SIGSEGV/SIGBUS are
 * classified by the runtime: an overflow into the calling thread's guard
 * zone unwinds to its nearest catch frame with TL_EOVERFLOW; a write into
 * another thread's guard zone is a scribble (TL_ESCRIBBLE, and a violation
 * for tl_check_integrity); a write to an armed write-barrier page marks its
 * card and resumes; anything else goes to the handler installed before the
 * runtime (SIG_DFL/SIG_IGN honoured) or ends in a crash report.
 *
 * tl_catch runs fn(arg) under a catch frame and returns what fn returns, or
 * the code thrown to it (tl_throw, or TL_EOVERFLOW / TL_ESCRIBBLE from the
 * fault handler). Unwinding restores the value and temp stack depths, the
 * dynamic bindings, the no-interrupt depth, and runs the cleanups pushed
 * since the frame. A frame catches only what is thrown at its own callback
 * depth: with none there, a throw or overflow is a fatal error (foreign
 * frames are never unwound). */
typedef int (*tl_catch_fn)(void *arg);
int tl_catch(tl_catch_fn fn, void *arg);
/* code must be negative or positive, never 0. */
void tl_throw(int code)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;
/* Dynamic binding: *slot = value until the matching tl_unbind (or an
 * unwind past it), which puts the old value back. */
int tl_bind(uintptr_t *slot, uintptr_t value);
int tl_unbind(void);
/* A push as compiled managed code does it: no bounds check, the guard zone
 * is the check. Only for the calling thread's record. */
void tl_value_push_unchecked(uintptr_t word);

/* Where faults are handled: on the faulting thread (the default), or on a
 * dedicated handler thread that finds the faulting thread's record by its
 * native id and resumes or unwinds it (a Mach exception server's shape; on
 * Linux the signal handler forwards the fault and waits). */
typedef enum tl_fault_mode { TL_FAULT_DIRECT = 0, TL_FAULT_FORWARDED = 1 } tl_fault_mode;
int tl_set_fault_mode(int mode);

/* Write barrier: a region of the managed heap whose pages are write
 * protected while armed; the first write to a page marks its card and
 * unprotects it. The collector scans the region conservatively and re-arms
 * it at the end of each collection. */
int tl_gc_barrier_region(size_t bytes, void **out); /* one per process */
int tl_gc_barrier_arm(void);
int tl_gc_barrier_card_dirty(const void *addr); /* 1 dirty, 0 clean, <0 error */

typedef struct tl_fault_stats {
  uint64_t overflows_recovered;
  uint64_t barrier_faults;
  uint64_t forwarded;      /* handled on the handler thread */
  uint64_t chained;        /* passed to the previously installed handler */
  uint64_t scribbles;
  uint64_t altstacks_mapped; /* live runtime-owned altstacks */
  uint64_t altstacks_kept;   /* live records using their thread's own altstack */
} tl_fault_stats;
int tl_get_fault_stats(tl_fault_stats *out);
/* Put back the SIGSEGV/SIGBUS dispositions saved when tl_init installed the
 * runtime's (a runtime shutting down); the runtime's altstacks stay. */
int tl_fault_restore_handlers(void);

/* ---- stop the world ------------------------------------------------- */
/* Stop every other thread that has a record, whatever its state, and save
 * where each stopped; nests (the world restarts at the matching resume).
 * Errors: TL_EUNKNOWN (caller has no record), TL_ETIMEDOUT (a thread never
 * answered: tl_last_error names it and its state; the world is resumed).
 * While it holds the world stopped the caller may read (thread list,
 * counters, integrity checks), allocate managed objects, collect, nest
 * stops and run managed code; tl_spawn, tl_join, tl_kill, tl_interrupt and
 * tl_trim fail with TL_EDEADLK (they allocate, free or wait for a stopped
 * thread: a stopped thread may hold the allocator's lock), and it must
 * itself not call malloc or free. A stopper that exits restarts the world
 * on its way out. */
int tl_suspend_others(void);
/* TL_EUNBALANCED when the caller did not stop the world. */
int tl_resume_others(void);
/* Switch the suspension policy (TL_SUSPEND_*) between stops, e.g. to
 * compare both in one process; waits for a stop in progress to end. */
int tl_set_suspend_policy(int policy);
/* 1 while some thread holds the world stopped. */
int tl_world_is_stopped(void);

/* Safe points and the states around foreign code (both policies):
 * tl_safepoint polls for a pending stop, interrupt or kill; foreign and
 * blocking regions may be stopped without a signal and cannot return to
 * managed code while the world is stopped; a no-interrupt window defers
 * stops and interrupts until it closes. */
int tl_safepoint(void);
int tl_foreign_begin(void);
int tl_foreign_end(void);
int tl_blocking_begin(void);
int tl_blocking_end(void);
int tl_no_interrupt_begin(void);
int tl_no_interrupt_end(void);

typedef struct tl_suspend_stats {
  uint64_t stops;              /* completed stop-the-worlds */
  uint64_t signals_sent;       /* suspend signals (first sends) */
  uint64_t resends;            /* suspend signals sent again */
  uint64_t stopped_by_state;   /* targets stopped by a state change */
  uint64_t stopped_at_safepoint; /* targets that stopped themselves */
  uint64_t stopped_by_signal;  /* targets stopped in the signal handler */
  uint64_t deferred;           /* stops deferred by a no-interrupt window */
  uint64_t timeouts;           /* stops abandoned with a diagnosis */
} tl_suspend_stats;
int tl_get_suspend_stats(tl_suspend_stats *out);
/* Simulate lost suspend signals: drop every nth one sent (0 = off). The
 * resend path must recover them. */
void tl_debug_drop_suspend_signals(unsigned every_nth);

/* ---- managed heap and collector ------------------------------------- */
/* Allocate zeroed managed memory (at most 4096 bytes); NULL when out of
 * memory. Objects are found conservatively: any word on a thread's stacks
 * or saved registers, or inside a reachable object, that points into one
 * keeps it alive. */
void *tl_gc_alloc(size_t bytes);
/* Collect now: TL_OK when it ran, TL_GC_DEFERRED when some thread is in a
 * without-GC scope (the collection then runs exactly once when the last
 * such scope ends). */
#define TL_GC_DEFERRED 1
int tl_gc_collect(void);
int tl_without_gcing_begin(void);
int tl_without_gcing_end(void); /* TL_EUNBALANCED without a begin */
/* 1 if p is the start of (or inside) a live managed object. */
int tl_gc_is_live(const void *p);
/* Extra roots: a word the collector reads at every collection. */
int tl_gc_add_root(void **slot);
int tl_gc_remove_root(void **slot);
typedef struct tl_gc_stats {
  uint64_t collections;
  uint64_t deferred_requests;
  uint64_t live_objects;
  uint64_t live_bytes;
  uint64_t freed_objects; /* since init */
  uint64_t heap_bytes;    /* mapped for the heap */
} tl_gc_stats;
int tl_gc_get_stats(tl_gc_stats *out);
/* Byte pattern written over freed objects (a use of one reads this). */
#define TL_GC_POISON 0xDBu

/* ---- cleanups, interrupts and kill ----------------------------------- */
/* Cleanup handlers run, innermost first, when the thread is killed or calls
 * tl_exit; tl_cleanup_pop(1) runs the innermost one now. */
int tl_cleanup_push(void (*fn)(void *), void *arg);
int tl_cleanup_pop(int run);
/* Run fn(arg) on the target at its next safe point (never inside foreign
 * code, a no-interrupt window, or its teardown). */
int tl_interrupt(tl_thread_id target, void (*fn)(void *), void *arg);

typedef struct tl_kill_report {
  int hard;               /* 1: the target never reached a safe point */
  unsigned cleanups_run;  /* cleanup handlers run on the target */
  unsigned locks_released;/* runtime locks it held, released */
  int state_at_kill;      /* tl_state when the kill was requested */
  char text[256];         /* what the kill cost, in words */
} tl_kill_report;
/* Kill a spawned thread: unwind its cleanups, release its runtime locks and
 * end it, within timeout_ms; then (hard kill) end it from a signal handler
 * wherever it is, abandoning foreign frames. The target is still joined by
 * tl_join. report may be NULL. */
int tl_kill(tl_thread_id target, unsigned timeout_ms, tl_kill_report *report);

/* ---- runtime locks (owner recorded, released by kill) ---------------- */
/* No system call when free; waiters queue FIFO with no cap on their number
 * (each waits on a node in its own record); a release wakes the oldest
 * waiter (a running thread may take the lock first), tl_lock_handoff gives
 * it straight to a chosen waiter. A lock needs no init beyond TL_LOCK_INIT;
 * tl_lock_init sets a name and flags. Fields are the runtime's. */
typedef struct tl_lock {
  uint32_t word;             /* bit 0 held, bit 1 waiters queued, bit 2 queue guard, bit 3 a woken waiter on its way */
  uint32_t flags;            /* TL_LOCK_* (bit 31: the last owner died holding it) */
  tl_thread_id owner;
  struct tl_lock *next_held; /* owner's list of held locks */
  uint32_t depth;            /* recursive takes beyond the first */
  uint32_t order_id;         /* node in the lock-order graph, 0 until needed */
  void *head, *tail;         /* FIFO of waiters */
  const char *name;          /* for reports; NULL: unnamed */
} tl_lock;
#define TL_LOCK_INIT {0, 0, 0, 0, 0, 0, 0, 0, 0}
enum {
  TL_LOCK_RECURSIVE = 1,   /* the owner may take it again (counted) */
  TL_LOCK_CHECK_ORDER = 2, /* refuse (TL_EDEADLK) a take that closes a lock-order cycle */
  TL_LOCK_FAIR = 4         /* every release hands the lock to the oldest waiter */
};
#define TL_FOREVER 0xffffffffu
/* name is kept by pointer (a static string or one that outlives the lock). */
int tl_lock_init(tl_lock *lock, const char *name, unsigned flags);
/* TL_EDEADLK: the caller holds it (not recursive), or (TL_LOCK_CHECK_ORDER)
 * taking it would close a lock-order cycle. TL_EOWNERDEAD: acquired, the
 * previous owner was killed holding it. */
int tl_lock_acquire(tl_lock *lock);
int tl_lock_acquire_timed(tl_lock *lock, unsigned timeout_ms); /* TL_ETIMEDOUT */
int tl_lock_try(tl_lock *lock);                                 /* TL_EBUSY */
int tl_lock_release(tl_lock *lock); /* TL_ESTATE if the caller is not the owner */
/* Release straight to `successor` (0: the oldest waiter), which must be
 * queued on it: TL_ENOTHREAD (the lock stays held) otherwise. */
int tl_lock_handoff(tl_lock *lock, tl_thread_id successor);
/* The queued waiters, oldest first; returns their number (may exceed cap). */
size_t tl_lock_waiters(tl_lock *lock, tl_thread_id *out, size_t cap);

/* Lock-order checking: an acquired-before graph over every pair of locks
 * taken nested. Off by default (then it costs one load per contended take);
 * a TL_LOCK_CHECK_ORDER lock switches it on. A take that closes a cycle is
 * remembered as a predicted deadlock, even if no thread ever blocks. */
int tl_lock_order_check(int on);
#define TL_ORDER_MAX 8
typedef struct tl_lock_cycle {
  unsigned n;                            /* locks in the cycle */
  uintptr_t locks[TL_ORDER_MAX];         /* locks[i] was held while locks[i+1 mod n] was taken ... */
  tl_thread_id threads[TL_ORDER_MAX];    /* ... by threads[i] */
  char names[TL_ORDER_MAX][TL_NAME_MAX]; /* lock names ("" if unnamed) */
} tl_lock_cycle;
/* The predicted cycles so far, each once; returns their number. */
size_t tl_lock_order_cycles(tl_lock_cycle *out, size_t cap);

/* Who waits on which runtime lock, held by whom: the wait-for graph.
 * Lock-free and async-signal-safe (usable from a watchdog's handler).
 * Returns the number of edges, which may exceed cap. */
typedef struct tl_wait_edge {
  tl_thread_id waiter;
  tl_thread_id owner; /* 0 if the lock was released meanwhile */
  uintptr_t lock;
} tl_wait_edge;
size_t tl_wait_edges(tl_wait_edge *out, size_t cap);

/* ---- mailboxes (mailbox.cpp) ------------------------------------------ */
/* Bounded, many senders and receivers. send blocks while the box is full,
 * receive while it is empty, each up to timeout_ms (TL_FOREVER: no limit;
 * 0: do not wait) and as a kill point; a waiting thread is BLOCKED. Every
 * word is delivered once, in the order each sender sent it. Close wakes
 * every waiter: sends fail TL_ECLOSED, receives drain what is left first. */
typedef struct tl_mailbox tl_mailbox;
int tl_mailbox_new(size_t capacity, const char *name, tl_mailbox **out);
int tl_mailbox_send(tl_mailbox *box, uint64_t word, unsigned timeout_ms);
int tl_mailbox_receive(tl_mailbox *box, uint64_t *word, unsigned timeout_ms);
int tl_mailbox_close(tl_mailbox *box);
int tl_mailbox_free(tl_mailbox *box); /* TL_ESTATE while a thread waits on it */

/* ---- names (names.cpp) ------------------------------------------------ */
/* Threads, locks and mailboxes found by name: one table per kind. */
enum { TL_NAME_THREAD = 0, TL_NAME_LOCK = 1, TL_NAME_MAILBOX = 2 };
int tl_name_register(int kind, const char *name, uintptr_t object); /* TL_EEXIST */
int tl_name_find(int kind, const char *name, uintptr_t *out);       /* TL_ENOTFOUND */
int tl_name_remove(int kind, const char *name);                     /* TL_ENOTFOUND */

/* ---- self-reported counters (the runtime's own ledger) --------------- */
typedef struct tl_counters {
  uint64_t records_live;     /* records not yet freed (any state) */
  uint64_t records_adopted;  /* live records of adopted foreign threads */
  uint64_t stacks_mapped;    /* value/temp/control stacks currently mapped */
  uint64_t stack_bytes;      /* bytes those stacks reserve */
  uint64_t altstacks;        /* signal alternate stacks the runtime installed
                                (planned: 0 until it installs its own) */
  uint64_t slots_cached;     /* spare thread slots kept for reuse */
  uint64_t adoptions_total;  /* foreign threads adopted since init */
  uint64_t spawns_total;     /* tl_spawn successes since init */
  uint64_t records_cached;   /* released adopted records kept for reuse; their
                                value/temp stacks count in stacks_mapped */
  uint64_t records_vanished; /* adopted records released by the reaper because
                                their thread died without its teardown (a
                                first callback from the C library's last
                                key-destructor round, or a raw exit) */
  uint64_t thread_handles;   /* live per-thread kernel handles (Linux: CPU-time
                                timers; Apple: exception ports), one per
                                spawned or adopted thread while it lives */
  uint64_t cpu_ticks;        /* CPU-time ticks delivered since init
                                (tl_set_cpu_tick) */
} tl_counters;
int tl_get_counters(tl_counters *out);

/* ---- integrity checks (for the harness) ----------------------------- */
typedef struct tl_violation {
  tl_thread_id thread;
  uintptr_t address;
  char what[96];
} tl_violation;
/* Check every record's canaries and the registry's links, states and
 * counts. Returns the number of violations found (0 = clean), writing up
 * to cap of them into out. */
int tl_check_integrity(tl_violation *out, size_t cap);

/* ---- current-record lookup strategies (tests and benchmarks) --------- */
typedef enum tl_lookup {
  TL_LOOKUP_TLS = 0,   /* thread_local fast path */
  TL_LOOKUP_KEY = 1,   /* pthread key */
  TL_LOOKUP_STACK = 2  /* stack-address mask; runtime-created threads only */
} tl_lookup;
/* The calling thread's id by the given strategy, 0 if that strategy finds
 * no record. Signal-safe for TL_LOOKUP_TLS and TL_LOOKUP_STACK. */
tl_thread_id tl_self_by(int strategy);
/* Id of the runtime-created thread whose control stack holds addr, 0 if
 * none. Signal-safe: a handler on a sigaltstack passes the interrupted stack
 * pointer from its ucontext. */
tl_thread_id tl_thread_at_stack_address(uintptr_t addr);

/* ---- bug injection -------------------------------------------------- */
/* Whether injection points are compiled into this build. */
int tl_injection_compiled(void);
/* Enable a comma-separated list of injection points (as THREADLAB_INJECT). */
int tl_inject_enable(const char *names);
/* NULL-terminated list of every injection point's name. */
const char *const *tl_inject_names(void);

/* ---- OS-call failure simulation (tests of the error paths) ----------- */
typedef enum tl_os_call {
  TL_OS_MMAP = 0,
  TL_OS_THREAD_CREATE = 1,
  TL_OS_SIGALTSTACK = 2, /* installing a record's altstack (fault_altstack.cpp) */
  TL_OS_FORK = 3,        /* planned: no runtime call consumes it yet */
  TL_OS_THREAD_HANDLE = 4 /* a thread's per-thread kernel handle (EAGAIN) */
} tl_os_call;
/* Make the next n calls of the given OS call fail with its usual errno
 * (ENOMEM for mmap, EAGAIN for thread creation). Arming a planned call
 * does nothing until the runtime makes that call (the exceptions and fork
 * work). */
void tl_os_fail_next(int call, int n);
/* Make the calling thread's nth simulated-failure-capable OS call from now
 * on (any tl_os_call the runtime makes on this thread, counted in order)
 * fail with its usual errno; 0 disarms. Per thread: calls other threads make
 * (a spawned thread's own start-up included) do not count. Consumed once:
 * after the failure the counter is disarmed. */
void tl_os_fail_nth(unsigned nth);

/* ---- per-thread kernel handles ----------------------------------------- */
/* Every spawned or adopted thread owns one kernel handle for its life, made
 * on the thread before it runs managed code and released at its exit (kill
 * and adopted threads' teardown included). Linux: a timer on the thread's
 * own CPU-time clock (timer_create, CLOCK_THREAD_CPUTIME_ID, SIGEV_THREAD_ID)
 * that drives the CPU-time tick below. Apple: the thread's Mach exception
 * port. A thread that cannot get its handle does not run: tl_join (spawned)
 * or tl_callback_enter (adopted) fail with TL_EAGAIN and say why.
 * 1 when handles are on; 0 where the platform refuses them (qemu-user), with
 * *why (if not NULL) saying so. */
int tl_thread_handles_supported(const char **why);
/* Linux: each thread's timer fires every period_us of that thread's own CPU
 * time (signal SIGRTMIN+4, installed on first use) and the tick is counted;
 * 0 (the default) disarms every timer. TL_ENOTSUP where handles are off or
 * on Apple. */
int tl_set_cpu_tick(unsigned period_us);
/* CPU-time ticks the calling thread received (0 without a record). */
uint64_t tl_thread_cpu_ticks(void);

/* ---- fork ------------------------------------------------------------ */
/* The runtime survives fork() (pthread_atfork handlers registered by
 * tl_init; docs/architecture.md, "Fork"). Before the fork every runtime-
 * internal lock is taken (a stop-the-world in progress ends first); in the
 * child, where only the forking thread runs, the records of every other
 * thread are released, the runtime locks they held are taken over (left
 * free and abandoned: the next taker gets TL_EOWNERDEAD) and listed below,
 * mailbox sleepers that vanished are uncounted, forwarded fault handling
 * falls back to direct, and the forking thread's record is re-keyed by its
 * new kernel ids. Spawn, adoption, collection and stop-the-world then work
 * in the child. A raw fork() is handled the same way; tl_fork also refuses
 * the thread that holds the world stopped. */
#define TL_FORK_LOCKS_MAX 32
typedef struct tl_fork_lock {
  uintptr_t lock;     /* the tl_lock's address */
  tl_thread_id owner; /* the vanished thread that held it */
  const char *name;   /* its name (as given to tl_lock_init), or NULL */
} tl_fork_lock;
typedef struct tl_fork_info {
  int in_child;               /* 1 in a process made by a fork after tl_init */
  int by_stopper;             /* the fork was made by the thread holding the world stopped */
  tl_thread_id survivor;      /* the forking thread's record (0: it had none) */
  uint64_t forks;             /* forks this process made after tl_init (prepared) */
  unsigned records_dropped;   /* records of threads that did not survive */
  unsigned locks_taken_over;  /* runtime locks those threads held */
  unsigned mailboxes_reset;   /* mailboxes whose sleepers did not survive */
  unsigned scopes_closed;     /* without-GC scopes those threads had open */
  int forwarding_stopped;     /* forwarded fault handling was on; now direct */
  size_t nlocks;              /* entries in locks (at most TL_FORK_LOCKS_MAX) */
  tl_fork_lock locks[TL_FORK_LOCKS_MAX];
} tl_fork_info;
/* fork() with the runtime's checks: TL_EDEADLK for the thread holding the
 * world stopped, TL_EAGAIN (errno in the message) when fork fails. *pid is
 * 0 in the child and the child's pid in the parent. */
int tl_fork(int *pid);
/* tl_fork's check without the fork, for a caller about to call fork():
 * TL_OK, or TL_EDEADLK for the thread holding the world stopped. */
int tl_fork_check(void);
/* What the last fork did to this process: in a child, what it found and
 * took over (above); in a parent, in_child 0 and the count of forks. */
int tl_fork_report(tl_fork_info *out);

/* ---- heap images ----------------------------------------------------- */
/* tl_save_image writes the managed heap and its registered roots to path:
 * a header, then every block (its address and its TL_IMAGE_BLOCK_BYTES
 * bytes, cells free or not), then every root (slot address, the word in
 * it); all integers little-endian as in memory. checksum is FNV-1a (64 bit)
 * over everything after the header. Written to path.tmp.<pid> and renamed
 * over path, so path is never half-written. Refuses (TL_ESTATE, naming the
 * threads) unless the calling thread is the only one with a record: a
 * heap that changes while it is written is no image (fork first:
 * tl_fork_and_save). */
#define TL_IMAGE_MAGIC "TLIMAGE"
#define TL_IMAGE_VERSION 1u
#define TL_IMAGE_BLOCK_BYTES 65536u
typedef struct tl_image_header {
  char magic[8];          /* TL_IMAGE_MAGIC, NUL-padded */
  uint32_t version;       /* TL_IMAGE_VERSION */
  uint32_t header_bytes;  /* sizeof(tl_image_header) */
  uint64_t block_bytes;   /* TL_IMAGE_BLOCK_BYTES */
  uint64_t blocks;
  uint64_t roots;
  uint64_t payload_bytes; /* blocks*(8+block_bytes) + roots*16 */
  uint64_t checksum;      /* FNV-1a 64 over the payload */
} tl_image_header;
int tl_save_image(const char *path);
/* Verify an image without the runtime (no tl_init needed): TL_OK with *out
 * (if not NULL) filled in, or TL_EINVAL with the message saying what is
 * wrong (missing or short file, bad magic, version, sizes, checksum, a
 * block that is not a heap block). */
int tl_image_check(const char *path, tl_image_header *out);
/* The fork-to-dump recipe (seed 003): interrupt the initial thread, fork
 * there, and in the child (single-threaded) save the image to path and
 * _exit; the parent and all its threads keep running. From any thread with
 * or without a record (the initial one forks itself; with no initial
 * thread left the caller forks). Waits for the child up to timeout_ms
 * (0: 30000): TL_OK when it saved (exit 0); TL_ESTATE with the child's own
 * message when it could not save; TL_ETIMEDOUT when the initial thread
 * reached no safe point in time (nothing forked then), or when the child
 * still ran at the timeout: it is killed and the message lists its threads.
 * *status (if not NULL): the child's exit code, 128+signal when a signal
 * ended it, -1 when there was no child. TL_EDEADLK for the stopper. */
int tl_fork_and_save(const char *path, unsigned timeout_ms, int *status);

/* ---- fatal errors --------------------------------------------------- */
/* Report a fatal runtime error and abort. Never needs a record, never
 * allocates, and a second fatal error (on any thread) while one is being
 * reported goes straight to _exit. Signal-safe. */
void tl_fatal(const char *message)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* THREADLAB_RUNTIME_H */
