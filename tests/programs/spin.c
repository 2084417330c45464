/* spin.c — two threads that burn CPU forever (a livelock, or a program that
 * is just slow), joined by main: `threadlab exec` must call it `timeout`,
 * not `deadlock`, because its CPU time keeps advancing. */
#include <pthread.h>

static volatile unsigned long counter;

static void *spinner(void *arg) {
  (void)arg;
  for (;;) counter = counter + 1;
  return 0;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, 0, spinner, 0);
  pthread_create(&b, 0, spinner, 0);
  pthread_join(a, 0);
  return 0;
}
