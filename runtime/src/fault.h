// fault.h — the runtime's synchronous-fault machinery, as the rest of the
// runtime (and platform add-ons such as an exception-port server) sees it.
//
//   fault_altstack.cpp    a sigaltstack per record
//   guard_zone.*          yellow/red zones of the value and temp stacks
//   catch.cpp             catch frames, tl_throw, dynamic bindings, landing
//   fault_classify.cpp    what a fault address is (registry walk, no lock)
//   fault_signal_posix.cpp SIGSEGV/SIGBUS handlers, chaining, crash reports
//   fault_forward.cpp     forwarded mode: faults decided on a handler thread
//   fault_report.cpp      scribble reports kept for tl_check_integrity
//   gc/barrier.*          the write-barrier region and its cards
//
// Invariants:
//   - install() runs once, in tl_init, before the initial record attaches.
//   - thread_attach(r) runs on r's thread once the record is bound (spawn,
//     adoption, tl_init) and thread_detach(r) on the same thread when the
//     record is released (teardown): detach undoes exactly what attach did,
//     and each registered hook pair runs inside them (attach hooks after the
//     runtime's own work, detach hooks before), so a platform add-on can
//     hang per-thread state (a Mach exception port) on a record's life.
//   - Hooks run on the thread itself, with async signals blocked on adoption;
//     they may allocate and take runtime locks of rank below the registry.
#pragma once
#include <cstdint>

namespace tl {
struct Record;
}

namespace tl::fault {

// Install the SIGSEGV/SIGBUS handlers, saving what was there. TL_OK or a
// tl_status (with the message set) when the OS refuses.
int install();
// Put the saved dispositions back.
void restore_handlers();

// Per-record life (see the invariants). attach returns TL_OK or a status
// with the message set (sigaltstack or mmap refused); on failure nothing is
// left installed.
int thread_attach(Record* r);
void thread_detach(Record* r);
// For a thread about to be created (tl_spawn, on the spawner): map the
// altstack attach will install, so a failure is the spawn's ENOMEM. Undone
// by release_altstack if the thread never starts.
int prepare_altstack(Record* r);
void release_altstack(Record* r);

// Per-record hooks for platform add-ons; at most kMaxHooks pairs, set
// before threads start (tl_init or right after). Returns false when full.
using ThreadHook = void (*)(Record* r);
constexpr unsigned kMaxHooks = 4;
bool add_thread_hooks(ThreadHook attach, ThreadHook detach);

// False only under the no_sigaltstack defect (fault_altstack.cpp).
bool altstacks_enabled();

// Reset the fault fields of a record about to be reused.
void fault_record_reset(Record* r);

// In a fork child, for a record whose thread did not survive: its
// altstack mapping unmapped (nothing runs on it now), its fault state reset.
// The detach hooks do not run: they act on the calling thread.
void forget_after_fork(Record* r);

}  // namespace tl::fault
