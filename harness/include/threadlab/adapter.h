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

/* ---- capabilities ---------------------------------------------------- */
enum {
  TL_CAP_SPAWN = 1u << 0,            /* spawn, join */
  TL_CAP_FOREIGN_CALLBACK = 1u << 1, /* callback_enter/exit from threads the runtime did not create */
  TL_CAP_KILL = 1u << 2,             /* kill a thread, unwinding it and releasing its locks */
  TL_CAP_INTERRUPT = 1u << 3,        /* run a function on another thread at its next safe point */
  TL_CAP_SUSPEND = 1u << 4,          /* suspend_all / resume_all (stop the world) */
  TL_CAP_COLLECT = 1u << 5,          /* collect: a full garbage collection */
  TL_CAP_FORK = 1u << 6,             /* fork_prepare / fork_parent / fork_child */
  TL_CAP_LOCKS = 1u << 7,            /* lock_new/lock/unlock/lock_free with owners (wait_edges) */
  TL_CAP_MAILBOXES = 1u << 8,        /* bounded mailboxes with blocking send/receive */
  TL_CAP_FAULTS = 1u << 9,           /* provoke_fault: faults the runtime recovers from */
  TL_CAP_COUNTERS = 1u << 10,        /* counters: the runtime's own ledger */
  TL_CAP_INTEGRITY = 1u << 11,       /* check_integrity: canaries, registry consistency */
  TL_CAP_VALUE_STACK = 1u << 12,     /* value_push/value_pop on a per-thread managed stack */
  TL_CAP_THREAD_LIST = 1u << 13      /* thread_list (record states for hang dumps) */
};
#define TL_CAP_COUNT 14
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
  TL_FAULT_WRITE_BARRIER = 2   /* hit a write-barrier page; expect record-and-resume */
};

typedef void (*tl_adapter_fn)(void *arg);

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

  /* TL_CAP_KILL, TL_CAP_INTERRUPT */
  int (*kill)(tl_adapter_thread_id id);
  int (*interrupt)(tl_adapter_thread_id id, tl_adapter_fn fn, void *arg);

  /* TL_CAP_SUSPEND */
  int (*suspend_all)(void);
  int (*resume_all)(void);

  /* TL_CAP_COLLECT */
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
} tl_adapter;

/* ---- the harness's own entry point, for third-party adapters --------- */
/* Run the threadlab CLI with the built-in adapters plus `extra` (n of them).
 * Returns the process exit code (0 all good, 1 findings, 2 usage error). */
int threadlab_main(int argc, char **argv, const tl_adapter *const *extra, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* THREADLAB_ADAPTER_H */
