// channel.h — the child's result channel to the runner: one JSON object per
// line (events "watchdog", "dump", "result"), plus the crash handler's plain
// text lines (crash_report_posix.cpp).
//
// Invariant: lines are written whole under one mutex, so the watchdog and
// the scenario driver never interleave inside a line.
#pragma once
#include <nlohmann/json.hpp>

namespace threadlab {
void channel_open(int fd);
int channel_fd();
void channel_emit(const nlohmann::json& event);
// One preformatted line (ending in '\n'), written without allocating.
void channel_emit_raw(const char* line, size_t len);
}  // namespace threadlab
