/* mutex_abba.c — two threads take two pthread mutexes in opposite orders,
 * each after the other holds its first: a certain deadlock for `threadlab
 * exec` to name (thread -> mutex -> owner). */
#include <pthread.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;

static void *take(void *arg) {
  pthread_mutex_t *first = arg ? &b : &a, *second = arg ? &a : &b;
  pthread_mutex_lock(first);
  pthread_barrier_wait(&both);
  pthread_mutex_lock(second);
  return 0;
}

int main(void) {
  pthread_t x, y;
  pthread_barrier_init(&both, 0, 2);
  pthread_create(&x, 0, take, 0);
  pthread_create(&y, 0, take, (void *)1);
  pthread_join(x, 0);
  return 0;
}
