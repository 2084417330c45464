// repro_prelude.h — the fixed C11 support code every `threadlab repro` file
// carries (verb_repro.cpp writes it between the file's header and the
// program's own functions). Included by verb_repro.cpp only.
//
// Invariants of the generated program's support code:
//   - It speaks to the runtime only through the adapter table `A` (the
//     generated file defines A from the extern symbol its header names).
//   - Actors: each t/f thread runs actor_loop over its own ring of op
//     functions (one producer, the thread that delivers; one consumer, the
//     actor). A ring takes entries before its thread is made (its maker may
//     not have run the spawn yet); a thread whose maker ended first is
//     never made and its entries are dropped. The ring, its counters and the kill flag are C11 atomics and
//     no mutex is held across an op or a wait, so an actor the runtime
//     kills (unwinding it from wherever it was) can leave no lock held. An
//     idle actor naps inside a blocking region when it is in the runtime,
//     so a stop-the-world never waits for a thread that only waits for work;
//     asked to die (kill_wanted), it polls safe points instead.
//   - A NULL entry in the ring is "leave": the actor releases what it holds
//     (locks, objects on its value stack, checked), leaves any callback and
//     returns after everything it was given before.
//   - An adapter call that fails is printed with last_error and the op goes
//     on (as the interpreter records an error, not a finding); with
//     REPRO_ERRORS_FATAL set (not 0) one not asked for by os_fail_nth is
//     fatal. A violation found (objects freed or overwritten, integrity, a
//     hang, a failed fork child) is printed and aborts. The program prints
//     "repro: done" at the end.
#pragma once

namespace threadlab::repro {

inline constexpr const char* kPrelude = R"C(
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RING 512        /* > ops in a program (256) + the leave entry */
#define OBJ_BYTES 64    /* what `alloc N` makes: N objects of 64 bytes */
#define MAX_OBJECTS 1024
#define MAX_HELD 16

typedef struct actor actor;
typedef void (*op_fn)(actor *me);

struct actor {
  const char *name;
  actor *definer;              /* the t/f thread whose op makes it; NULL: the driver */
  int foreign;                 /* an f thread: a raw pthread, not the runtime's */
  atomic_int state;            /* 0 not made, 1 made, -1 skipped or failed, 2 ended */
  tl_adapter_thread_id id;
  pthread_t pt;                /* foreign threads */
  op_fn ring[RING];
  atomic_uint tail, done;      /* entries given; entries finished */
  unsigned head;               /* the actor's own */
  atomic_int kill_wanted;
  int joined;
  int cb;                      /* foreign: callback depth */
  int regions;                 /* open without_gc / blocking scopes */
  tl_adapter_handle held[MAX_HELD];
  int nheld;
  uintptr_t objects[MAX_OBJECTS];
  int nobjects;
};

static _Thread_local int t_armed;  /* this thread's op armed os_fail_nth */
static atomic_ulong g_interrupts;
static atomic_ulong g_actor_progress; /* ops the actors finished (the watchdog's) */

static void sleep_us(unsigned long us) {
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static const char *last_error(void) {
  const char *e = A->last_error ? A->last_error() : NULL;
  return e && *e ? e : "(no message)";
}

static void fatal(int op, const char *what) {
  fprintf(stderr, "repro: op %d: %s\n", op, what);
  fflush(stdout);
  fflush(stderr);
  abort();
}

/* A failed adapter call: expected under os_fail_nth; otherwise printed as
 * an error and counted (the interpreter's errors: a refusal of what the
 * program asked for, such as an alloc inside a blocking region, is not a
 * finding), and fatal when REPRO_ERRORS_FATAL is set to anything but 0. */
static atomic_uint g_errors;
static void call_failed(int op, const char *call, int rc) {
  char text[512];
  snprintf(text, sizeof text, "%s returned %d: %s", call, rc, last_error());
  if (t_armed) {
    printf("repro: op %d: %s (os_fail_nth asked for it)\n", op, text);
    fflush(stdout);
    return;
  }
  const char *strict = getenv("REPRO_ERRORS_FATAL");
  if (strict && strcmp(strict, "0") != 0) fatal(op, text);
  atomic_fetch_add(&g_errors, 1);
  printf("repro: op %d: error: %s\n", op, text);
  fflush(stdout);
}
#define CHECK(op, call, expr)                   \
  do {                                          \
    int rc_ = (expr);                           \
    if (rc_ < 0) call_failed((op), (call), rc_); \
  } while (0)

static int has(uint64_t cap) { return (A->caps & cap) != 0; }

/* Whether `me` may run op `op` (its capability `cap`, named `capname`; a
 * foreign thread needs callbacks for ops that enter the runtime); prints
 * the skip otherwise. */
static int need(actor *me, int op, const char *name, uint64_t cap, const char *capname, int runtime) {
  if (cap && !has(cap)) {
    printf("repro: op %d (%s) skipped: the adapter lacks %s\n", op, name, capname);
    return 0;
  }
  if (runtime && me->foreign && !has(TL_CAP_FOREIGN_CALLBACK)) {
    printf("repro: op %d (%s) skipped: the adapter lacks foreign_callback\n", op, name);
    return 0;
  }
  return 1;
}

static void arm(int nth) {
  if (!nth) return;
  if (!has(TL_CAP_OS_FAIL) || !A->os_fail_nth) {
    printf("repro: fail_nth %d skipped: the adapter lacks os_fail\n", nth);
    return;
  }
  A->os_fail_nth((unsigned)nth);
  t_armed = 1;
}
static void disarm(void) {
  if (!t_armed) return;
  A->os_fail_nth(0);
  t_armed = 0;
}

/* A foreign thread enters the runtime for an op that needs it. */
static int rt_enter(actor *me, int op) {
  if (!me->foreign || me->cb > 0) return 0;
  CHECK(op, "callback_enter", A->callback_enter());
  me->cb = 1;
  return 1;
}
static void rt_leave(actor *me, int entered) {
  if (!entered || me->nheld > 0 || me->regions > 0) return;
  if (A->callback_exit() == TL_ADAPTER_OK) me->cb = 0;
}
static int in_runtime(actor *me) { return !me->foreign || me->cb > 0; }

/* ---- objects: `alloc N` ------------------------------------------------ */
static uintptr_t fill_word(uintptr_t p, size_t j) { return p ^ (0x9E3779B97F4A7C15ull * (j + 1)); }

static void check_object(int op, actor *me, uintptr_t p) {
  char text[200];
  if (!A->is_live((void *)p)) {
    snprintf(text, sizeof text, "violation: object 0x%llx kept reachable on %s was freed",
             (unsigned long long)p, me->name);
    fatal(op, text);
  }
  const uintptr_t *w = (const uintptr_t *)p;
  for (size_t j = 0; j < OBJ_BYTES / sizeof(uintptr_t); ++j)
    if (w[j] != fill_word(p, j)) {
      snprintf(text, sizeof text, "violation: object 0x%llx kept reachable on %s was overwritten (word %zu)",
               (unsigned long long)p, me->name, j);
      fatal(op, text);
    }
}

static void do_alloc(actor *me, int op, unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    void *p = A->alloc(OBJ_BYTES);
    if (!p) {
      call_failed(op, "alloc", TL_ADAPTER_EFAIL);
      return;
    }
    uintptr_t *w = (uintptr_t *)p;
    for (size_t j = 0; j < OBJ_BYTES / sizeof(uintptr_t); ++j) w[j] = fill_word((uintptr_t)p, j);
    if (me->foreign) {
      check_object(op, me, (uintptr_t)p); /* its value stack goes with the callback */
    } else if (has(TL_CAP_VALUE_STACK) && me->nobjects < MAX_OBJECTS &&
               A->value_push((uintptr_t)p) == TL_ADAPTER_OK) {
      me->objects[me->nobjects++] = (uintptr_t)p;
    }
  }
}

/* A thread's end: its locks go, its objects are popped and checked. */
static void release_all(actor *me, int op) {
  if (me->nheld > 0 || me->nobjects > 0) {
    if (me->foreign && me->cb == 0 && A->callback_enter() == TL_ADAPTER_OK) me->cb = 1;
    while (me->nheld > 0) CHECK(op, "unlock (the thread's end)", A->unlock(me->held[--me->nheld]));
    while (me->nobjects > 0) {
      uintptr_t p = me->objects[--me->nobjects], w = 0;
      if (A->value_pop(&w) != TL_ADAPTER_OK || w != p) {
        char text[200];
        snprintf(text, sizeof text, "violation: %s's value stack: popped 0x%llx where 0x%llx was pushed", me->name,
                 (unsigned long long)w, (unsigned long long)p);
        fatal(op, text);
      }
      check_object(op, me, p);
    }
  }
  while (me->foreign && me->cb > 0 && A->callback_exit() == TL_ADAPTER_OK) --me->cb;
}

static void hold(actor *me, tl_adapter_handle h) {
  if (me->nheld < MAX_HELD) me->held[me->nheld++] = h;
}
/* 1 when me held h (now forgotten). */
static int unhold(actor *me, tl_adapter_handle h) {
  for (int i = me->nheld - 1; i >= 0; --i)
    if (me->held[i] == h) {
      memmove(&me->held[i], &me->held[i + 1], (size_t)(me->nheld - i - 1) * sizeof h);
      --me->nheld;
      return 1;
    }
  return 0;
}

/* ---- actors ------------------------------------------------------------ */
/* A wait of `me` for something another thread does: inside a blocking
 * region when me is in the runtime, so collections and stops go on. */
static void nap(actor *me) {
  int region = has(TL_CAP_REGIONS) && in_runtime(me) && me->regions == 0 && A->blocking_begin() == TL_ADAPTER_OK;
  sleep_us(50);
  if (region) A->blocking_end();
}

static void actor_loop(actor *me) {
  for (;;) {
    if (atomic_load(&me->kill_wanted)) {
      if (has(TL_CAP_REGIONS) && in_runtime(me)) A->safepoint();
      sched_yield();
      continue;
    }
    if (me->head == atomic_load(&me->tail)) {
      nap(me);
      continue;
    }
    op_fn f = me->ring[me->head % RING];
    if (!f) {
      release_all(me, -1);
      atomic_store(&me->state, 2);
      ++me->head;
      atomic_fetch_add(&me->done, 1);
      return;
    }
    f(me);
    atomic_fetch_add(&g_actor_progress, 1);
    ++me->head;
    atomic_fetch_add(&me->done, 1);
  }
}

static void actor_main(void *p) { actor_loop((actor *)p); }
static void *foreign_main(void *p) {
  actor_loop((actor *)p);
  return NULL;
}

/* Whether t may still run: made (1), or not made yet (0) by a maker still
 * running. A thread whose maker ended (or never ran) first will never be
 * made: it becomes -1 here. */
static int may_run(actor *t) {
  int s = atomic_load(&t->state);
  if (s == 0 && t->definer) {
    int d = atomic_load(&t->definer->state);
    if (d != 0 && d != 1) {
      int zero = 0;
      atomic_compare_exchange_strong(&t->state, &zero, -1);
      s = atomic_load(&t->state);
    }
  }
  return s == 0 || s == 1;
}

/* Waits until t is made (or will never be); 1 when it runs or ran. */
static int started(actor *me, actor *t) {
  while (atomic_load(&t->state) == 0 && may_run(t)) nap(me);
  int s = atomic_load(&t->state);
  return s == 1 || s == 2;
}

/* Gives f (NULL: leave) to t, made or still to be made (its ring waits for
 * it); returns the entry's ticket, 0 when t will not run it. */
static unsigned give(actor *t, op_fn f) {
  if (!may_run(t)) return 0;
  unsigned n = atomic_load(&t->tail);
  t->ring[n % RING] = f;
  atomic_store(&t->tail, n + 1);
  return n + 1;
}
static unsigned deliver(actor *me, actor *t, op_fn f, int op) {
  (void)me;
  unsigned k = give(t, f);
  if (!k) printf("repro: op %d skipped: %s is not running\n", op, t->name);
  return k;
}
static void wait_done(actor *me, actor *t, unsigned ticket) {
  while (ticket && atomic_load(&t->done) < ticket && may_run(t)) nap(me);
}
/* Tells t to leave after what it was given; waits for it when `wait`. */
static void leave(actor *me, actor *t, int wait, int op) {
  (void)op;
  if (give(t, NULL) && wait)
    while (may_run(t)) nap(me);
}

static void spawn_actor(actor *me, actor *t, int op) {
  (void)me;
  tl_adapter_thread_id id = 0;
  int rc = A->spawn(t->name, actor_main, t, &id);
  if (rc != TL_ADAPTER_OK || id == 0) {
    atomic_store(&t->state, -1);
    call_failed(op, "spawn", rc < 0 ? rc : TL_ADAPTER_EFAIL);
    return;
  }
  t->id = id;
  atomic_store(&t->state, 1); /* after id: a thread that sees 1 may use it */
}
static void start_foreign(actor *t, int op) {
  atomic_store(&t->state, 1);
  if (pthread_create(&t->pt, NULL, foreign_main, t) != 0) {
    atomic_store(&t->state, -1);
    fatal(op, "pthread_create failed");
  }
}

static void kill_actor(actor *me, actor *t, int op) {
  if (!started(me, t) || atomic_load(&t->state) != 1) return;
  atomic_store(&t->kill_wanted, 1);
  int rc = A->kill(t->id);
  atomic_store(&t->kill_wanted, 0);
  if (rc == TL_ADAPTER_OK) atomic_store(&t->state, 2);
  else call_failed(op, "kill", rc);
}

static void join_actor(actor *me, actor *t, int op) {
  if (!started(me, t) || t->joined || t->foreign) return;
  CHECK(op, "join", A->join(t->id));
  t->joined = 1;
}

/* The end of a t/f thread (told to leave or killed before). */
static void finish_actor(actor *me, actor *t, int op) {
  if (!started(me, t)) return;
  if (t->foreign) {
    while (atomic_load(&t->state) == 1) nap(me);
    if (!t->joined) pthread_join(t->pt, NULL);
    t->joined = 1;
  } else {
    join_actor(me, t, op);
  }
}

static void interrupt_fn(void *p) { atomic_fetch_add((atomic_ulong *)p, 1); }

static void check_integrity_now(int op) {
  if (!has(TL_CAP_INTEGRITY)) return;
  tl_adapter_violation v[8];
  int n = A->check_integrity(v, 8);
  if (n < 0) call_failed(op, "check_integrity", n);
  if (n <= 0) return;
  for (int i = 0; i < n && i < 8; ++i)
    fprintf(stderr, "repro: integrity violation (%s): %s\n",
            v[i].kind == TL_VIOLATION_SCRIBBLE ? "scribble" : "invariant", v[i].what);
  fatal(op, "check_integrity reported violations");
}
)C";

}  // namespace threadlab::repro
