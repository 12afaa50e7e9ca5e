# SPDX-License-Identifier: Apache-2.0
"""What the benchmark reports (report.py, xcopy-report.py, migrate-report.py)
share: reading the guest's results, formatting numbers, and putting a report's
marked section into docs/benchmarks.md."""

import json
import os


class Missing(Exception):
    """A result the report needs is not there, or unreadable."""


def read_kv(path):
    """'key: value' lines -> (dict, [(package, version)] of 'pkg NAME: V' lines)."""
    kv, pkgs = {}, []
    if not os.path.exists(path):
        return kv, pkgs
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or ":" not in line:
                continue
            k, v = line.split(":", 1)
            if k.startswith("pkg "):
                pkgs.append((k[4:], v.strip()))
            else:
                kv[k.strip()] = v.strip()
    return kv, pkgs


def read_tsv(path, header=True):
    """A TSV file: a dict per row keyed by the first line, or (header=False) lists."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    if not header:
        return lines
    if not lines:
        return []
    head = lines[0]
    return [dict(zip(head, l)) for l in lines[1:]]


def fio_jobs(path):
    """The jobs of a fio --output-format=json file (text before the JSON skipped)."""
    try:
        with open(path) as fh:
            text = fh.read()
    except OSError as e:
        raise Missing("%s: %s" % (path, e))
    start = text.find("{")
    if start < 0:
        raise Missing("%s: no JSON in it" % path)
    try:
        jobs = json.loads(text[start:])["jobs"]
        jobs[0]
        return jobs
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise Missing("%s: unreadable fio JSON (%s)" % (path, e))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def f(v, fmt="%.2f", none="—"):
    return none if v is None else fmt % v


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def contention(hostload, nproc, per):
    """The opening of a report's *Contention* paragraph from host-load.tsv's
    rows (load1, qemu_procs, host_busy_pct per 5 s sample); per: how the
    per-run figures that follow are introduced."""
    loads = [float(h["load1"]) for h in hostload]
    q = [int(h["qemu_procs"]) for h in hostload]
    busy = [int(h["host_busy_pct"]) for h in hostload]
    others = sum(1 for x in q if x > 1)
    return ("Sampled on the host every 5 s during the VM run (%d samples): 1-minute load average "
            "%.1f–%.1f (mean %.1f) on %s CPUs; host CPU busy %.0f%% on average; qemu processes "
            "running %d–%d (ours is one): other VMs ran during %d of %d samples (%.0f%%). %s" % (
                len(hostload), min(loads), max(loads), mean(loads), nproc, mean(busy), min(q),
                max(q), others, len(hostload), 100.0 * others / len(hostload), per))


def write_section(text, md, doc, begin, end):
    """Write text (a section from begin to end) to md, and in place of the
    same section of doc (appended when doc has none); either may be None."""
    if md:
        with open(md, "w") as fh:
            fh.write(text)
    if not doc:
        return
    old = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    b, e = old.find(begin), old.find(end)
    if b >= 0 and e > b:
        new = old[:b] + text.rstrip("\n") + old[e + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(doc + ".tmp", "w") as fh:
        fh.write(new)
    os.replace(doc + ".tmp", doc)
