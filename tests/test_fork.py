"""Fork handling and fork-to-dump (issue 13): the fork scenarios pass on
both reference adapters; `threadlab image check FILE` accepts a good heap
image and rejects a corrupted, truncated, mis-versioned, foreign or missing
one with exit 1 and a message naming what is wrong.

Images here are written from the format runtime.h documents
(tl_image_header, then blocks, then roots, FNV-1a 64 over the payload), so
the checker is tested against the specification, not against itself."""
import json
import struct

import pytest

BLOCK_BYTES = 65536
BLOCK_MAGIC = 0x4743426C6F636B21
HEADER = struct.Struct("<8sIIQQQQQ")  # magic, version, header_bytes, block_bytes, blocks, roots, payload, checksum


def fnv1a64(data, h=0xCBF29CE484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def image(blocks=2, roots=1, version=1):
    payload = bytearray()
    for i in range(blocks):
        block = bytearray(BLOCK_BYTES)
        # Block header: magic, size class 2 (64-byte cells), cell_bytes, cells, first_offset.
        struct.pack_into("<QIIII", block, 0, BLOCK_MAGIC, 2, 64, 1000, 128)
        block[4096:4096 + 16] = bytes(range(i, i + 16))
        payload += struct.pack("<Q", 0x7F0000000000 + i * BLOCK_BYTES) + block
    for r in range(roots):
        payload += struct.pack("<QQ", 0x5000 + 8 * r, 0x7F0000000000 + 4096)
    header = HEADER.pack(b"TLIMAGE\0", version, HEADER.size, BLOCK_BYTES, blocks, roots, len(payload),
                         fnv1a64(payload))
    return bytes(header + payload)


def check(lab, path):
    return lab("image", "check", str(path))


def test_the_fork_scenarios_are_listed_with_what_they_catch(lab):
    doc = json.loads(lab("list", "--json").stdout)
    fork = {s["name"]: s for s in doc["scenarios"] if "fork" in s["tags"]}
    assert {"fork-busy", "fork-storm", "fork-to-dump"} <= set(fork), sorted(fork)
    caught = {c["defect"] for s in fork.values() for c in s["catches"]}
    assert caught == {"child_keeps_vanished_records", "child_lock_not_reinitialized",
                      "save_image_while_threads_run"}, caught


@pytest.mark.parametrize("adapter", ["reference", "reference-hybrid"])
def test_the_fork_tag_passes(lab, validate, adapter):
    proc, doc = lab.run_json("run", "--tag", "fork", "--adapter", adapter, "--cycles", "2")
    validate(doc)
    verdicts = {r["scenario"]: r["verdict"] for r in doc["runs"]}
    assert proc.returncode == 0 and set(verdicts.values()) == {"pass"}, (verdicts, proc.stdout[-2000:])


def test_a_good_image_checks(lab, tmp_path):
    good = tmp_path / "good.img"
    good.write_bytes(image())
    proc = check(lab, good)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok" in proc.stdout


@pytest.mark.parametrize("damage, words", [
    ("flip", "checksum mismatch"),
    ("truncate", "truncated"),
    ("header-only", "truncated"),
    ("tiny", "truncated"),
    ("trailing", "trailing bytes"),
    ("version", "version 7"),
    ("magic", "bad magic"),
    ("block", "not a heap block"),
])
def test_a_bad_image_is_exit_1_naming_what_is_wrong(lab, tmp_path, damage, words):
    data = bytearray(image())
    if damage == "flip":
        data[HEADER.size + 8 + 4096 + 3] ^= 0x10
    elif damage == "truncate":
        data = data[:-100]
    elif damage == "header-only":
        data = data[:HEADER.size]
    elif damage == "tiny":
        data = data[:12]
    elif damage == "trailing":
        data += b"x"
    elif damage == "version":
        data = bytearray(image(version=7))
    elif damage == "magic":
        data[0:8] = b"ELF\0\0\0\0\0"
    elif damage == "block":
        struct.pack_into("<Q", data, HEADER.size + 8, 0x1234)  # block magic gone; checksum recomputed below
        payload = bytes(data[HEADER.size:])
        struct.pack_into("<Q", data, HEADER.size - 8, fnv1a64(payload))
    bad = tmp_path / f"{damage}.img"
    bad.write_bytes(bytes(data))
    proc = check(lab, bad)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "BAD" in proc.stderr and words in proc.stderr and str(bad) in proc.stderr, proc.stderr


def test_a_missing_image_is_exit_1_and_no_file_is_a_usage_error(lab, tmp_path):
    proc = check(lab, tmp_path / "nowhere.img")
    assert proc.returncode == 1 and "cannot open" in proc.stderr, proc.stderr
    proc = lab("image", "check")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    proc = lab("image", "check", str(tmp_path / "x.img"), "--adapter", "pthread")
    assert proc.returncode == 2 and "no heap images" in proc.stderr, proc.stderr
