// kernel_handles_darwin.cpp — kernel_handles.h from the task's port names
// and the calling thread's exception ports. Every right a query returns is
// deallocated, so the counts measure the runtime alone.
#include <mach/mach.h>
#include <pthread.h>

#include "kernel_handles.h"

namespace tltest {
namespace {

thread_local mach_port_t g_own = MACH_PORT_NULL;

// The calling thread's EXC_BAD_ACCESS port and behaviour (the send right
// the query returns is dropped again).
bool bad_access_port(mach_port_t* port, exception_behavior_t* behavior) {
  exception_mask_t masks[16];
  mach_port_t ports[16];
  exception_behavior_t behaviors[16];
  thread_state_flavor_t flavors[16];
  mach_msg_type_number_t n = 16;
  if (thread_get_exception_ports(pthread_mach_thread_np(pthread_self()), EXC_MASK_BAD_ACCESS, masks, &n, ports,
                                 behaviors, flavors) != KERN_SUCCESS)
    return false;
  *port = MACH_PORT_NULL;
  for (mach_msg_type_number_t i = 0; i < n; ++i) {
    if (masks[i] & EXC_MASK_BAD_ACCESS) {
      *port = ports[i];
      *behavior = behaviors[i];
    }
    if (MACH_PORT_VALID(ports[i])) mach_port_deallocate(mach_task_self(), ports[i]);
  }
  return true;
}

}  // namespace

long os_handle_count() {
  mach_port_name_array_t names = nullptr;
  mach_port_type_array_t types = nullptr;
  mach_msg_type_number_t nn = 0, nt = 0;
  if (mach_port_names(mach_task_self(), &names, &nn, &types, &nt) != KERN_SUCCESS) return -1;
  long recv = 0;
  for (mach_msg_type_number_t i = 0; i < nt; ++i)
    if (types[i] & MACH_PORT_TYPE_RECEIVE) ++recv;
  vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(names), nn * sizeof(*names));
  vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(types), nt * sizeof(*types));
  return recv;
}

bool os_thread_has_handle() {
  mach_port_t port = MACH_PORT_NULL;
  exception_behavior_t behavior = 0;
  if (!bad_access_port(&port, &behavior) || !MACH_PORT_VALID(port)) return false;
  mach_port_type_t type = 0;
  if (mach_port_type(mach_task_self(), port, &type) != KERN_SUCCESS) return false;
  return (type & MACH_PORT_TYPE_RECEIVE) && behavior == static_cast<exception_behavior_t>(EXCEPTION_STATE | MACH_EXCEPTION_CODES);
}

bool install_own_exception_port() {
  const mach_port_t task = mach_task_self();
  if (mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &g_own) != KERN_SUCCESS) return false;
  if (mach_port_insert_right(task, g_own, g_own, MACH_MSG_TYPE_MAKE_SEND) != KERN_SUCCESS) return false;
  return thread_set_exception_ports(pthread_mach_thread_np(pthread_self()), EXC_MASK_BAD_ACCESS, g_own,
                                    EXCEPTION_DEFAULT, THREAD_STATE_NONE) == KERN_SUCCESS;
}

bool own_exception_port_installed() {
  mach_port_t port = MACH_PORT_NULL;
  exception_behavior_t behavior = 0;
  return bad_access_port(&port, &behavior) && port == g_own && behavior == EXCEPTION_DEFAULT;
}

void remove_own_exception_port() {
  const mach_port_t task = mach_task_self();
  thread_set_exception_ports(pthread_mach_thread_np(pthread_self()), EXC_MASK_BAD_ACCESS, MACH_PORT_NULL,
                             EXCEPTION_DEFAULT, THREAD_STATE_NONE);
  mach_port_deallocate(task, g_own);
  mach_port_mod_refs(task, g_own, MACH_PORT_RIGHT_RECEIVE, -1);
  g_own = MACH_PORT_NULL;
}

}  // namespace tltest
