/* c_abi_test.c — the runtime's C ABI from C11: init, spawn/join, a foreign
 * pthread calling back, counters and the integrity check. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "threadlab/runtime.h"

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "c_abi_test: %s:%d: %s failed (%s)\n", __FILE__, \
              __LINE__, #cond, tl_last_error());                      \
      exit(1);                                                        \
    }                                                                 \
  } while (0)

static void managed(void *arg) {
  uintptr_t w = 0;
  CHECK(tl_value_push((uintptr_t)arg) == TL_OK);
  CHECK(tl_value_pop(&w) == TL_OK);
  CHECK(w == (uintptr_t)arg);
}

static void *foreign(void *arg) {
  (void)arg;
  CHECK(tl_callback_enter() == TL_OK);
  CHECK(tl_self() != 0);
  CHECK(tl_callback_exit() == TL_OK);
  return NULL;
}

int main(void) {
  tl_config cfg;
  tl_thread_id id = 0;
  pthread_t t;
  tl_counters c;
  tl_violation v[4];
  tl_config_defaults(&cfg);
  CHECK(tl_init(&cfg) == TL_OK);
  CHECK(tl_spawn("c-thread", managed, (void *)(uintptr_t)0x1234, &id) == TL_OK);
  CHECK(tl_join(id) == TL_OK);
  CHECK(pthread_create(&t, NULL, foreign, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(tl_get_counters(&c) == TL_OK);
  CHECK(c.adoptions_total == 1);
  CHECK(c.records_adopted == 0);
  CHECK(tl_check_integrity(v, 4) == 0);
  CHECK(tl_join(id) == TL_ENOTHREAD);
  printf("c_abi_test: ok\n");
  return 0;
}
