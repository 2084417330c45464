/* leak_eventfd.c — a stand-in for a user's runtime test binary under
 * `threadlab exec`. Each cycle starts one thread that opens an eventfd and
 * exits; with "leak" it never closes it (a per-thread handle leak), with
 * "clean" it does. After each cycle it reports to the harness through
 * THREADLAB_CYCLE_FD (one byte out, one byte back) when that is set. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int leak = 1;

static void *worker(void *arg) {
  (void)arg;
  int fd = eventfd(0, 0);
  if (fd >= 0 && !leak) close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  int cycles = argc > 2 ? atoi(argv[2]) : 12;
  if (argc > 1 && strcmp(argv[1], "clean") == 0) leak = 0;
  const char *cfd = getenv("THREADLAB_CYCLE_FD");
  int sync = cfd ? atoi(cfd) : -1;
  for (int i = 0; i < cycles; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) return 3;
    pthread_join(t, NULL);
    if (sync >= 0) {
      char c = 'c';
      if (write(sync, &c, 1) != 1 || read(sync, &c, 1) != 1) return 4;
    }
  }
  printf("done after %d cycles\n", cycles);
  return 0;
}
