# SPDX-License-Identifier: Apache-2.0
"""A stand-in for the svm handler's control socket (docs/control.md), for svmctl's tests.

FakeHandler listens on a UNIX socket in a thread, takes one request line per
connection, records it, and answers what its `answer` callable returns for it:
a str (sent with a closing newline), None (the connection is closed without a
word) or HANG (no answer: the fake waits for the client to hang up).

FakeSvm is such a callable with LUNs in it: it answers list, status, migrate
and abort as the handler would, and after a migrate walks the LUN through the
STATUS updates of its `progress` list, one per status request after it.
"""

import copy
import json
import os
import select
import socket
import threading
import time

HANG = object()


class FakeHandler:
    def __init__(self, path, answer):
        self.path = path
        self.answer = answer
        self.requests = []
        self.connections = 0
        self._stop = threading.Event()
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                continue
            conn, _ = self.sock.accept()
            with conn:
                self.connections += 1
                self._one(conn)

    def _one(self, conn):
        conn.settimeout(5)
        data = b""
        try:
            while b"\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        line = data.split(b"\n")[0].decode("utf-8", "replace")
        self.requests.append(line)
        reply = self.answer(line)
        if reply is HANG:  # until the client gives up and closes, or the fake stops
            deadline = time.time() + 30
            while not self._stop.is_set() and time.time() < deadline:
                if select.select([conn], [], [], 0.05)[0]:
                    break
            return
        if reply is not None:
            try:
                conn.sendall(reply.encode() + b"\n")
            except OSError:
                pass

    def stop(self):
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def status(lun, source, **fields):
    """A STATUS object as docs/control.md lists it, idle unless fields say otherwise."""
    st = {
        "lun": lun,
        "phase": "idle",
        "source": source,
        "destination": None,
        "dst": None,
        "mirror": None,
        "bytes_total": 64 << 20,
        "bytes_copied": 0,
        "bytes_skipped": 0,
        "bytes_overwritten": 0,
        "mover": "auto",
        "movers": {"bounce": 0, "kernel": 0, "reflink": 0},
        "rate": 0,
        "mirrored_writes": 0,
        "waited_writes": 0,
        "resumed": False,
        "started": 0,
        "elapsed_ms": 0,
        "max_pause_ms": 0,
        "error": None,
    }
    st.update(fields)
    return st


def error(msg, err):
    return json.dumps({"error": msg, "errno": err})


class FakeSvm:
    """Answers like the handler, for the LUNs in self.luns (name -> STATUS dict)."""

    def __init__(self, *luns):
        self.luns = {st["lun"]: st for st in luns}
        self.progress = []  # STATUS updates applied one per status request after a migrate
        self.migrate_error = None  # answer migrate with this error (a str from error())
        self.fail_polls = 0  # after a migrate, close this many status requests unanswered
        self.migrated = False  # a migrate was answered: progress and fail_polls apply

    def __call__(self, line):
        words = line.split(" ")
        cmd, args = words[0], words[1:]
        if cmd == "list" and not args:
            return json.dumps({"luns": list(self.luns.values())})
        if cmd not in ("status", "migrate", "abort") or not args:
            return error("unknown request '%s'" % line, 22)
        st = self.luns.get(args[0])
        if st is None:
            return error("no svm LUN named '%s'" % args[0], 19)
        kv = dict(w.split("=", 1) for w in args[1:] if "=" in w)
        if cmd == "status" and len(args) == 1:
            if not self.migrated:
                return json.dumps(st)
            if self.fail_polls:
                self.fail_polls -= 1
                return None
            if self.progress:
                st.update(self.progress.pop(0))
            return json.dumps(st)
        if cmd == "migrate":
            if self.migrate_error:
                return self.migrate_error
            if st["phase"] in ("copying", "switching"):
                return error("a migration of %s is already running" % args[0], 16)
            self.migrated = True
            st.update(phase="copying", destination=kv["to"], mover=kv["mover"],
                      rate=int(kv["rate"]), started=int(time.time()),
                      mirror="6001405a-6001405b-svmmirror")
            return json.dumps(st)
        if cmd == "abort":
            if st["phase"] not in ("copying", "switching"):
                return error("no migration of %s is running" % args[0], 2)
            st.update(phase="aborted", mirror=None)
            return json.dumps(st)
        return error("malformed request '%s'" % line, 22)

    def snapshot(self):
        return copy.deepcopy(self.luns)
