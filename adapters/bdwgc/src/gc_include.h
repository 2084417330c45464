// gc_include.h — bdwgc's header as every adapter file sees it: with its
// thread support (GC_THREADS) and without redirecting pthread_create and
// friends (the adapter names GC_pthread_create/GC_pthread_join itself, so
// what goes through bdwgc is visible in the source).
#pragma once

#ifndef GC_THREADS
#define GC_THREADS 1
#endif
#ifndef GC_NO_THREAD_REDIRECTS
#define GC_NO_THREAD_REDIRECTS 1
#endif
#include <gc/gc.h>
#include <gc/gc_mark.h>
