// blocking.h — waiting the runtime's way.
//
// Invariants:
//   - A MANAGED thread never waits on a lock or a kernel object as MANAGED:
//     BlockedScope moves it to BLOCKED first (saving its registers and sp),
//     so a stop-the-world stops it by state instead of needing a signal it
//     might never handle (ThreadSanitizer defers signals until the next
//     intercepted call; a thread asleep in a futex makes none).
//   - NoStopScope marks a short stretch that holds a runtime-internal lock:
//     a stop that arrives meanwhile is deferred to the end of the scope, so
//     no thread is ever stopped holding such a lock.
#pragma once

namespace tl {

struct Record;

class BlockedScope {
 public:
  BlockedScope();
  ~BlockedScope();
  BlockedScope(const BlockedScope&) = delete;
  BlockedScope& operator=(const BlockedScope&) = delete;

 private:
  Record* r_ = nullptr;
};

class NoStopScope {
 public:
  NoStopScope();
  ~NoStopScope();
  NoStopScope(const NoStopScope&) = delete;
  NoStopScope& operator=(const NoStopScope&) = delete;

 private:
  Record* r_ = nullptr;
};

}  // namespace tl
