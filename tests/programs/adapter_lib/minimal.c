/* minimal.c — the smallest loadable adapter: plain POSIX threads, caps SPAWN
 * only. tests/test_adapter_lib.py builds it with -D switches into the broken
 * variants threadlab must refuse:
 *   ADAPTER_NAME="x"   the table's name (default "minimal")
 *   NO_ENTRY           export no threadlab_adapter
 *   NULL_ENTRY         threadlab_adapter returns NULL
 *   ABI=n              abi_version n
 *   STRUCT_SIZE=n      struct_size n
 *   CAP_WITHOUT_OPS    claim TL_CAP_KILL without a kill operation */
#include <threadlab/adapter.h>

#include <pthread.h>
#include <stdlib.h>

#ifndef ADAPTER_NAME
#define ADAPTER_NAME "minimal"
#endif
#ifndef ABI
#define ABI TL_ADAPTER_ABI_VERSION
#endif
#ifndef STRUCT_SIZE
#define STRUCT_SIZE sizeof(tl_adapter)
#endif

#define MAX_THREADS 4096

static pthread_t threads[MAX_THREADS + 1];
static _Atomic tl_adapter_thread_id next_id = 1;
static _Thread_local tl_adapter_thread_id my_id;
static _Thread_local const char *my_error = "";

struct start {
  tl_adapter_fn fn;
  void *arg;
  tl_adapter_thread_id id;
};

static void *trampoline(void *p) {
  struct start s = *(struct start *)p;
  free(p);
  my_id = s.id;
  s.fn(s.arg);
  return NULL;
}

static int m_init(void) { return TL_ADAPTER_OK; }
static const char *m_last_error(void) { return my_error; }

static int m_spawn(const char *name, tl_adapter_fn fn, void *arg, tl_adapter_thread_id *out) {
  (void)name;
  tl_adapter_thread_id id = next_id++;
  struct start *s = malloc(sizeof *s);
  if (id > MAX_THREADS || !s) {
    free(s);
    my_error = "out of thread slots";
    return TL_ADAPTER_EFAIL;
  }
  s->fn = fn;
  s->arg = arg;
  s->id = id;
  if (pthread_create(&threads[id], NULL, trampoline, s) != 0) {
    free(s);
    my_error = "pthread_create failed";
    return TL_ADAPTER_EFAIL;
  }
  *out = id;
  return TL_ADAPTER_OK;
}

static int m_join(tl_adapter_thread_id id) {
  if (id == 0 || id >= next_id || id > MAX_THREADS) {
    my_error = "no such thread";
    return TL_ADAPTER_EFAIL;
  }
  return pthread_join(threads[id], NULL) == 0 ? TL_ADAPTER_OK : TL_ADAPTER_EFAIL;
}

static tl_adapter_thread_id m_self(void) { return my_id; }

static const tl_adapter table = {
    .abi_version = ABI,
    .struct_size = STRUCT_SIZE,
    .name = ADAPTER_NAME,
    .description = "a minimal loadable adapter (POSIX threads, spawn only)",
#ifdef CAP_WITHOUT_OPS
    .caps = TL_CAP_SPAWN | TL_CAP_KILL,
#else
    .caps = TL_CAP_SPAWN,
#endif
    .init = m_init,
    .last_error = m_last_error,
    .spawn = m_spawn,
    .join = m_join,
    .self = m_self,
};

#ifndef NO_ENTRY
TL_ADAPTER_EXPORT const tl_adapter *threadlab_adapter(void) {
#ifdef NULL_ENTRY
  return NULL;
#else
  return &table;
#endif
}
#else
/* Keeps the table referenced: a library that exports something else. */
TL_ADAPTER_EXPORT const tl_adapter *some_other_symbol(void) { return &table; }
#endif
