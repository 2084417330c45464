// verb_codec.cpp — threadlab decode, encode: op programs between their
// binary encoding and their text form (fuzz/include/threadlab/fuzz/program.h).
//
// Invariants:
//   - decode takes a program file of either form (load_program) and prints
//     its canonical text; encode takes the text form only (a byte that is
//     not text is an error naming its line and column) and writes the bytes.
//   - Errors are one line `threadlab: FILE...: what` on stderr, exit 2;
//     parse errors read `threadlab: FILE:LINE:COLUMN: what`.
//   - "-" is standard input / output; an output file is written to a
//     temporary name beside it and renamed into place, so it is either the
//     old file or the whole new one (the temporary is removed on failure).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <threadlab/fuzz/program.h>

#include "cli/verbs.h"

namespace threadlab {
namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "threadlab: %s\n", what.c_str());
  return 2;
}

bool write_all(std::FILE* f, const void* data, size_t n) { return n == 0 || std::fwrite(data, 1, n, f) == n; }

// Writes `data` to `path` ("-": standard output) atomically.
int write_output(const std::string& path, const void* data, size_t n) {
  if (path == "-") {
    if (!write_all(stdout, data, n) || std::fflush(stdout) != 0)
      return fail(std::string("standard output: cannot write: ") + std::strerror(errno));
    return 0;
  }
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return fail(path + ": cannot write: " + std::strerror(errno));
  bool ok = write_all(f, data, n) && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  int saved = errno;
  ok = std::fclose(f) == 0 && ok;
  if (ok && std::rename(tmp.c_str(), path.c_str()) == 0) return 0;
  if (ok) saved = errno;
  std::remove(tmp.c_str());
  return fail(path + ": cannot write: " + std::strerror(saved));
}

bool read_input(const std::string& path, std::vector<char>* out, std::string* err) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  const std::string shown = path == "-" ? "<stdin>" : path;
  if (!f) {
    *err = shown + ": cannot open: " + std::strerror(errno);
    return false;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
  const bool bad = std::ferror(f) != 0;
  const int saved = errno;
  if (f != stdin) std::fclose(f);
  if (bad) *err = shown + ": cannot read: " + std::strerror(saved);
  return !bad;
}

}  // namespace

int verb_decode(const CodecOptions& o) {
  fuzz::Program p;
  std::string err;
  if (!fuzz::load_program(o.in, &p, &err)) return fail(err);
  const std::string text = fuzz::to_text(p);
  return write_output(o.out, text.data(), text.size());
}

int verb_encode(const CodecOptions& o) {
  std::vector<char> in;
  std::string err;
  if (!read_input(o.in, &in, &err)) return fail(err);
  const std::string shown = o.in == "-" ? "<stdin>" : o.in;
  unsigned line = 1, column = 1;
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (!((c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r'))) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      return fail(shown + ":" + std::to_string(line) + ":" + std::to_string(column) + ": byte " + hex +
                  " is not text (encode takes the text form; decode reads either form)");
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  fuzz::Program p;
  fuzz::ParseError pe;
  if (!fuzz::parse_text(std::string_view(in.data(), in.size()), &p, &pe))
    return fail(shown + ":" + std::to_string(pe.line) + ":" + std::to_string(pe.column) + ": " + pe.message);
  const std::vector<uint8_t> bytes = fuzz::encode(p);
  return write_output(o.out, bytes.data(), bytes.size());
}

}  // namespace threadlab
