// adapter_lib_posix.cpp — adapters loaded from shared libraries: `--adapter-lib
// PATH`, THREADLAB_ADAPTER_LIB, and `--adapter NAME` found as
// threadlab-adapter-NAME.so on the module path (dlopen/dlsym).
//
// Invariants:
//   - A library is opened by its absolute, resolved path (RTLD_NOW, so an
//     unresolved symbol is a load error, RTLD_LOCAL) and never closed: the
//     table it returned lives as long as the process.
//   - Its entry point (TL_ADAPTER_ENTRY_SYMBOL) is called once; the table is
//     registered only when register_loaded_adapter accepts it (ABI version,
//     struct size, name, capabilities, a name nobody else has).
//   - One file is one adapter: loading a path that resolves to a file
//     already loaded is answered with the adapter it gave.
//   - Every library this process loaded is named in THREADLAB_ADAPTER_LIB
//     (absolute paths, ':'-separated) as soon as it is loaded, so every
//     process it starts afterwards (scenario children, `__exec`, replays,
//     fuzz engines) loads the same ones at its first adapter lookup.
//   - Every refusal names the path and what is wrong; the CLI prints it as a
//     usage error (exit 2).
#include <dlfcn.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstddef>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "adapters/builtin.h"
#include "runner/process.h"

#ifndef TL_INSTALL_LIBDIR
#define TL_INSTALL_LIBDIR "lib"
#endif

namespace threadlab {
namespace {

constexpr const char* kLibEnv = "THREADLAB_ADAPTER_LIB";

// Resolved path -> the adapter name it registered.
std::map<std::string, std::string>& loaded() {
  static std::map<std::string, std::string> m;
  return m;
}

std::vector<std::string> split_colons(const char* s) {
  std::vector<std::string> out;
  if (!s) return out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ':');)
    if (!part.empty()) out.push_back(part);
  return out;
}

bool is_file(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Name `path` in THREADLAB_ADAPTER_LIB unless it is there already.
void export_lib(const std::string& path) {
  const char* cur = std::getenv("THREADLAB_ADAPTER_LIB");
  for (const std::string& p : split_colons(cur))
    if (p == path) return;
  const std::string next = cur && *cur ? std::string(cur) + ":" + path : path;
  setenv(kLibEnv, next.c_str(), 1);
}

}  // namespace

std::string load_adapter_lib(const std::string& path, std::string* name) {
  char resolved[PATH_MAX];
  if (!realpath(path.c_str(), resolved))
    return fmt::format("adapter library '{}': {}", path, std::strerror(errno));
  const std::string abs = resolved;
  if (auto it = loaded().find(abs); it != loaded().end()) {
    *name = it->second;
    return "";
  }
  if (!is_file(abs)) return fmt::format("adapter library '{}': not a regular file", path);
  dlerror();
  void* lib = dlopen(abs.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    return fmt::format("adapter library '{}': cannot load it: {}", path, why ? why : "dlopen failed");
  }
  // dlsym hands back a data pointer; the entry point is a function (POSIX
  // guarantees the conversion).
  auto entry = reinterpret_cast<tl_adapter_entry_fn>(dlsym(lib, TL_ADAPTER_ENTRY_SYMBOL));
  if (!entry)
    return fmt::format("adapter library '{}' does not export {} (see docs/writing-an-adapter.md)", path,
                       TL_ADAPTER_ENTRY_SYMBOL);
  const tl_adapter* a = entry();
  if (!a) return fmt::format("adapter library '{}': {}() returned NULL (it offers no adapter)", path, TL_ADAPTER_ENTRY_SYMBOL);
  if (std::string why = register_loaded_adapter(a, abs); !why.empty()) {
    const bool named = a->abi_version == TL_ADAPTER_ABI_VERSION &&
                       a->struct_size >= offsetof(tl_adapter, name) + sizeof a->name && a->name;
    return fmt::format("adapter library '{}'{}: {}", path, named ? fmt::format(" (adapter '{}')", a->name) : "", why);
  }
  loaded()[abs] = a->name;
  export_lib(abs);
  *name = a->name;
  return "";
}

std::string load_env_adapter_libs() {
  static std::once_flag once;
  static std::string result;
  std::call_once(once, [] {
    for (const std::string& p : split_colons(std::getenv("THREADLAB_ADAPTER_LIB"))) {
      std::string name;
      if (std::string why = load_adapter_lib(p, &name); !why.empty()) {
        result = fmt::format("{}: {}", kLibEnv, why);
        return;
      }
    }
  });
  return result;
}

std::vector<std::string> adapter_module_dirs() {
  std::vector<std::string> dirs = split_colons(std::getenv("THREADLAB_ADAPTER_PATH"));
  const std::string self = self_exe();
  const size_t slash = self.rfind('/');
  if (const std::string exe = slash == std::string::npos ? "" : self.substr(0, slash); !exe.empty()) {
    const std::string libdir = TL_INSTALL_LIBDIR;
    dirs.push_back(exe + "/../lib/threadlab/adapters");
    if (libdir != "lib")
      dirs.push_back((libdir[0] == '/' ? libdir : exe + "/../" + libdir) + "/threadlab/adapters");
  }
  return dirs;
}

std::string load_adapter_module(const std::string& name, bool* found) {
  *found = false;
  if (name.empty() || name.find('/') != std::string::npos) return "";
  for (const std::string& dir : adapter_module_dirs()) {
    const std::string path = dir + "/threadlab-adapter-" + name + ".so";
    if (!is_file(path)) continue;
    *found = true;
    std::string got;
    if (std::string why = load_adapter_lib(path, &got); !why.empty()) return why;
    if (got != name)
      return fmt::format("adapter library '{}' carries adapter '{}', not '{}' (a module's file name is "
                         "threadlab-adapter-<the name in its table>.so)",
                         path, got, name);
    return "";
  }
  return "";
}

}  // namespace threadlab
