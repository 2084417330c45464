// includes_runtime.cpp — NOT a scenario: the layering check of
// scenarios/CMakeLists.txt compiles this file with the scenarios' flags and
// passes only when the second include fails (the first must succeed).
#include <threadlab/scenario.h>
#include <threadlab/runtime.h>
