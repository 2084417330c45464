// crash_report.h — fatal-signal backtrace onto the result channel (see
// crash_report_posix.cpp for the line protocol and invariants).
#pragma once
namespace threadlab {
void crash_report_install(int fd);
}
