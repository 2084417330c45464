"""threadlab decode / encode (issue 14 item 1): op programs between text and
bytes. A round trip is the identity on canonical text; malformed text names
FILE:LINE:COLUMN and exits 2; any bytes decode (exit 0)."""
import os
import random
import subprocess

from conftest import ROOT

CORPUS = ROOT / "fuzz" / "corpus"


def run(lab, *args, stdin=None):
    """lab(*args) with bytes in and out."""
    return subprocess.run([lab.bin, *args], input=stdin, capture_output=True, env=lab.env, timeout=60)


def test_encode_decode_round_trip_is_identity_on_canonical_text(lab):
    files = sorted(CORPUS.glob("*.txt"))
    assert len(files) >= 12
    for src in files:
        # The corpus files carry comments; their canonical text is what decode prints.
        canon = run(lab, "decode", str(src))
        assert canon.returncode == 0, canon.stderr
        text = lab.tmp / (src.stem + ".txt")
        text.write_bytes(canon.stdout)
        binary = lab.tmp / (src.stem + ".bin")
        enc = run(lab, "encode", str(text), "-o", str(binary))
        assert enc.returncode == 0, enc.stderr
        data = binary.read_bytes()
        assert data and data[0] >= 0x80  # never mistaken for text
        back = run(lab, "decode", str(binary))
        assert back.returncode == 0, back.stderr
        assert back.stdout == canon.stdout, src.name
    assert not [p for p in lab.tmp.iterdir() if ".tmp." in p.name]  # atomic writes leave nothing


def test_stdin_and_stdout(lab):
    enc = run(lab, "encode", stdin=b"t5 = spawn\nkill t5 (fail_nth: 2)\n")
    assert enc.returncode == 0, enc.stderr
    dec = run(lab, "decode", "-", stdin=enc.stdout)
    assert dec.returncode == 0, dec.stderr
    assert dec.stdout == b"t1 = spawn\nkill t1 (fail_nth: 2)\n"


def test_malformed_program_names_line_and_column(lab):
    bad = lab.tmp / "bad.txt"
    bad.write_text("t1 = spawn\n# comment\n  fork {\n    join t1\n  }\n")
    for verb in ["encode", "decode"]:
        proc = run(lab, verb, str(bad), "-o", str(lab.tmp / "out"))
        assert proc.returncode == 2, proc.stderr
        err = proc.stderr.decode()
        assert f"{bad}:4:10:" in err, err
        assert "fork body" in err, err
        assert not (lab.tmp / "out").exists()


def test_unknown_op_and_stray_brace(lab):
    for text, where, what in [("yield\nfrobnicate\n", ":2:1:", "unknown op"), ("collect\n}\n", ":2:1:", "stray")]:
        src = lab.tmp / "p.txt"
        src.write_text(text)
        proc = run(lab, "encode", str(src))
        assert proc.returncode == 2
        assert where in proc.stderr.decode() and what in proc.stderr.decode(), proc.stderr


def test_missing_file_exits_2_naming_it(lab):
    missing = lab.tmp / "no-such-program.txt"
    for verb in ["decode", "encode"]:
        proc = run(lab, verb, str(missing))
        assert proc.returncode == 2
        assert str(missing) in proc.stderr.decode()


def test_unwritable_output_exits_2(lab):
    proc = run(lab, "encode", str(CORPUS / "overflow.txt"), "-o", str(lab.tmp / "no-dir" / "x.bin"))
    assert proc.returncode == 2
    assert "no-dir" in proc.stderr.decode()


def test_encode_refuses_binary_input(lab):
    src = lab.tmp / "bin"
    src.write_bytes(b"yield\n\x90\x00")
    proc = run(lab, "encode", str(src))
    assert proc.returncode == 2
    assert f"{src}:2:1:" in proc.stderr.decode(), proc.stderr


def test_random_bytes_decode(lab):
    rng = random.Random(14)
    for i in range(40):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        if all(0x20 <= b < 0x7F or 9 <= b <= 13 for b in data):
            data += b"\x80"  # keep it binary
        src = lab.tmp / f"r{i}.bin"
        src.write_bytes(data)
        out = lab.tmp / f"r{i}.txt"
        proc = run(lab, "decode", str(src), "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        # What decode prints is canonical text: encode takes it back.
        again = run(lab, "encode", str(out))
        assert again.returncode == 0, again.stderr
        back = run(lab, "decode", "-", stdin=again.stdout)
        assert back.stdout == out.read_bytes()
    empty = lab.tmp / "empty"
    empty.write_bytes(b"")
    proc = run(lab, "decode", str(empty))
    assert proc.returncode == 0 and proc.stdout == b""
