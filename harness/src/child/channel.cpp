// channel.cpp — see channel.h.
#include "child/channel.h"

#include <unistd.h>

#include <cerrno>
#include <mutex>

namespace threadlab {
namespace {
int g_fd = -1;
std::mutex g_mu;
}  // namespace

void channel_open(int fd) { g_fd = fd; }
int channel_fd() { return g_fd; }

void channel_emit_raw(const char* line, size_t len) {
  std::lock_guard<std::mutex> lock(g_mu);
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(g_fd, line + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += static_cast<size_t>(w);
  }
}

void channel_emit(const nlohmann::json& event) {
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  channel_emit_raw(line.data(), line.size());
}
}  // namespace threadlab
