// program_file.cpp — load_program(): a program file, text or binary.
//
// Invariants: a file whose bytes are all printable ASCII or whitespace
// (\t \n \v \f \r) is text and goes through parse_text (errors read
// "PATH:LINE:COLUMN: message"); any other file is the binary encoding and
// always loads (encode() output starts with a byte >= 0x80, so it is never
// taken for text; an empty file is the empty program either way). "-" is
// standard input, named "<stdin>" in messages. Files over kMaxFileBytes
// are refused rather than read whole.
#include <threadlab/fuzz/program.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace threadlab::fuzz {
namespace {

constexpr size_t kMaxFileBytes = size_t(64) << 20;

bool is_text(const std::vector<uint8_t>& b) {
  for (uint8_t c : b)
    if (!((c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r'))) return false;
  return true;
}

bool slurp(std::FILE* f, std::vector<uint8_t>* out, std::string* why) {
  uint8_t buf[65536];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    out->insert(out->end(), buf, buf + n);
    if (out->size() > kMaxFileBytes) {
      *why = "larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB";
      return false;
    }
    if (n < sizeof buf) break;
  }
  if (std::ferror(f)) {
    *why = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace

bool load_program(const std::string& path, Program* out, std::string* err) {
  const bool stdin_ = path == "-";
  const std::string shown = stdin_ ? "<stdin>" : path;
  std::vector<uint8_t> bytes;
  std::string why;
  if (stdin_) {
    if (!slurp(stdin, &bytes, &why)) {
      if (err) *err = shown + ": " + why;
      return false;
    }
  } else {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
      if (err) *err = shown + ": cannot open: " + std::strerror(errno);
      return false;
    }
    const bool ok = slurp(f, &bytes, &why);
    std::fclose(f);
    if (!ok) {
      if (err) *err = shown + ": " + why;
      return false;
    }
  }
  if (!is_text(bytes)) {
    if (out) *out = decode(bytes);
    return true;
  }
  ParseError pe;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!parse_text(text, out, &pe)) {
    if (err) *err = shown + ":" + std::to_string(pe.line) + ":" + std::to_string(pe.column) + ": " + pe.message;
    return false;
  }
  return true;
}

}  // namespace threadlab::fuzz
