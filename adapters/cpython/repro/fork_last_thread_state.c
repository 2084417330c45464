/* fork_last_thread_state.c — CPython 3.11: a forked child aborts when it
 * makes a thread state after its last one was deleted ("Fatal Python error:
 * init_threadstate: thread state already initialized").
 *
 * Fork from a thread other than the main one (holding a PyGILState_Ensure'd
 * state); PyOS_AfterFork_Child deletes the main thread's state, which is the
 * interpreter's preallocated one; releasing the forking thread's state
 * leaves the list empty; the next PyGILState_Ensure reuses the preallocated
 * state without resetting it and aborts. See fork.cpp (the adapter's keeper).
 *
 *   cc fork_last_thread_state.c $(pkg-config --cflags --libs python3-embed) -lpthread
 */
#include <Python.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void *forker(void *arg) {
  (void)arg;
  PyGILState_STATE st = PyGILState_Ensure();
  PyOS_BeforeFork();
  pid_t pid = fork();
  if (pid == 0) {
    PyOS_AfterFork_Child();   /* deletes the main thread's state */
    PyGILState_Release(st);   /* deletes ours: the interpreter has none left */
    st = PyGILState_Ensure(); /* 3.11: Fatal Python error: init_threadstate */
    PyRun_SimpleString("print('child: a new thread state works')");
    PyGILState_Release(st);
    _exit(0);
  }
  PyOS_AfterFork_Parent();
  PyGILState_Release(st);
  int status = 0;
  waitpid(pid, &status, 0);
  printf("parent: child %s %d\n", WIFEXITED(status) ? "exited" : "killed by signal",
         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  return NULL;
}

int main(void) {
  Py_InitializeEx(0);
  PyThreadState *main_state = PyEval_SaveThread();
  pthread_t t;
  pthread_create(&t, NULL, forker, NULL);
  pthread_join(t, NULL);
  PyEval_RestoreThread(main_state);
  return 0;
}
