// os.h — the narrow platform interface of the reference runtime.
//
// Everything that differs between Linux, other POSIX systems and Apple lives
// behind these functions: os_posix.cpp (mmap, threads, signals), os_linux.cpp
// and os_darwin.cpp (thread ids, stack bounds, Mach ports). Logic files never
// test the platform themselves.
//
// Invariants:
//   - Failures return false / nullptr / an errno value and never abort: the
//     caller turns them into a tl_status with a message.
//   - kernel_tid() and mach_thread_port() are async-signal-safe.
//   - Simulated failures (tl_os_fail_next) are consumed here, in the one place
//     each OS call is made, so error paths are tested against the real code.
#pragma once
#include <pthread.h>
#include <signal.h>

#include <cstddef>
#include <cstdint>

namespace tl::os {

size_t page_size();

enum class Prot { None, ReadWrite, Read };

// Reserve (Prot::None) or map read-write anonymous memory. nullptr on
// failure with errno set.
void* map(size_t bytes, Prot prot);
// Reserve bytes aligned to `align` (a power of two >= page size).
void* map_aligned(size_t bytes, size_t align, Prot prot);
bool protect(void* addr, size_t bytes, Prot prot);
// Give the pages back to the OS but keep the range reserved (Prot::None).
bool decommit(void* addr, size_t bytes);
void unmap(void* addr, size_t bytes);

// Kernel thread id of the calling thread (Linux tid, Apple thread id).
int64_t kernel_tid();
// Mach thread port of a thread (Apple); 0 elsewhere.
uint32_t mach_thread_port(pthread_t t);
// Every thread of process pid, one short line each (tid, state, what it
// sleeps in), into buf (NUL-terminated, cut at cap); for a reported hang.
// Empty where the system does not show another process's threads.
void describe_threads(int pid, char* buf, size_t cap);

struct Bounds {
  uintptr_t lo = 0;
  uintptr_t hi = 0;
};
// Control-stack bounds of the calling thread as the OS knows them.
bool control_stack_bounds(Bounds* out);

// pthread_create of a thread that starts with every signal blocked, with
// the simulated-failure hook; returns 0 or an errno. The calling thread's
// signal mask is stored in *caller_mask before the new thread starts, and is
// the caller's mask again on return.
int thread_create(pthread_t* out, pthread_attr_t* attr, void* (*fn)(void*), void* arg,
                  sigset_t* caller_mask);

// Block every asynchronous signal in the calling thread, saving its mask in
// *old; synchronous faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
// SIGABRT) stay deliverable, since blocking them turns a fault into a
// silent kill. Async-signal-safe.
void block_async_signals(sigset_t* old);

// Simulated failures: consume one pending failure of `call`, if any.
bool should_fail(int call);

// A reader-writer lock that does not starve writers (the stopper).
void rwlock_init_writer_preferred(pthread_rwlock_t* lock);

// From a signal handler's ucontext: the interrupted stack pointer, and its
// general registers (up to max). Async-signal-safe.
uintptr_t context_sp(const void* ucontext);
unsigned context_regs(const void* ucontext, uintptr_t* out, unsigned max);

// The calling thread's signal alternate stack: true, with its bounds as given
// to sigaltstack, when one is installed; *on_it says whether the thread runs
// on it now. Async-signal-safe.
bool current_altstack(Bounds* out, bool* on_it);
// The stack pointer a signal interrupted on the stack [lo, hi), read from the
// kernel's signal frame at the top of the altstack [alt_lo, alt_hi) of a
// thread that is stopped (or is the caller) while running on it; the lowest
// one if several match; 0 if none can be found. Reads the altstack only.
uintptr_t altstack_interrupted_sp(uintptr_t alt_lo, uintptr_t alt_hi, uintptr_t lo, uintptr_t hi);
// The lowest page-aligned address a >= lo such that [a, hi) is all mapped
// (hi itself when the page below hi is not). No allocation.
uintptr_t mapped_low(uintptr_t lo, uintptr_t hi);

// Signal alternate stacks (fault_altstack.cpp). altstack_get reads the
// calling thread's as the kernel holds it; altstack_put installs `ss` (a
// disabled one removes it). Both async-signal-safe; put consumes a
// simulated TL_OS_SIGALTSTACK failure.
bool altstack_get(stack_t* out);
bool altstack_put(const stack_t& ss);
// A SIGSEGV the kernel raised because it could not push a signal frame for
// another signal (Linux: SI_KERNEL, no address): the interrupted stack was
// full. Async-signal-safe.
bool failed_signal_delivery(const siginfo_t* si);
// The least altstack the kernel accepts for one signal frame on this CPU
// (AT_MINSIGSTKSZ where the kernel says, MINSIGSTKSZ otherwise).
size_t min_signal_stack();

// Futex-style wait and wake on a 32-bit word (runtime locks).
void futex_wait(uint32_t* word, uint32_t expected);
// As futex_wait, giving up after `us` microseconds.
void futex_wait_for(uint32_t* word, uint32_t expected, unsigned us);
void futex_wake(uint32_t* word, int count);

// Write all of buf to fd, retrying on EINTR. Async-signal-safe.
void write_all(int fd, const char* buf, size_t len);

}  // namespace tl::os
