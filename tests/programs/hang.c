/* hang.c — two threads that wait forever on a condition nobody signals,
 * joined by main: a hang for `threadlab exec` to dump. */
#include <pthread.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *sleeper(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  for (;;) pthread_cond_wait(&never, &mu);
  return 0;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, 0, sleeper, 0);
  pthread_create(&b, 0, sleeper, 0);
  pthread_join(a, 0);
  return 0;
}
