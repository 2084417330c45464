// maps_linux_test.cpp — the maps tally leaves the brk heap out of the bytes,
// labelled by the kernel or, as qemu-user shows it, unlabelled but holding
// the program break.
#include <gtest/gtest.h>

#include <sstream>

#include "probes/maps_linux.h"

using threadlab::BrkHint;
using threadlab::tally_maps;

TEST(MapsTally, KernelLabelledHeapIsListedNotSummed) {
  std::istringstream in(
      "55d0a0000000-55d0a0001000 r-xp 00000000 fe:00 123 /bin/prog\n"
      "55d0a1000000-55d0a1400000 rw-p 00000000 00:00 0 [heap]\n"
      "7f0000000000-7f0000010000 rw-p 00000000 00:00 0\n");
  std::map<std::string, std::string> items;
  auto t = tally_maps(in, {}, &items);
  EXPECT_TRUE(t.ok);
  EXPECT_EQ(t.count, 3);
  EXPECT_EQ(t.bytes, 0x1000 + 0x10000);
  EXPECT_EQ(items.size(), 3u);
}

TEST(MapsTally, QemuUnlabelledHeapHoldingTheBreakIsNotSummed) {
  // qemu-user's emulated /proc/self/maps: bss and brk heap are one
  // unlabelled mapping after the executable.
  const char* text =
      "5500000000-5500001000 r-xp 00000000 fe:00 1 /tmp/prog\n"
      "5500020000-5500021000 rw-p 00010000 fe:00 1 /tmp/prog\n"
      "5500021000-55009c0000 rw-p 00000000 00:00 0\n"
      "5502022000-5502822000 rw-p 00000000 00:00 0 [stack]\n";
  std::istringstream in(text);
  std::map<std::string, std::string> items;
  auto t = tally_maps(in, {0x55009c0000, /*is_end=*/true}, &items);
  EXPECT_EQ(t.count, 4);
  EXPECT_EQ(t.bytes, 0x1000 + 0x1000 + 0x800000);
  EXPECT_NE(items["5500021000-55009c0000"].find("heap"), std::string::npos);

  // Given start_brk instead (another process), the same mapping is found.
  std::istringstream by_start(text);
  EXPECT_EQ(tally_maps(by_start, {0x5500021000, false}, nullptr).bytes, 0x1000 + 0x1000 + 0x800000);

  // A break at the very end of a mapping never claims the next one.
  std::istringstream next("10000-20000 rw-p 0 0:0 0\n20000-30000 rw-p 0 0:0 0\n");
  EXPECT_EQ(tally_maps(next, {0x20000, true}, nullptr).bytes, 0x10000);

  // Without the break the same mapping counts, as any anonymous one does.
  std::istringstream again(text);
  EXPECT_EQ(tally_maps(again, {}, nullptr).bytes, 0x1000 + 0x1000 + 0x99f000 + 0x800000);
}

TEST(MapsTally, AMalformedLineIsReportedNotGuessed) {
  std::istringstream in("zz-10 rw-p 0 0:0 0\n10-20 rw-p 0 0:0 0\n");
  auto t = tally_maps(in, {}, nullptr);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.count, 1);
  EXPECT_EQ(t.bytes, 0x10);
}

TEST(MapsTally, MallocArenaHeapsAreToldApartFromThreadMappings) {
  // Two arena heaps (one partly grown, one grown in two steps), then a
  // thread stack with its guard page, and a look-alike that does not fill
  // its 64 MiB: only the exact shape is an arena heap.
  std::istringstream in(
      "7f9a70000000-7f9a70021000 rw-p 00000000 00:00 0\n"
      "7f9a70021000-7f9a74000000 ---p 00000000 00:00 0\n"
      "7f9a74000000-7f9a74100000 rw-p 00000000 00:00 0\n"
      "7f9a74100000-7f9a74200000 ---p 00000000 00:00 0\n"
      "7f9a74200000-7f9a78000000 ---p 00000000 00:00 0\n"
      "7f9a80000000-7f9a80001000 ---p 00000000 00:00 0\n"
      "7f9a80001000-7f9a80801000 rw-p 00000000 00:00 0\n"
      "7f9a84000000-7f9a84021000 rw-p 00000000 00:00 0\n"
      "7f9a84021000-7f9a87000000 ---p 00000000 00:00 0\n");
  std::map<std::string, std::string> items;
  auto t = tally_maps(in, {}, &items);
  EXPECT_TRUE(t.ok);
  EXPECT_EQ(t.arena_heaps, 2);
  EXPECT_EQ(t.count, 4);
  EXPECT_EQ(t.bytes, 0x1000 + 0x800000 + (0x87000000 - 0x84000000));
  EXPECT_EQ(items.size(), 9u);
  EXPECT_NE(items["7f9a74100000-7f9a74200000"].find("[malloc arena]"), std::string::npos);
  EXPECT_EQ(items["7f9a80001000-7f9a80801000"].find("[malloc arena]"), std::string::npos);
  EXPECT_EQ(items["7f9a84000000-7f9a84021000"].find("[malloc arena]"), std::string::npos);
}

TEST(MapsTally, AFileMappingOnABoundaryIsNotAnArena) {
  std::istringstream in(
      "7f9a70000000-7f9a70021000 rw-p 00000000 fe:00 9 /tmp/data\n"
      "7f9a70021000-7f9a74000000 ---p 00000000 00:00 0\n");
  auto t = tally_maps(in, {}, nullptr);
  EXPECT_EQ(t.arena_heaps, 0);
  EXPECT_EQ(t.count, 2);
}
