// image.cpp — heap images: tl_save_image and tl_image_check (format in
// runtime.h).
//
// Invariants:
//   - An image is written only from a single-threaded world: the caller's
//     is the only record that is not DEAD (a fork child's, typically).
//     Otherwise TL_ESTATE names another thread, and nothing is written.
//   - The file at path is complete or untouched: the image goes to
//     path.tmp.<pid>, is flushed (fsync) and renamed over path; any failure
//     removes the temporary file and names the call, the path and errno.
//   - The checksum is taken in one pass over the heap and the bytes written
//     in a second: in a single-threaded world they agree; a heap that
//     changed in between (another thread ran) shows as a checksum mismatch
//     to tl_image_check.
//   - tl_image_check needs no runtime: it reads only the file.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../blocking.h"
#include "../current.h"
#include "../fork.h"
#include "../globals.h"
#include "../inject.h"
#include "../lock_rank.h"
#include "../record.h"
#include "../registry.h"
#include "../status.h"
#include "heap.h"

namespace tl::gc {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull, kFnvPrime = 0x100000001b3ull;

void fnv(uint64_t* h, const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    *h ^= b[i];
    *h *= kFnvPrime;
  }
}

static_assert(kBlockBytes == TL_IMAGE_BLOCK_BYTES, "the image's block size is the heap's");

// A block's bytes, free cells included: those are poisoned under ASan (and
// their contents are part of the image), so they are copied without the
// sanitizers' checks, word by word (memcpy is intercepted), as the
// collector reads them (collect.cpp).
__attribute__((no_sanitize("address", "thread"))) void copy_block(uint64_t* dst, const Block* b) {
  const auto* src = reinterpret_cast<const uint64_t*>(b);
  for (size_t i = 0; i < kBlockBytes / sizeof(uint64_t); ++i) dst[i] = src[i];
}
using BlockCopy = std::vector<uint64_t>;  // kBlockBytes of words (heap: not a thread's TLS or stack)

struct Writer {
  int fd = -1;
  const char* path = nullptr;
  int err = 0;
  bool put(const void* p, size_t n) {
    const auto* b = static_cast<const char*>(p);
    while (n > 0 && !err) {
      const ssize_t w = write(fd, b, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        err = w < 0 ? errno : EIO;
        break;
      }
      b += w;
      n -= static_cast<size_t>(w);
    }
    return !err;
  }
};

struct RootPass {
  uint64_t* sum;
  Writer* out;
  uint64_t count;
};

void root_visit(void** slot, void* ctx) {
  auto* p = static_cast<RootPass*>(ctx);
  const uint64_t words[2] = {reinterpret_cast<uint64_t>(slot), reinterpret_cast<uint64_t>(*slot)};
  if (p->sum) fnv(p->sum, words, sizeof words);
  if (p->out) p->out->put(words, sizeof words);
  ++p->count;
}

// One pass over blocks then roots: checksum (out null) or write (sum null).
void pass(Heap& h, uint64_t* sum, Writer* out, uint64_t* blocks, uint64_t* roots, BlockCopy& copy) {
  *blocks = 0;
  uint64_t* t_block = copy.data();
  for (Block* b : h.classes) {
    for (; b; b = b->next) {
      const uint64_t addr = reinterpret_cast<uint64_t>(b);
      copy_block(t_block, b);
      if (sum) {
        fnv(sum, &addr, sizeof addr);
        fnv(sum, t_block, kBlockBytes);
      }
      if (out) {
        out->put(&addr, sizeof addr);
        out->put(t_block, kBlockBytes);
      }
      ++*blocks;
    }
  }
  RootPass rp{sum, out, 0};
  for_each_root_locked(root_visit, &rp);
  *roots = rp.count;
}

// The first record other than self that is not DEAD, or nullptr.
Record* another_thread(Record* self) {
  Record* other = nullptr;
  registry().for_each([&](Record* r) {
    if (!other && r != self && r->current_state() != State::Dead) other = r;
  });
  return other;
}

}  // namespace
}  // namespace tl::gc

using namespace tl;
using namespace tl::gc;

extern "C" int tl_save_image(const char* path) {
  TL_REQUIRE_INIT();
  if (!path || !*path) return fail(TL_EINVAL, "tl_save_image: path is %s", path ? "empty" : "NULL");
  Record* self = current_record();
  // DEFECT save_image_while_threads_run: the image is written with other
  // threads running (no single-threaded world): they change the heap
  // between the checksum pass and the write pass, and the image is torn.
  if (!TL_INJECT(save_image_while_threads_run)) {
    if (Record* other = another_thread(self))
      return fail(TL_ESTATE,
                  "tl_save_image: the world is not single-threaded: thread %llu '%s' (tid %lld) is %s; save from a "
                  "fork child (tl_fork_and_save) or once every other thread has exited",
                  static_cast<unsigned long long>(other->id), other->name,
                  static_cast<long long>(other->kernel_tid.load()), state_name(other->current_state()));
  }
  const std::string tmp = std::string(path) + ".tmp." + std::to_string(getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(TL_EINVAL, "tl_save_image: open %s: %s", tmp.c_str(), strerror(errno));
  BlockCopy copy(kBlockBytes / sizeof(uint64_t));  // allocated before any lock is taken
  Heap& h = heap();
  NoStopScope no_stop;  // never stopped holding the heap lock
  lock_ranked(&h.lock, Rank::Heap, "heap");
  lock_ranked(tl::roots_mutex(), Rank::Roots, "roots");
  tl_image_header hdr{};
  std::memcpy(hdr.magic, TL_IMAGE_MAGIC, sizeof TL_IMAGE_MAGIC);
  hdr.version = TL_IMAGE_VERSION;
  hdr.header_bytes = sizeof hdr;
  hdr.block_bytes = kBlockBytes;
  hdr.checksum = kFnvOffset;
  pass(h, &hdr.checksum, nullptr, &hdr.blocks, &hdr.roots, copy);
  hdr.payload_bytes = hdr.blocks * (8 + kBlockBytes) + hdr.roots * 16;
  Writer w{fd, tmp.c_str(), 0};
  w.put(&hdr, sizeof hdr);
  uint64_t blocks = 0, roots = 0;
  pass(h, nullptr, &w, &blocks, &roots, copy);
  unlock_ranked(tl::roots_mutex(), Rank::Roots);
  unlock_ranked(&h.lock, Rank::Heap);
  if (!w.err && fsync(fd) != 0) w.err = errno;
  if (close(fd) != 0 && !w.err) w.err = errno;
  if (w.err) {
    unlink(tmp.c_str());
    return fail(TL_EINVAL, "tl_save_image: write %s: %s", tmp.c_str(), strerror(w.err));
  }
  if (rename(tmp.c_str(), path) != 0) {
    const int e = errno;
    unlink(tmp.c_str());
    return fail(TL_EINVAL, "tl_save_image: rename %s to %s: %s", tmp.c_str(), path, strerror(e));
  }
  return TL_OK;
}

extern "C" int tl_image_check(const char* path, tl_image_header* out) {
  if (!path || !*path) return fail(TL_EINVAL, "tl_image_check: path is %s", path ? "empty" : "NULL");
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(TL_EINVAL, "image %s: cannot open: %s", path, strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st{};
  if (fstat(fd, &st) != 0) return fail(TL_EINVAL, "image %s: fstat: %s", path, strerror(errno));
  auto read_all = [fd](void* p, size_t n) {
    auto* b = static_cast<char*>(p);
    while (n > 0) {
      const ssize_t r = read(fd, b, n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      b += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  };
  tl_image_header h{};
  if (static_cast<uint64_t>(st.st_size) < sizeof h || !read_all(&h, sizeof h))
    return fail(TL_EINVAL, "image %s: truncated: %lld bytes, shorter than its %zu-byte header", path,
                static_cast<long long>(st.st_size), sizeof h);
  if (std::memcmp(h.magic, TL_IMAGE_MAGIC, sizeof TL_IMAGE_MAGIC) != 0)
    return fail(TL_EINVAL, "image %s: bad magic (not a threadlab heap image)", path);
  if (h.version != TL_IMAGE_VERSION)
    return fail(TL_EINVAL, "image %s: version %u, this runtime reads version %u", path, h.version, TL_IMAGE_VERSION);
  if (h.header_bytes != sizeof h || h.block_bytes != TL_IMAGE_BLOCK_BYTES)
    return fail(TL_EINVAL, "image %s: header says %u-byte header and %llu-byte blocks (expected %zu and %u)", path,
                h.header_bytes, static_cast<unsigned long long>(h.block_bytes), sizeof h, TL_IMAGE_BLOCK_BYTES);
  const uint64_t want = h.blocks * (8 + h.block_bytes) + h.roots * 16;
  if (h.blocks > (uint64_t{1} << 32) || h.roots > (uint64_t{1} << 32) || h.payload_bytes != want)
    return fail(TL_EINVAL, "image %s: payload of %llu bytes does not match %llu blocks and %llu roots", path,
                static_cast<unsigned long long>(h.payload_bytes), static_cast<unsigned long long>(h.blocks),
                static_cast<unsigned long long>(h.roots));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint64_t promised = uint64_t{sizeof h} + want;
  if (size != promised)
    return fail(TL_EINVAL, "image %s: %s: %llu bytes, the header promises %llu", path,
                size < promised ? "truncated" : "trailing bytes", static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(promised));
  uint64_t sum = kFnvOffset;
  std::vector<unsigned char> buf(TL_IMAGE_BLOCK_BYTES);
  unsigned char* block = buf.data();
  for (uint64_t i = 0; i < h.blocks; ++i) {
    uint64_t addr = 0;
    if (!read_all(&addr, sizeof addr) || !read_all(block, TL_IMAGE_BLOCK_BYTES))
      return fail(TL_EINVAL, "image %s: read failed in block %llu", path, static_cast<unsigned long long>(i));
    fnv(&sum, &addr, sizeof addr);
    fnv(&sum, block, TL_IMAGE_BLOCK_BYTES);
    Block b;
    std::memcpy(&b, block, sizeof b);
    if (b.magic != kBlockMagic || b.size_class >= 9 || b.cell_bytes != class_bytes(b.size_class) ||
        b.first_offset >= TL_IMAGE_BLOCK_BYTES || b.cells > kMaxCells)
      return fail(TL_EINVAL, "image %s: block %llu (at %#llx) is not a heap block (magic, size class or cells)", path,
                  static_cast<unsigned long long>(i), static_cast<unsigned long long>(addr));
  }
  for (uint64_t i = 0; i < h.roots; ++i) {
    uint64_t words[2];
    if (!read_all(words, sizeof words))
      return fail(TL_EINVAL, "image %s: read failed in root %llu", path, static_cast<unsigned long long>(i));
    fnv(&sum, words, sizeof words);
  }
  if (sum != h.checksum)
    return fail(TL_EINVAL, "image %s: checksum mismatch (header %#llx, content %#llx): the image is corrupt or torn",
                path, static_cast<unsigned long long>(h.checksum), static_cast<unsigned long long>(sum));
  if (out) *out = h;
  return TL_OK;
}
