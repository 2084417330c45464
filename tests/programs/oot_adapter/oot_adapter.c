/* oot_adapter.c — an adapter written the way docs/writing-an-adapter.md
 * says, for tests/test_install.py: POSIX threads behind spawn/join/self and a
 * one-entry counter ledger (threads spawned, threads joined). */
#include <threadlab/adapter.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MAX_THREADS 4096

static pthread_t threads[MAX_THREADS + 1];
static atomic_uint_fast64_t next_id = 1, live = 0;
static _Thread_local tl_adapter_thread_id self_id;
static _Thread_local const char *error = "";

struct start {
  tl_adapter_fn fn;
  void *arg;
  tl_adapter_thread_id id;
};

static void *trampoline(void *p) {
  struct start s = *(struct start *)p;
  free(p);
  self_id = s.id;
  s.fn(s.arg);
  return NULL;
}

static int oot_init(void) { return TL_ADAPTER_OK; }
static const char *oot_last_error(void) { return error; }

static int oot_spawn(const char *name, tl_adapter_fn fn, void *arg, tl_adapter_thread_id *out) {
  (void)name;
  const tl_adapter_thread_id id = atomic_fetch_add(&next_id, 1);
  struct start *s = malloc(sizeof *s);
  if (id > MAX_THREADS || !s) {
    free(s);
    error = "out of thread slots";
    return TL_ADAPTER_EFAIL;
  }
  *s = (struct start){fn, arg, id};
  if (pthread_create(&threads[id], NULL, trampoline, s) != 0) {
    free(s);
    error = "pthread_create failed";
    return TL_ADAPTER_EFAIL;
  }
  atomic_fetch_add(&live, 1);
  *out = id;
  return TL_ADAPTER_OK;
}

static int oot_join(tl_adapter_thread_id id) {
  if (id == 0 || id >= atomic_load(&next_id) || id > MAX_THREADS) {
    error = "no such thread";
    return TL_ADAPTER_EFAIL;
  }
  if (pthread_join(threads[id], NULL) != 0) {
    error = "pthread_join failed";
    return TL_ADAPTER_EFAIL;
  }
  atomic_fetch_sub(&live, 1);
  return TL_ADAPTER_OK;
}

static tl_adapter_thread_id oot_self(void) { return self_id; }

static int oot_counters(tl_adapter_counter *out, size_t cap, size_t *count) {
  *count = 1;
  if (cap >= 1) out[0] = (tl_adapter_counter){"threads_unjoined", atomic_load(&live), TL_UNIT_COUNT};
  return TL_ADAPTER_OK;
}

static const tl_adapter oot = {
    .abi_version = TL_ADAPTER_ABI_VERSION,
    .struct_size = sizeof(tl_adapter),
    .name = "oot",
    .description = "out-of-tree test adapter: POSIX threads",
    .caps = TL_CAP_SPAWN | TL_CAP_COUNTERS,
    .init = oot_init,
    .last_error = oot_last_error,
    .spawn = oot_spawn,
    .join = oot_join,
    .self = oot_self,
    .counters = oot_counters,
};

TL_ADAPTER_EXPORT const tl_adapter *threadlab_adapter(void) { return &oot; }
