// thread_handles_darwin.cpp — Apple per-thread handle: the thread's own Mach
// exception port, a member of one port set that a listener thread serves.
// Compiled only for Apple targets (ci/check-macos; the macOS CI jobs run
// thread_handles_test); never executed on Linux.
//
// Invariants:
//   - One receive right per thread, with the one send right made from it
//     (same name); it joins the port set before the thread's exception ports
//     point at it, so no exception message waits for a listener that cannot
//     see it.
//   - Behaviour EXCEPTION_STATE | MACH_EXCEPTION_CODES: messages carry the
//     thread state, never a thread or task port, so the listener has no
//     rights to deallocate. (With an identity behaviour the two rights in a
//     request would be deallocated only when the reply is KERN_SUCCESS; a
//     failure reply makes the kernel release them itself.)
//   - The thread is named by pthread_mach_thread_np, which adds no user
//     reference; mach_thread_self (which adds one per call) is never used.
//   - The exception ports the thread had before are saved by the swap (with a
//     send right each, which we then own) and put back at release; release
//     runs on the thread itself (Apple has no reaper: death_watch_darwin.cpp),
//     and restores nothing from any other thread, whose thread port name may
//     already name something else.
//   - Release destroys what create made: the send right, then the receive
//     right (which leaves the port set with it), and the saved send rights:
//     the task's port names after a thread's life are those before it.
//   - The listener answers each exception with KERN_FAILURE, so the kernel
//     goes on to the task's and host's handlers and then to the BSD signal
//     (SIGSEGV, SIGBUS ...) the runtime's fault handling receives: owning the
//     port changes nothing about how a fault is handled. It allocates nothing
//     per message.
#include <errno.h>
#include <mach/mach.h>
#include <mach/mig_errors.h>
#include <mach/ndr.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "os.h"
#include "thread_handles.h"

namespace tl::handles_os {
namespace {

constexpr exception_mask_t kMask = EXC_MASK_BAD_ACCESS | EXC_MASK_BAD_INSTRUCTION | EXC_MASK_ARITHMETIC;
constexpr exception_behavior_t kBehavior = EXCEPTION_STATE | MACH_EXCEPTION_CODES;
#if defined(__aarch64__) || defined(__arm64__)
constexpr thread_state_flavor_t kFlavor = ARM_THREAD_STATE64;
#else
constexpr thread_state_flavor_t kFlavor = x86_THREAD_STATE64;
#endif
// mach_exc.defs: subsystem 2405; routine 1 is mach_exception_raise_state.
constexpr mach_msg_id_t kRaiseState = 2406;
constexpr mach_msg_id_t kReplyOffset = 100;  // MIG: reply id = request id + 100

pthread_mutex_t g_start_mu = PTHREAD_MUTEX_INITIALIZER;
mach_port_t g_port_set = MACH_PORT_NULL;  // set once, under g_start_mu, with the listener running
std::atomic<uint64_t> g_served{0};

int errno_of(kern_return_t kr) {
  switch (kr) {
    case KERN_RESOURCE_SHORTAGE: return ENOMEM;
    case KERN_NO_SPACE: return ENOSPC;  // the task's port name space is full
    case KERN_INVALID_ARGUMENT:
    case KERN_INVALID_NAME:
    case KERN_INVALID_RIGHT: return EINVAL;
    default: return EPERM;
  }
}

// The head of a mach_exception_raise_state request: only the id and the
// reply port are used; the state that follows is not read.
union Request {
  mach_msg_header_t head;
  uint8_t bytes[16384];  // > header + THREAD_STATE_MAX words + trailer
};

void* listen(void*) {
  pthread_setname_np("tl-exc-listener");
  static Request in;  // only this thread touches it
  for (;;) {
    std::memset(&in.head, 0, sizeof in.head);
    const mach_msg_return_t mr = mach_msg(&in.head, MACH_RCV_MSG, 0, sizeof in, g_port_set,
                                          MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
    if (mr != MACH_MSG_SUCCESS) continue;  // a too-large message is already destroyed
    if (in.head.msgh_id != kRaiseState) {
      mach_msg_destroy(&in.head);  // nothing else is ever sent to these ports
      continue;
    }
    g_served.fetch_add(1, std::memory_order_relaxed);
    mig_reply_error_t reply;
    std::memset(&reply, 0, sizeof reply);
    reply.Head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in.head.msgh_bits), 0);
    reply.Head.msgh_size = sizeof reply;
    reply.Head.msgh_remote_port = in.head.msgh_remote_port;
    reply.Head.msgh_local_port = MACH_PORT_NULL;
    reply.Head.msgh_id = in.head.msgh_id + kReplyOffset;
    reply.NDR = NDR_record;
    reply.RetCode = KERN_FAILURE;  // not handled here: the next handler, then the signal
    mach_msg(&reply.Head, MACH_SEND_MSG, sizeof reply, 0, MACH_PORT_NULL, MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
  }
  return nullptr;
}

// The port set and its listener, made by the first thread that needs them;
// a failure is that thread's error, and the next thread tries again.
int start_listener_once() {
  pthread_mutex_lock(&g_start_mu);
  int e = 0;
  if (g_port_set == MACH_PORT_NULL) {
    mach_port_t set = MACH_PORT_NULL;
    const kern_return_t kr = mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_PORT_SET, &set);
    if (kr != KERN_SUCCESS) {
      e = errno_of(kr);
    } else {
      g_port_set = set;  // before the listener reads it
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      pthread_t t;
      sigset_t caller_mask;
      e = os::thread_create(&t, &attr, listen, nullptr, &caller_mask);  // every signal blocked in it
      pthread_attr_destroy(&attr);
      if (e != 0) {
        mach_port_mod_refs(mach_task_self(), set, MACH_PORT_RIGHT_PORT_SET, -1);
        g_port_set = MACH_PORT_NULL;
      }
    }
  }
  pthread_mutex_unlock(&g_start_mu);
  return e;
}

// Drop the send right and destroy the receive right of `port`.
void destroy_port(mach_port_t port) {
  const mach_port_t task = mach_task_self();
  mach_port_deallocate(task, port);
  mach_port_mod_refs(task, port, MACH_PORT_RIGHT_RECEIVE, -1);
}

}  // namespace

const char* what() { return "Mach exception port"; }

int probe(const char**) { return 0; }

int create(ThreadHandles* h, uint64_t) {
  if (int e = start_listener_once()) return e;
  const mach_port_t task = mach_task_self();
  mach_port_t port = MACH_PORT_NULL;
  kern_return_t kr = mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &port);
  if (kr != KERN_SUCCESS) return errno_of(kr);
  kr = mach_port_insert_right(task, port, port, MACH_MSG_TYPE_MAKE_SEND);
  if (kr != KERN_SUCCESS) {
    mach_port_mod_refs(task, port, MACH_PORT_RIGHT_RECEIVE, -1);
    return errno_of(kr);
  }
  kr = mach_port_move_member(task, port, g_port_set);
  if (kr != KERN_SUCCESS) {
    destroy_port(port);
    return errno_of(kr);
  }
  const mach_port_t thread = pthread_mach_thread_np(pthread_self());
  exception_mask_t masks[kMaxSavedExceptionPorts];
  mach_port_t ports[kMaxSavedExceptionPorts];
  exception_behavior_t behaviors[kMaxSavedExceptionPorts];
  thread_state_flavor_t flavors[kMaxSavedExceptionPorts];
  mach_msg_type_number_t count = kMaxSavedExceptionPorts;
  kr = thread_swap_exception_ports(thread, kMask, port, kBehavior, kFlavor, masks, &count, ports, behaviors, flavors);
  if (kr != KERN_SUCCESS) {
    destroy_port(port);
    return errno_of(kr);
  }
  h->port = port;
  h->thread_port = thread;
  h->saved_count = count;
  for (mach_msg_type_number_t i = 0; i < count; ++i) {
    h->saved_masks[i] = masks[i];
    h->saved_ports[i] = ports[i];
    h->saved_behaviors[i] = behaviors[i];
    h->saved_flavors[i] = flavors[i];
  }
  return 0;
}

void destroy(ThreadHandles* h) {
  const mach_port_t task = mach_task_self();
  if (pthread_mach_thread_np(pthread_self()) == h->thread_port) {
    // Ours off the whole mask first (a saved entry may not cover all of
    // it), then each saved entry back as it was.
    thread_set_exception_ports(h->thread_port, kMask, MACH_PORT_NULL, EXCEPTION_DEFAULT, kFlavor);
    for (uint32_t i = 0; i < h->saved_count; ++i)
      if (MACH_PORT_VALID(h->saved_ports[i]))
        thread_set_exception_ports(h->thread_port, h->saved_masks[i], h->saved_ports[i], h->saved_behaviors[i],
                                   h->saved_flavors[i]);
  }
  for (uint32_t i = 0; i < h->saved_count; ++i)
    if (MACH_PORT_VALID(h->saved_ports[i])) mach_port_deallocate(task, h->saved_ports[i]);
  h->saved_count = 0;
  destroy_port(h->port);
  h->port = MACH_PORT_NULL;
  h->thread_port = MACH_PORT_NULL;
}

void arm(ThreadHandles*, uint64_t) {}

bool install_tick_handler() {
  errno = ENOTSUP;  // Apple has no per-thread CPU-time timer signal
  return false;
}

}  // namespace tl::handles_os
