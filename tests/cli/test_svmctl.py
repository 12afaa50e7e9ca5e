#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""svmctl's commands against a fake handler (tests/cli/fake_handler.py).

Usage: test_svmctl.py SVMCTL [LABEL]
Runs every test below against the svmctl binary SVMCTL, prints one line per
test and closes with "LABEL: N passed, N failed" (LABEL defaults to
"commands"). Any sanitizer report on svmctl's stderr fails its test.
"""

import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_handler import HANG, FakeHandler, FakeSvm, error, status  # noqa: E402

SVMCTL = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/cli/svmctl"
LABEL = sys.argv[2] if len(sys.argv) > 2 else "commands"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
FAST = ["--interval", "0.02"]

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Env:
    """A scratch directory with a store layout and a fake handler on control.sock in it."""

    def __init__(self, *luns):
        self.dir = tempfile.mkdtemp(prefix="svmctl-cli.")
        self.sock = os.path.join(self.dir, "control.sock")
        for d in ("src", "dst", "state"):
            os.mkdir(os.path.join(self.dir, d))
        self.src = self.path("src/lun0.img")
        with open(self.src, "wb") as f:
            f.write(b"\1" * 65536)
        self.svm = FakeSvm(*(luns or (status("lun0", self.src),)))
        self.fake = FakeHandler(self.sock, self.svm)

    def path(self, rel):
        return os.path.join(self.dir, rel)

    def run(self, *args, env=None, tty=False, timeout=30, sock=True):
        argv = [SVMCTL, *args] + (["--socket", self.sock] if sock else [])
        return run(argv, env=env, tty=tty, timeout=timeout)

    @property
    def requests(self):
        return self.fake.requests

    def close(self):
        self.fake.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def run(argv, env=None, tty=False, timeout=30, preexec=None):
    """Run argv; returns (exit status, stdout, stderr). tty: stdout is a 100-column terminal."""
    full_env = dict(os.environ)
    full_env.pop("SVM_RUN_DIR", None)
    full_env.update(env or {})
    if not tty:
        p = subprocess.run(argv, capture_output=True, text=True, env=full_env,
                           timeout=timeout, preexec_fn=preexec)
        rc, out, err = p.returncode, p.stdout, p.stderr
    else:
        import fcntl
        import struct
        import termios
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        p = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE, env=full_env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        err = p.stderr.read().decode()
        rc = p.wait(timeout)
        out = b"".join(chunks).decode()
    for mark in SANITIZER_MARKS:
        assert mark not in err, "sanitizer report:\n" + err
    return rc, out, err


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def expect(result, rc, out=(), err=()):
    """result's exit status is rc, and its stdout/stderr hold each string given."""
    got_rc, got_out, got_err = result
    check(got_rc == rc, "exit %d, expected %d\nstdout: %s\nstderr: %s"
          % (got_rc, rc, got_out, got_err))
    for s in ([out] if isinstance(out, str) else out):
        check(s in got_out, "stdout lacks %r:\n%s" % (s, got_out))
    for s in ([err] if isinstance(err, str) else err):
        check(s in got_err, "stderr lacks %r:\n%s" % (s, got_err))


def with_env(*luns):
    """Decorator: the test gets a fresh Env (luns: STATUS factories of the Env's dir, or none)."""
    def wrap(fn):
        def runner():
            e = Env()
            try:
                if luns:
                    e.svm.luns = {}
                    for make in luns:
                        st = make(e)
                        e.svm.luns[st["lun"]] = st
                fn(e)
            finally:
                e.close()
        runner.__name__ = fn.__name__
        return runner
    return wrap


def copying(e):
    return status("lun1", e.path("src/lun1.img"), phase="copying",
                  destination=e.path("dst/lun1.img"), mirror="6001405a-6001405b-svmmirror",
                  bytes_copied=32 << 20, bytes_skipped=4 << 20, bytes_overwritten=4 << 20,
                  bytes_total=64 << 20, rate=100,
                  movers={"bounce": 0, "kernel": 32 << 20, "reflink": 0},
                  mirrored_writes=3, waited_writes=1, started=1700000000, elapsed_ms=83000)


def idle0(e):
    return status("lun0", e.src)


def with_dst(e):
    return status("lun0", e.src, dst=e.path("dst/lun0.img"), destination=e.path("dst/lun0.img"))


# ---- help, version, usage --------------------------------------------------------------------

@test
def help_and_version():
    expect(run([SVMCTL, "--help"]), 0, ["Commands:", "migrate LUN", "doctor", "--socket"])
    expect(run([SVMCTL, "migrate", "--help"]), 0,
           ["--to=PATH", "--mover=MOVER", "--rate=MIB/S", "--keep-source", "--wait", "--interval"])
    expect(run([SVMCTL, "status", "--help"]), 0, "--json")
    expect(run([SVMCTL, "abort", "--help"]), 0, "--keep-dest")
    expect(run([SVMCTL, "list", "-h"]), 0, "--timeout")
    expect(run([SVMCTL, "--version"]), 0, "svmctl (tcmu-svm) ")


@test
def usage_errors():
    expect(run([SVMCTL]), 2, err="no command given")
    expect(run([SVMCTL, "frob"]), 2, err="unknown command 'frob'")
    expect(run([SVMCTL, "list", "--bogus"]), 2, err="--bogus")
    expect(run([SVMCTL, "list", "extra"]), 2, err="list takes no arguments")
    expect(run([SVMCTL, "status", "a", "b"]), 2, err="at most one LUN")
    expect(run([SVMCTL, "migrate"]), 2, err="migrate takes one LUN")
    expect(run([SVMCTL, "abort"]), 2, err="abort takes one LUN")
    expect(run([SVMCTL, "list", "--timeout", "0"]), 2, err="bad --timeout")
    expect(run([SVMCTL, "list", "--timeout", "soon"]), 2, err="timeout")
    expect(run([SVMCTL, "status", "--json", "--to", "/x"]), 2, err="--to")  # not status's


# ---- list -------------------------------------------------------------------------------------

@test
@with_env(idle0, copying)
def list_table(e):
    rc, out, err = e.run("list")
    expect((rc, out, err), 0)
    lines = out.splitlines()
    check(lines[0].split() == ["LUN", "PHASE", "SOURCE", "DESTINATION", "MIRROR"], lines[0])
    check(lines[1].split() == ["lun0", "idle", e.src, "-", "-"], lines[1])
    check(lines[2].split() == ["lun1", "copying", e.path("src/lun1.img"), e.path("dst/lun1.img"),
                               "6001405a-6001405b-svmmirror"], lines[2])
    check(len(lines) == 3, out)
    # columns line up
    check(lines[0].index("PHASE") == lines[1].index("idle") == lines[2].index("copying"), out)
    check(e.requests == ["list"], e.requests)


@test
@with_env()
def list_empty(e):
    e.svm.luns = {}
    expect(e.run("list"), 0, "no user:svm LUNs are open")


@test
@with_env()
def list_malformed(e):
    e.fake.answer = lambda line: "{\"luns\":[{\"lun\":\"a\"}]}"  # no phase
    expect(e.run("list"), 3, err=["malformed answer", "without \"lun\" or \"phase\""])
    e.fake.answer = lambda line: "{\"luns\":7}"
    expect(e.run("list"), 3, err="no \"luns\" list")
    e.fake.answer = lambda line: "<html>"
    expect(e.run("list"), 3, err="malformed answer")


# ---- status -----------------------------------------------------------------------------------

@test
@with_env(copying)
def status_human(e):
    rc, out, err = e.run("status", "lun1")
    expect((rc, out, err), 0, [
        "lun1: copying, 56.2% (32.0 MiB copied, 4.0 MiB skipped, of 64.0 MiB)",
        "overwritten:     4.0 MiB of the skipped bytes: chunks host writes covered whole, "
        "not copied",
        "source:          " + e.path("src/lun1.img"),
        "destination:     " + e.path("dst/lun1.img"),
        "mirror device:   6001405a-6001405b-svmmirror",
        "mover:           auto (moved: bounce 0 B, kernel 32.0 MiB, reflink 0 B)",
        "rate limit:      100 MiB/s",
        "host writes:     3 mirrored to both stores, 1 waited for the copy",
        "ran 1:23",
    ])
    check(e.requests == ["status lun1"], e.requests)


@test
@with_env(idle0, copying)
def status_all_human(e):
    rc, out, err = e.run("status")
    expect((rc, out, err), 0, ["lun0: idle\n", "lun1: copying"])
    check("mover:" not in out.split("lun1:")[0], "an idle LUN shows no migration details:\n" + out)
    check(e.requests == ["list"], e.requests)


@test
@with_env(with_dst)
def status_idle_with_dst(e):
    expect(e.run("status", "lun0"), 0, ["lun0: idle", "destination:     " + e.path("dst/lun0.img")])


@test
@with_env(copying)
def status_json_one(e):
    rc, out, err = e.run("status", "lun1", "--json")
    expect((rc, out, err), 0)
    check(out.count("\n") == 1 and out.endswith("\n"), "one line: %r" % out)
    got = json.loads(out)
    want = e.svm.luns["lun1"]
    check(got == want, "%s\n!=\n%s" % (got, want))
    check(list(got) == list(want), "the handler's field order is kept")
    check(got["movers"] == {"bounce": 0, "kernel": 32 << 20, "reflink": 0}, got["movers"])


@test
@with_env(idle0, copying)
def status_json_all(e):
    rc, out, err = e.run("status", "--json")
    expect((rc, out, err), 0)
    lines = out.splitlines()
    check(len(lines) == 2, out)
    check([json.loads(l) for l in lines] == list(e.svm.luns.values()), out)
    check(e.requests == ["list"], e.requests)


@test
@with_env()
def status_json_required_fields(e):
    # a handler that leaves fields out: the at-least fields appear, as null; extra ones pass
    e.svm.luns = {"x": {"lun": "x", "phase": "idle", "source": "/a.img", "extra": [1, {"k": True}]}}
    rc, out, err = e.run("status", "x", "--json")
    expect((rc, out, err), 0)
    got = json.loads(out)
    for k in ("lun", "phase", "bytes_copied", "bytes_total", "bytes_skipped", "mover", "rate",
              "mirrored_writes", "waited_writes", "source", "destination", "error"):
        check(k in got, "missing %s: %s" % (k, out))
    check(got["extra"] == [1, {"k": True}] and got["source"] == "/a.img", out)
    check(got["rate"] is None and got["error"] is None, out)


@test
@with_env()
def status_json_escapes(e):
    msg = "copy failed: \"disk\" full\n\tat byte 5 \\ caf\u00e9 \u20ac \U0001F600 \x01"
    e.svm.luns = {"x": status("x", "/a b/\u00e9.img", phase="failed", error=msg)}
    rc, out, err = e.run("status", "x", "--json")
    expect((rc, out, err), 0)
    check(json.loads(out)["error"] == msg, out)
    check(json.loads(out)["source"] == "/a b/\u00e9.img", out)
    # the human form prints the decoded text
    expect(e.run("status", "x"), 0, "error:           " + msg)


@test
@with_env()
def status_errors(e):
    expect(e.run("status", "nosuch"), 1, err="no svm LUN named 'nosuch'")
    expect(e.run("status", "a b"), 2, err="white space")
    expect(e.run("status", "a/b"), 2, err="not a LUN name")
    check(e.requests == ["status nosuch"], e.requests)
    e.fake.answer = lambda line: "{\"lun\":\"x\"}"
    expect(e.run("status", "x"), 3, err="not a STATUS")


# ---- migrate ----------------------------------------------------------------------------------

@test
@with_env()
def migrate_started(e):
    to = e.path("dst/lun0.img")
    rc, out, err = e.run("migrate", "lun0", "--to", to)
    expect((rc, out, err), 0, "lun0: migration started: %s -> %s (mover auto, no rate limit)"
           % (e.src, to))
    check(e.requests == ["status lun0", "migrate lun0 to=%s mover=auto rate=0 keep_source=0" % to],
          e.requests)


@test
@with_env()
def migrate_options(e):
    to = e.path("dst/lun0.img")
    rc, out, err = e.run("migrate", "lun0", "--to", to, "--mover", "kernel", "--rate", "100",
                         "--keep-source")
    expect((rc, out, err), 0, "mover kernel, at most 100 MiB/s")
    check(e.requests[-1] == "migrate lun0 to=%s mover=kernel rate=100 keep_source=1" % to,
          e.requests)
    for mover in ("auto", "bounce", "reflink"):
        e.svm.luns["lun0"]["phase"] = "idle"
        expect(e.run("migrate", "lun0", "--to", to, "--mover", mover, "--rate", "0"), 0)
        check(e.requests[-1] == "migrate lun0 to=%s mover=%s rate=0 keep_source=0" % (to, mover),
              e.requests)


@test
@with_env(with_dst)
def migrate_to_defaults_to_dst(e):
    expect(e.run("migrate", "lun0"), 0, "migration started")
    check(e.requests == ["status lun0", "migrate lun0 to=%s mover=auto rate=0 keep_source=0"
                         % e.path("dst/lun0.img")], e.requests)


@test
@with_env()
def migrate_empty_file_destination(e):
    to = e.path("dst/empty.img")
    open(to, "w").close()
    expect(e.run("migrate", "lun0", "--to", to), 0)
    check(e.requests[-1].startswith("migrate lun0 to=%s " % to), e.requests)


@test
@with_env()
def migrate_no_destination(e):
    expect(e.run("migrate", "lun0"), 2, err="lun0 has no destination: its cfgstring has no dst=")
    check(e.requests == ["status lun0"], e.requests)


def refused_before_handler(e, args, msg):
    rc, out, err = e.run(*args)
    expect((rc, out, err), 2, err=msg)
    check(e.fake.connections == 0 and e.requests == [],
          "%s reached the handler: %s" % (args, e.requests))


@test
@with_env()
def migrate_refusals_local(e):
    """Each is refused by svmctl with exit 2 before it connects to the handler at all."""
    full = e.path("dst/full.img")
    with open(full, "wb") as f:
        f.write(b"x" * 4096)
    os.symlink("/nonexistent/target.img", e.path("dst/dangling"))
    cases = [
        (["--to", "rel/lun0.img"], "is a relative path"),
        (["--to", "lun0.img"], "is a relative path"),
        (["--to", e.path("nosuch/lun0.img")], "does not exist: create it first"),
        (["--to", e.path("dst")], "is a directory"),
        (["--to", e.path("dst/dangling")], "symbolic link to a file that does not exist"),
        (["--to", "/dev/null"], "not a regular file or a block device"),
        (["--to", e.path("dst/a,wce=no")], "holds a ','"),
        (["--to", e.path("dst/a;b")], "holds a ';'"),
        (["--to", e.path("dst/a b")], "white space"),
        (["--to", e.path("dst/x.img"), "--mover", "fast"], "unknown mover 'fast'"),
        (["--to", e.path("dst/x.img"), "--mover", ""], "unknown mover ''"),
        (["--to", e.path("dst/x.img"), "--rate", "-1"], "bad rate '-1'"),
        (["--to", e.path("dst/x.img"), "--rate", "abc"], "bad rate 'abc'"),
        (["--to", e.path("dst/x.img"), "--rate", "1.5"], "bad rate '1.5'"),
        (["--to", e.path("dst/x.img"), "--rate", "10M"], "bad rate '10M'"),
        (["--to", e.path("dst/x.img"), "--rate", ""], "bad rate ''"),
        (["--to", e.path("dst/x.img"), "--rate", "99999999999999999999"], "bad rate"),
        (["--to", e.path("dst/x.img"), "--interval", "0"], "bad --interval"),
    ]
    for args, msg in cases:
        refused_before_handler(e, ["migrate", "lun0", *args], msg)
    refused_before_handler(e, ["migrate", "a b", "--to", e.path("dst/x.img")], "white space")
    # a file holding data may be the LUN's own source: refused once status says it is not
    expect(e.run("migrate", "lun0", "--to", full), 2, err="exists and is not empty (4096 bytes)")
    check(e.requests == ["status lun0"], e.requests)


@test
@with_env()
def migrate_refusals_is_source(e):
    """The destination is the source, also through symlinks and hard links: the handler hears
    one status request (svmctl learns the source from it) and never the migrate."""
    src = e.path("src/empty0.img")  # an empty store passes the emptiness check, so this one shows
    open(src, "w").close()
    e.svm.luns = {"empty0": status("empty0", src)}
    os.symlink(src, e.path("dst/sym.img"))
    os.link(src, e.path("dst/hard.img"))
    for to in (src, e.path("dst/sym.img"), e.path("dst/hard.img"), e.path("src/../src/empty0.img")):
        e.fake.requests.clear()
        expect(e.run("migrate", "empty0", "--to", to), 2, err="is the LUN's source store")
        check(e.requests == ["status empty0"], e.requests)
    # a source holding data (every live LUN's): named as the source, never "not empty"
    full = e.path("src/full0.img")
    with open(full, "wb") as f:
        f.write(b"x" * 4096)
    e.svm.luns = {"full0": status("full0", full)}
    os.symlink(full, e.path("dst/fullsym.img"))
    for to in (full, e.path("dst/fullsym.img"), e.path("src/./full0.img")):
        e.fake.requests.clear()
        rc, out, err = e.run("migrate", "full0", "--to", to)
        expect((rc, out, err), 2, err="is the LUN's source store")
        check("not empty" not in err and "remove it" not in err, err)
        check(e.requests == ["status full0"], e.requests)
    # a source that svmctl cannot see (another mount namespace): compared by name
    e.svm.luns = {"gone": status("gone", e.path("dst/gone.img"))}
    e.fake.requests.clear()
    expect(e.run("migrate", "gone", "--to", e.path("dst/../dst/gone.img")), 2,
           err="is the LUN's source store")
    check(e.requests == ["status gone"], e.requests)


@test
@with_env()
def migrate_refusals_default_dst(e):
    """--to taken from dst=: checked the same way once status names it."""
    os.symlink(e.src, e.path("dst/sym.img"))
    full = e.path("dst/full.img")
    with open(full, "wb") as f:
        f.write(b"x")
    for dst, msg in ((e.path("dst/sym.img"), "is the LUN's source store '%s' (another name for it)"
                      % e.src),
                     (full, "exists and is not empty"),
                     (e.path("nosuch/x.img"), "does not exist")):
        e.svm.luns["lun0"]["dst"] = dst
        e.fake.requests.clear()
        expect(e.run("migrate", "lun0"), 2, err=msg)
        check(e.requests == ["status lun0"], e.requests)


@test
@with_env(idle0, copying)
def migrate_handler_refuses(e):
    to = e.path("dst/x.img")
    # the handler is authoritative: unknown LUN, already running, too small...
    expect(e.run("migrate", "nosuch", "--to", to), 1, err="no svm LUN named 'nosuch'")
    check(e.requests == ["status nosuch"], e.requests)
    expect(e.run("migrate", "lun1", "--to", to), 1, err="a migration of lun1 is already running")
    check(e.requests[-1].startswith("migrate lun1 "), e.requests)
    e.svm.migrate_error = error("destination '%s' holds 4096 bytes, less than the LUN's 67108864"
                                % to, 28)
    expect(e.run("migrate", "lun0", "--to", to), 1, err="less than the LUN's 67108864")
    e.svm.migrate_error = None
    e.fake.answer = lambda line: (json.dumps(e.svm.luns["lun0"]) if line.startswith("status")
                                  else "{\"ok\":true}")
    expect(e.run("migrate", "lun0", "--to", to), 3, err="not a STATUS")


def progress_to(e, final, **fields):
    to = e.path("dst/lun0.img")
    steps = [dict(bytes_copied=16 << 20), dict(bytes_copied=32 << 20, bytes_skipped=8 << 20),
             dict(bytes_copied=56 << 20, bytes_skipped=8 << 20, phase="switching")]
    last = dict(phase=final, **fields)
    if final == "done":
        last.update(source=to, mirror=None, elapsed_ms=12000, max_pause_ms=7)
    e.svm.progress = steps + [last]
    return to


@test
@with_env()
def wait_done(e):
    to = progress_to(e, "done")
    rc, out, err = e.run("migrate", "lun0", "--to", to, "--wait", *FAST)
    expect((rc, out, err), 0, "lun0: migration done: the LUN now serves %s (56.0 MiB copied, "
           "8.0 MiB skipped, in 0:12; longest write pause 7 ms)" % to)
    check("\r" not in out, "no progress bar when stdout is not a terminal: %r" % out)
    check(e.requests[:2] == ["status lun0", "migrate lun0 to=%s mover=auto rate=0 keep_source=0"
                             % to], e.requests)
    check(e.requests[2:] == ["status lun0"] * 4, e.requests)


@test
@with_env()
def wait_failed(e):
    to = progress_to(e, "failed", error="write to %s: No space left on device" % "dst")
    rc, out, err = e.run("migrate", "lun0", "--to", to, "--wait", *FAST)
    expect((rc, out, err), 4, err="lun0: migration failed: write to dst: No space left on device;"
           " the LUN still serves " + e.src)


@test
@with_env()
def wait_aborted(e):
    to = progress_to(e, "aborted")
    expect(e.run("migrate", "lun0", "--to", to, "--wait", *FAST), 5,
           err="lun0: migration aborted; the LUN still serves " + e.src)


@test
@with_env()
def wait_idle(e):
    # the migration record gone, the LUN on the destination: that is a success...
    to = e.path("dst/lun0.img")
    e.svm.progress = [dict(phase="idle", source=to)]
    expect(e.run("migrate", "lun0", "--to", to, "--wait", *FAST), 0, "migration done")
    # ...and on the source it is not
    e.svm.luns["lun0"].update(phase="idle", source=e.src)
    e.svm.migrated = False
    e.svm.progress = [dict(phase="idle")]
    expect(e.run("migrate", "lun0", "--to", to, "--wait", *FAST), 1, err="the migration is gone")


@test
@with_env()
def wait_progress_bar(e):
    to = e.path("dst/lun0.img")
    e.svm.progress = [dict(bytes_copied=(i * 4) << 20) for i in range(1, 16)] + [
        dict(phase="done", bytes_copied=64 << 20, source=to)]
    rc, out, err = e.run("migrate", "lun0", "--to", to, "--wait", "--interval", "0.05", tty=True)
    expect((rc, out, err), 0, ["\rlun0 copying [", "%", "MiB/s", "ETA ", "migration done"])
    bars = [s for s in out.split("\r") if s.startswith("lun0 copying")]
    check(len(bars) >= 10, "a bar per poll: %r" % out)
    check(any("50.0%" in b for b in bars), bars)
    check(any("ETA --:--" not in b and "-- MiB/s" not in b for b in bars),
          "throughput and ETA once two polls are in: %r" % bars)
    for b in bars:
        check(len(b.replace("\x1b[K", "")) <= 99, "fits the 100-column terminal: %r" % b)


@test
@with_env()
def wait_survives_lost_polls(e):
    # tcmu-runner restarting: polls go unanswered for a while, then the migration goes on
    to = progress_to(e, "done")
    e.svm.fail_polls = 3
    expect(e.run("migrate", "lun0", "--to", to, "--wait", *FAST), 0, "migration done")
    check(e.requests.count("status lun0") == 1 + 3 + 4, e.requests)


@test
@with_env()
def wait_gives_up(e):
    e.svm.fail_polls = 10 ** 6
    expect(e.run("migrate", "lun0", "--to", e.path("dst/lun0.img"), "--wait", "--interval", "0.1",
                 "--timeout", "1"), 3, err=["lun0: lost track of the migration",
                                            "closed the connection without answering"])


@test
@with_env()
def wait_interrupted(e):
    argv = [SVMCTL, "migrate", "lun0", "--to", e.path("dst/lun0.img"), "--wait", "--socket",
            e.sock, *FAST]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while e.requests.count("status lun0") < 3 and time.time() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    expect((p.returncode, out, err), 130, err="stopped waiting; the migration of lun0 goes on")
    check(not any(m in err for m in SANITIZER_MARKS), err)


# ---- abort ------------------------------------------------------------------------------------

@test
@with_env(copying)
def abort_cmd(e):
    expect(e.run("abort", "lun1"), 0, "lun1: migration aborted; the LUN serves "
           + e.path("src/lun1.img"))
    check(e.requests == ["abort lun1 keep_dest=0"], e.requests)
    e.svm.luns["lun1"]["phase"] = "copying"
    expect(e.run("abort", "lun1", "--keep-dest"), 0, "the partial copy stays at "
           + e.path("dst/lun1.img"))
    check(e.requests[-1] == "abort lun1 keep_dest=1", e.requests)
    expect(e.run("abort", "lun1"), 1, err="no migration of lun1 is running")
    expect(e.run("abort", "nosuch"), 1, err="no svm LUN named 'nosuch'")
    expect(e.run("abort", "a\tb"), 2, err="white space")


# ---- doctor -----------------------------------------------------------------------------------

@test
@with_env()
def doctor_cmd(e):
    env = {"SVM_STATE_DIR": e.path("state")}
    rc, out, err = e.run("doctor", env=env)
    lines = out.splitlines()
    check(len(lines) == 6, out)
    check("kernel module target_core_user" in lines[0], out)
    check("configfs" in lines[1] and "tcmu-runner" in lines[2], out)
    check(lines[3] == "[ OK ] handler svm answers on %s (1 LUN)" % e.sock, out)
    check(lines[4].startswith("[ OK ] state directory %s exists and is writable" % e.path("state"))
          or "SVM_STATE_DIR of tcmu-runner" in lines[4], out)
    failed = sum(l.startswith("[FAIL]") for l in lines)
    check(rc == (1 if failed else 0), "exit %d with %d failed checks" % (rc, failed))
    check("%d of 5 checks passed" % (5 - failed) in lines[5], out)
    check(e.requests == ["list"], e.requests)

    # what is missing, and how to fix it
    env = {"SVM_STATE_DIR": e.path("nosuch")}
    rc, out, err = run([SVMCTL, "doctor", "--socket", e.path("none.sock"), "--timeout", "2"],
                       env=env)
    check(rc == 1, "exit %d" % rc)
    check("[FAIL] no control socket at %s" % e.path("none.sock") in out, out)
    if "SVM_STATE_DIR of tcmu-runner" not in out:
        check("[FAIL] state directory %s does not exist: mkdir -p -m 0700" % e.path("nosuch")
              in out, out)


# ---- the socket -------------------------------------------------------------------------------

@test
@with_env()
def socket_from_svm_run_dir(e):
    expect(e.run("list", sock=False, env={"SVM_RUN_DIR": e.dir}), 0, "lun0")
    check(e.requests == ["list"], e.requests)
    # options before the command word
    expect(run([SVMCTL, "--socket", e.sock, "--timeout", "5", "status", "lun0"]), 0, "lun0: idle")


@test
def socket_missing():
    d = tempfile.mkdtemp()
    try:
        expect(run([SVMCTL, "list", "--socket", d + "/control.sock"]), 3,
               err=["no control socket at %s/control.sock" % d, "is tcmu-runner running"])
        expect(run([SVMCTL, "status", "lun0"], env={"SVM_RUN_DIR": d}), 3,
               err="no control socket at %s/control.sock" % d)
    finally:
        shutil.rmtree(d)


@test
def socket_refused():
    import socket as so
    d = tempfile.mkdtemp()
    try:
        s = so.socket(so.AF_UNIX)
        s.bind(d + "/control.sock")  # bound, never listening: what a dead runner leaves
        s.close()
        expect(run([SVMCTL, "list", "--socket", d + "/control.sock"]), 3,
               err=["connection refused", "tcmu-runner is not running",
                    "systemctl start tcmu-runner"])
        expect(run([SVMCTL, "list", "--socket", d]), 3, err="is not a socket")
    finally:
        shutil.rmtree(d)


@test
@with_env()
def socket_permission(e):
    """Not root: the socket's directory (0700, root's) refuses, and svmctl says why."""
    if os.geteuid() != 0:
        os.chmod(e.dir, 0)
        try:
            expect(e.run("list"), 3, err=["permission denied on", "are you root?"])
        finally:
            os.chmod(e.dir, 0o700)
        return
    bindir = tempfile.mkdtemp()
    try:
        os.chmod(bindir, 0o755)
        exe = os.path.join(bindir, "svmctl")
        shutil.copy(SVMCTL, exe)
        os.chmod(exe, 0o755)
        os.chmod(e.dir, 0o700)

        def as_nobody():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)

        expect(run([exe, "list", "--socket", e.sock], preexec=as_nobody), 3,
               err=["permission denied on %s" % e.sock, "are you root? (try sudo)"])
        check(e.fake.connections == 0, e.requests)
    finally:
        shutil.rmtree(bindir)


@test
@with_env()
def handler_refuses_non_root(e):
    e.fake.answer = lambda line: error("permission denied: uid 1000 is not root", 13)
    expect(e.run("list"), 1, err="permission denied: uid 1000 is not root (only root may use the "
           "control socket: are you root?")


@test
@with_env()
def handler_silent(e):
    e.fake.answer = lambda line: HANG
    t = time.time()
    expect(e.run("list", "--timeout", "1"), 3, err="did not answer within 1 s")
    check(time.time() - t < 5, "gave up after about 1 s")
    e.fake.answer = lambda line: None
    expect(e.run("list"), 3, err="closed the connection without answering")


def main():
    passed = failed = 0
    for fn in TESTS:
        start = time.time()
        try:
            fn()
        except Exception as ex:  # noqa: BLE001 - a test's failure, whatever it is
            failed += 1
            detail = str(ex) if isinstance(ex, AssertionError) else traceback.format_exc()
            print("FAIL %s: %s" % (fn.__name__, detail))
        else:
            passed += 1
            print("ok   %s (%.1f s)" % (fn.__name__, time.time() - start))
        sys.stdout.flush()
    print("%s: %d passed, %d failed" % (LABEL, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    if not os.access(SVMCTL, os.X_OK):
        print("%s: svmctl binary %s is not built (make)" % (LABEL, SVMCTL))
        print("%s: 0 passed, 1 failed" % LABEL)
        sys.exit(1)
    sys.exit(main())
