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
  if (!fuzz::load_program(o.in, &p, &err)) return usage_error(err);
  const std::string text = fuzz::to_text(p);
  return write_output(o.out, text.data(), text.size());
}

int verb_encode(const CodecOptions& o) {
  std::vector<char> in;
  std::string err;
  if (!read_input(o.in, &in, &err)) return usage_error(err);
  const std::string shown = o.in == "-" ? "<stdin>" : o.in;
  unsigned line = 1, column = 1;
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (!((c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r'))) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      return usage_error(shown + ":" + std::to_string(line) + ":" + std::to_string(column) + ": byte " + hex +
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
    return usage_error(shown + ":" + std::to_string(pe.line) + ":" + std::to_string(pe.column) + ": " + pe.message);
  const std::vector<uint8_t> bytes = fuzz::encode(p);
  return write_output(o.out, bytes.data(), bytes.size());
}

}  // namespace threadlab
