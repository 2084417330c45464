// finalize_with_callers.cpp — CPython 3.11 and threads calling in around
// Py_FinalizeEx (upstream gh-87135, gh-124619):
//   - a foreign thread looping PyGILState_Ensure/Release while the main
//     thread finalises is ended inside PyGILState_Ensure (pthread_exit: its
//     C++ frames are unwound);
//   - with an argument, a fresh thread then calls PyGILState_Ensure after
//     Py_FinalizeEx returned: SIGSEGV in PyThreadState_New.
//
//   c++ finalize_with_callers.cpp $(pkg-config --cflags --libs python3-embed) -lpthread
#include <Python.h>
#include <pthread.h>
#include <atomic>
#include <cstdio>
static std::atomic<long> calls{0};
static std::atomic<bool> started{false};
struct Frame { ~Frame() { std::fprintf(stderr, "caller: a C++ frame was unwound (%ld calls made)\n", calls.load()); } };
static void* caller(void*) {
  Frame f;
  for (;;) {
    PyGILState_STATE st = PyGILState_Ensure();
    started = true;
    calls++;
    PyGILState_Release(st);
  }
  return nullptr;
}
static void* after(void*) {
  std::fprintf(stderr, "after: PyGILState_Ensure after finalisation...\n");
  PyGILState_STATE st = PyGILState_Ensure();
  std::fprintf(stderr, "after: returned\n");
  PyGILState_Release(st);
  return nullptr;
}
int main(int argc, char**) {
  Py_InitializeEx(0);
  PyThreadState* m = PyEval_SaveThread();
  pthread_t t;
  pthread_create(&t, nullptr, caller, nullptr);
  while (!started) {}
  PyEval_RestoreThread(m);
  int rc = Py_FinalizeEx();
  std::fprintf(stderr, "main: Py_FinalizeEx returned %d\n", rc);
  void* ret = nullptr;
  pthread_join(t, &ret);
  std::fprintf(stderr, "main: caller joined (%s)\n", ret == PTHREAD_CANCELED ? "cancelled" : "returned");
  if (argc > 1) {
    pthread_create(&t, nullptr, after, nullptr);
    pthread_join(t, nullptr);
  }
  std::fprintf(stderr, "main: exit\n");
  return 0;
}
