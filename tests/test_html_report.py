"""The HTML report rendered by a real headless browser (issue 10 item 7):
reports made from real runs — a short passing run, and a failing one with
an injected leak plus an injected deadlock — are loaded in Debian's
chromium (ci/setup base installs it); the DOM must hold the plots' units,
labels and sentences and the failing run's evidence, the page must fetch
nothing, and the screenshot must be a non-blank PNG."""
import html as htmllib
import json
import platform
import re
import shutil
import struct
import subprocess
import zlib

import pytest


def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    if platform.system() == "Darwin":
        pytest.skip("no chromium: ci/setup installs it from Debian only (Homebrew has no chromium formula)")
    pytest.fail("chromium not found: ci/setup base installs it (apt-get install chromium)")


def browser(tmp_path, *args):
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-extensions",
           f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from conftest import Lab
    lab = Lab(tmp_path_factory.mktemp("html"))
    out = {}
    proc = lab("run", "foreign-callback-storm", "--adapter", "reference", "--cycles", "10",
               "--json", str(lab.tmp / "pass.json"), "--html", str(lab.tmp / "pass.html"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out["pass"] = lab.tmp / "pass"
    proc = lab("run", "foreign-callback-storm", "kill-each-state", "--adapter", "reference", "--timeout", "3",
               "--json", str(lab.tmp / "fail.json"), "--html", str(lab.tmp / "fail.html"),
               inject="adopted_record_not_released,kill_keeps_locks")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out["fail"] = lab.tmp / "fail"
    return out


def dom(tmp_path, html):
    proc = browser(tmp_path, "--dump-dom", html.as_uri())
    assert proc.returncode == 0, proc.stderr
    assert "<svg" in proc.stdout, proc.stdout[:2000]
    return proc.stdout


def text_of(markup):
    markup = re.sub(r"<style>.*?</style>", " ", markup, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", markup)))


def sentences(page):
    """(counter, sentence) for every plot, from its figcaption."""
    out = []
    for cap in re.findall(r"<figcaption>(.*?)</figcaption>", page, re.S):
        name = text_of(re.search(r"<b>(.*?)</b>", cap).group(1)).strip()
        why = re.findall(r'<span class="why">(.*?)</span>', cap, re.S)
        assert len(why) == 1, cap
        out.append((name, text_of(why[0]).strip()))
    return out


def test_passing_run_plots_say_why_in_units(reports, tmp_path):
    doc = json.loads(reports["pass"].with_suffix(".json").read_text())
    page = dom(tmp_path, reports["pass"].with_suffix(".html"))
    text = text_of(page)
    plots = sentences(page)
    assert plots and len(plots) == page.count("<figure")  # one sentence per plot
    for name, why in plots:
        assert why.startswith(("Pass: ", "Not judged: ", "No verdict: ")), (name, why)
    assert "warm-up" in text and "not judged" in text
    assert re.search(r"\d MiB", text)
    # Every counter is either plotted or named among those that never moved.
    unchanged = text[text.index("Unchanged in every cycle: "):]
    for run in doc["runs"]:
        for name in run["counters"]:
            assert name in dict(plots) or f" {name} (" in unchanged, name
    # No raw byte counts: every byte counter's values appear only in units.
    for run in doc["runs"]:
        for name, series in run["counters"].items():
            if series["unit"] == "bytes":
                for v in series["values"]:
                    if v >= 1024:
                        assert str(int(v)) not in text, (name, v)


def test_failing_run_evidence_is_readable(reports, tmp_path):
    doc = json.loads(reports["fail"].with_suffix(".json").read_text())
    verdicts = {r["scenario"]: r for r in doc["runs"]}
    assert verdicts["foreign-callback-storm"]["verdict"] == "leak"
    assert verdicts["kill-each-state"]["verdict"] == "deadlock"
    page = dom(tmp_path, reports["fail"].with_suffix(".html"))
    text = text_of(page)
    leaking = {l["counter"] for l in verdicts["foreign-callback-storm"]["evidence"]["leaks"]}
    plots = dict(sentences(page))
    assert "rt_records_adopted" in leaking
    for name in leaking:
        assert plots[name].startswith("LEAK: after warm-up it grew "), plots[name]
        assert "threshold" in plots[name] and "steps" in plots[name]
    assert "leak threshold 0.30/cycle" in text and "leak threshold 4.00 KiB/cycle" in text
    assert "rt_records_adopted grew " in text and "after 3 warm-up cycle(s)" in text
    # The deadlock's dump: reason, record state, what it waits on, backtrace.
    dl = verdicts["kill-each-state"]
    assert dl["reason"] in text
    assert "thread dump (watchdog)" in text
    rec = next(t["record"] for t in dl["evidence"]["dump"]["threads"] if t["record"])
    assert rec["state"] in text and rec["waiting_on"] in text
    frames = [f for t in dl["evidence"]["dump"]["threads"] for f in t["backtrace"]]
    assert frames and any(f.split(" ", 2)[-1] in text for f in frames)


def test_page_fetches_nothing(reports):
    for r in reports.values():
        html = r.with_suffix(".html").read_text()
        assert "<script" not in html and "<link" not in html and "@import" not in html
        urls = set(re.findall(r"(?:https?|ftp)://[^\s'\"<>)]+", html))
        assert urls <= {"http://www.w3.org/2000/svg"}, urls


def png_pixels_vary(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    return size, len(set(raw[: min(len(raw), 4_000_000)])) > 8


def test_screenshot_renders(reports, tmp_path):
    shot = tmp_path / "fail.png"
    proc = browser(tmp_path, "--hide-scrollbars", "--window-size=1280,2000", f"--screenshot={shot}",
                   reports["fail"].with_suffix(".html").as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr
    size, varied = png_pixels_vary(shot.read_bytes())
    assert size == (1280, 2000)
    assert varied, "the screenshot is blank"
