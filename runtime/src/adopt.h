// adopt.h — test hook into adoption.
//
// Invariant: the observer, when set, runs inside adoption with the adoption
// lock held and async signals blocked — tests use it to prove both.
#pragma once

namespace tl {
struct Record;
extern void (*g_adoption_observer)(Record*);
}  // namespace tl
