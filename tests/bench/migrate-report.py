#!/usr/bin/python3
"""Turn the raw results of the live migration benchmark into a report section.

usage: migrate-report.py [--md FILE] [--doc DOC] RESULTS_DIR

RESULTS_DIR is what tests/bench/migrate-guest.sh and tests/bench/migrate-run
leave in build/bench-migrate/results: meta.txt, guest.txt, migrations.tsv,
runs.tsv, fio-<run>.json and its logs, mig-<id>.out, mig-<id>-timeline.tsv,
mig-<id>-status.json, tcmu-svm.log, host-load.tsv.

Writes the section "Live migration" to FILE (--md) and, with --doc, puts it
into DOC (docs/benchmarks.md) between the markers <!-- bench-migrate:begin -->
and <!-- bench-migrate:end --> (replacing what is there; appended when the
markers are missing).  Prints a short summary.

Exit status: 0 when everything was measured (whatever the numbers are), 3
when it was but a migration failed or changed the data (the report says so),
2 when results are missing or unreadable.
"""

import argparse
import calendar
import json
import os
import re
import sys
import time

from benchlib import Missing, contention, f, fio_jobs, mean, num, read_kv, read_tsv, write_section

BEGIN = "<!-- bench-migrate:begin -->"
END = "<!-- bench-migrate:end -->"
# the targets
T_LOAD_IDLE = 1.25  # migration time under load / idle, at most
T_IOPS = 0.75  # IOPS while mirroring / without migration, at least
T_PAUSE_MS = 50  # longest host write pause at switchover, at most (in the VM)
PVMOVE_IOPS_BEFORE = 0.69  # what pvmove was measured at here before (the issue)


def fx(v):
    return "—" if v is None else "%.2f×" % v


def ratio(a, b):
    return a / b if a is not None and b else None


def size_str(b):
    if b is None:
        return "?"
    if b % (1 << 30) == 0:
        return "%d GiB" % (b >> 30)
    return "%d MiB" % (b >> 20)


def read_log(path):
    """fio log: [(epoch_s, value)] (log_unix_epoch, ms)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as fh:
        for line in fh:
            p = line.split(",")
            if len(p) >= 2:
                try:
                    out.append((int(p[0]) / 1000.0, int(p[1])))
                except ValueError:
                    pass
    return out


def svmlog_events(path):
    """Switchover and copy-start times (epoch s) from the SVM log, in order."""
    ev = []
    if not os.path.exists(path):
        return ev
    rx = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z \S+\)SVM: \d+: (.*)$")
    with open(path, errors="replace") as fh:
        for line in fh:
            m = rx.match(line.rstrip("\n"))
            if not m:
                continue
            g = [int(x) for x in m.groups()[:7]]
            t = calendar.timegm((g[0], g[1], g[2], g[3], g[4], g[5], 0, 0, 0)) + g[6] / 1000.0
            msg = m.group(8)
            if msg.startswith("Switched over device"):
                pm = re.search(r"I/O paused ([\d.]+) ms", msg)
                ev.append(("switch", t, float(pm.group(1)) if pm else None))
            elif msg.startswith("Copy started"):
                ev.append(("start", t, None))
    return ev


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--md")
    ap.add_argument("--doc")
    ap.add_argument("results")
    args = ap.parse_args()
    res = args.results

    meta, pkgs = read_kv(os.path.join(res, "meta.txt"))
    guest, _ = read_kv(os.path.join(res, "guest.txt"))
    migs = read_tsv(os.path.join(res, "migrations.tsv"))
    runs = read_tsv(os.path.join(res, "runs.tsv"))
    hostload = read_tsv(os.path.join(res, "host-load.tsv"))
    clk = num(guest.get("clk_tck")) or 100.0
    if not migs:
        print("migrate-report: no migrations.tsv in %s" % res, file=sys.stderr)
        return 2
    size = int(guest.get("size", "0 (0 bytes)").split("(")[-1].split()[0] or 0)
    mib = size / 2.0 ** 20 if size else None
    problems, bad = [], []

    def hl(t0, t1):
        """Host load during [t0, t1]: mean load1, most qemu processes."""
        win = [h for h in hostload if t0 - 5 <= float(h["epoch"]) <= t1 + 5]
        if not win:
            return None, None
        return mean([float(h["load1"]) for h in win]), max(int(h["qemu_procs"]) for h in win)

    def load_str(t0, t1):
        l, q = hl(t0, t1)
        return "%s (%s)" % (f(l, "%.1f"), q if q is not None else "?")

    # --- fio runs ------------------------------------------------------------------
    fio = {}

    def fio_of(name, t0=None, t1=None):
        j = fio_jobs(os.path.join(res, "fio-%s.json" % name))[0]
        w = j["write"]
        pct = w.get("lat_ns", {}).get("percentile", {})
        iops_log = read_log(os.path.join(res, "fio-%s_iops.1.log" % name))
        lat_log = read_log(os.path.join(res, "fio-%s_lat.1.log" % name))
        d = {
            "iops": w["iops"], "runtime": w.get("runtime", 0) / 1000.0,
            "p50": pct.get("50.000000"), "p90": pct.get("90.000000"),
            "p99": pct.get("99.000000"), "p999": pct.get("99.900000"),
            "max": w.get("lat_ns", {}).get("max"), "mean": w.get("lat_ns", {}).get("mean"),
            "iops_log": iops_log, "lat_log": lat_log,
        }
        if t0 is not None:
            inside = [v for t, v in iops_log if t0 + 0.5 <= t <= t1]
            d["iops_win"] = mean(inside)
            d["log_first"] = iops_log[0][0] if iops_log else None
        fio[name] = d
        return d

    for r in runs:
        try:
            fio_of(r["run"])
        except Missing as e:
            problems.append(str(e))
        r["t0"], r["t1"] = float(r["t0"]), float(r["t1"])
    M = {}
    for m in migs:
        for k in ("t0", "t1", "wall_s"):
            m[k] = num(m[k])
        m["fio_t0"] = num(m.get("fio_t0"))
        m["ok"] = m["rc"] == "0" and m.get("data_ok") in ("yes", "-")
        if m["rc"] != "0":
            bad.append("%s: exit status %s" % (m["id"], m["rc"]))
        if m.get("data_ok") == "no":
            bad.append("%s: the new store does not hold the old one's data" % m["id"])
        tot = int(m["total_ticks"])
        m["busy_pct"] = 100.0 * int(m["busy_ticks"]) / tot if tot else None
        m["tcmu_s"] = int(m["tcmu_ticks"]) / clk
        st = os.path.join(res, "mig-%s-status.json" % m["id"])
        m["status"] = None
        if os.path.exists(st):
            try:
                with open(st) as fh:
                    m["status"] = json.loads(fh.read().strip().splitlines()[-1])
            except (ValueError, IndexError):
                problems.append("%s: unreadable status" % st)
        m["timeline"] = read_tsv(os.path.join(res, "mig-%s-timeline.tsv" % m["id"]))
        with open(os.path.join(res, "mig-%s.out" % m["id"]), errors="replace") as fh:
            m["out"] = [l.rstrip("\n").split("\t", 1) for l in fh if "\t" in l]
        if m["load"] == "1":
            try:
                fio_of(m["id"], m["t0"], m["t1"])
            except Missing as e:
                problems.append(str(e))
        M[m["id"]] = m

    # svm: the copy phase from the poller (first poll copying .. first poll switching/done)
    def svm_phases(m):
        tl = [t for t in m["timeline"] if t.get("phase") not in (None, "-") and
              not t["phase"].startswith("error")]
        # polls after this migration began: elapsed_ms restarts
        cp = [float(t["epoch"]) for t in tl if t["phase"] == "copying"]
        sw = [float(t["epoch"]) for t in tl if t["phase"] in ("switching", "done")
              and cp and float(t["epoch"]) > cp[0]]
        return (cp[0] if cp else None), (cp[-1] if cp else None), (sw[0] if sw else None)

    # pvmove: its own progress lines
    def pv_phases(m):
        first = last = None
        for t, line in m["out"]:
            mm = re.search(r"Moved: *([\d.]+)%", line)
            if mm:
                if first is None:
                    first = float(t)
                if float(mm.group(1)) >= 100.0:
                    last = float(t)
                    break
        return first, last

    events = svmlog_events(os.path.join(res, "tcmu-svm.log"))

    def switch_of(m):
        """The switchover (epoch, pause ms in the SVM log) within m's window."""
        for kind, t, p in events:
            if kind == "switch" and m["t0"] - 1 <= t <= m["t1"] + 1:
                return t, p
        return None, None

    def pass_rate_quarters(m):
        """svm: MiB/s of the pass in each quarter of its copy phase (by time)."""
        pts = [(float(t["epoch"]), int(t["bytes_copied"])) for t in m["timeline"]
               if t.get("phase") == "copying" and t.get("bytes_copied", "-").isdigit()]
        if len(pts) < 5:
            return None
        a, b = pts[0][0], pts[-1][0]
        out = []
        for q in range(4):
            lo, hi = a + (b - a) * q / 4, a + (b - a) * (q + 1) / 4
            sel = [p for p in pts if lo <= p[0] <= hi]
            if len(sel) >= 2 and sel[-1][0] > sel[0][0]:
                out.append((sel[-1][1] - sel[0][1]) / 2.0 ** 20 / (sel[-1][0] - sel[0][0]))
            else:
                out.append(None)
        return out

    def mstat(m, k):
        return m["status"].get(k) if m and m.get("status") else None

    idle_s, load_s = M.get("idle-svm"), M.get("load-svm")
    idle_l, load_l = M.get("idle-lvm"), M.get("load-lvm")
    for x in ("idle-svm", "load-svm", "idle-lvm", "load-lvm"):
        if x not in M:
            problems.append("no migration %s" % x)

    def wall(m):
        return m["wall_s"] if m and m["rc"] == "0" else None

    def elapsed(m):
        e = mstat(m, "elapsed_ms")
        return e / 1000.0 if e is not None and m["rc"] == "0" else None

    def base_of(stack):
        b = [fio.get("base1-%s" % stack), fio.get("base2-%s" % stack)]
        return [x for x in b if x]

    def base_mean(stack, key):
        return mean([b[key] for b in base_of(stack)])

    out = []
    w = out.append
    w(BEGIN)
    w("## Live migration")
    w("")
    w("*Generated by `make bench-migrate` (`tests/bench/migrate-run`) on %s; do not edit by hand "
      "— rerun it.*" % meta.get("date", "?"))
    w("")
    w("> **Caveat.** One run in a **QEMU guest under TCG** on a shared 2-core machine: every "
      "guest instruction is emulated, the fio load, tcmu-runner, the kernel's loop and "
      "dm-mirror threads and the copy all compete for the same 2 emulated CPUs, and other VMs "
      "of the project compete for the host's 2 CPUs (see *Contention*). The stores are in "
      "RAM, so no disk enters the numbers. Read the ratios, and even those roughly: the two "
      "fio runs without migration of the same LUN, first and last, differ by as much as some "
      "of the effects measured.")
    w("")
    w("A %s LUN is moved, live, to a new store, by two stacks on the same backing storage "
      "(every store a sparse file in one tmpfs of the guest, behind a loop device):" % size_str(size))
    w("")
    w("- **svm**: a `user:svm` LUN on `/dev/loopA`, moved to a new `/dev/loopB` by `svmctl "
      "migrate LUN --to /dev/loopB --mover %s --wait --interval %s`;" % (
          guest.get("mover", "?"), guest.get("interval", "?")))
    w("- **pvmove**: a LIO `iblock` LUN on an LVM logical volume whose one PV is `/dev/loopC`, "
      "moved to a new PV `/dev/loopD` by `pvmove -i %s /dev/loopC /dev/loopD` (a temporary "
      "dm-mirror): what admins use for this job today." % guest.get("interval", "?"))
    w("")
    w("Both LUNs are exported through tcm_loop and were filled with data first, so the whole "
      "LUN is copied. Each stack migrates once idle and once under fio 4 KiB random writes "
      "over the whole LUN (libaio, direct=1, iodepth %s, one job, time based, through the "
      "LUN's `/dev/sdX`), each time to a new, sparse store. *Time* is the wall clock around the "
      "admin's command (`svmctl migrate --wait`, `pvmove`), start-up and polling included; both "
      "poll for the end every %s s. Details in *Set-up*." % (
          guest.get("qd", "?"), guest.get("interval", "?")))
    w("")

    # --- targets ----------------------------------------------------------------------
    r_svm_li = ratio(wall(load_s), wall(idle_s))
    r_svm_li_e = ratio(elapsed(load_s), elapsed(idle_s))
    r_lvm_li = ratio(wall(load_l), wall(idle_l))
    r_vs_idle = ratio(wall(idle_s), wall(idle_l))
    r_vs_load = ratio(wall(load_s), wall(load_l))

    def iops_ratio(mid, stack, key="iops"):
        d = fio.get(mid)
        b = base_mean(stack, "iops")
        return ratio(d[key] if d else None, b)

    def p99_ratio(mid, stack):
        d = fio.get(mid)
        return ratio(d["p99"] if d else None, base_mean(stack, "p99"))

    ir_svm = iops_ratio("load-svm", "svm")
    ir_lvm = iops_ratio("load-lvm", "lvm")
    ir_svm_w = iops_ratio("load-svm", "svm", "iops_win")
    ir_lvm_w = iops_ratio("load-lvm", "lvm", "iops_win")
    pause_load = mstat(load_s, "max_pause_ms")
    pause_idle = mstat(idle_s, "max_pause_ms")

    def met(v, ok):
        return "n/a" if v is None else ("**yes**" if ok(v) else "**no**")

    w("### Targets")
    w("")
    w("| target | svm | pvmove (reference) | met? |")
    w("| --- | ---: | ---: | --- |")
    w("| (a) migration time under load ≤ %.2f× idle | %s (handler's own `elapsed_ms`: %s) | %s | %s |" % (
        T_LOAD_IDLE, fx(r_svm_li), fx(r_svm_li_e), fx(r_lvm_li),
        met(r_svm_li, lambda v: v <= T_LOAD_IDLE)))
    w("| (a) no slower than pvmove, under load (svm time / pvmove time) | %s | 1 | %s |" % (
        fx(r_vs_load), met(r_vs_load, lambda v: v <= 1.0)))
    w("| (a) the same, idle | %s | 1 | %s |" % (fx(r_vs_idle), met(r_vs_idle, lambda v: v <= 1.0)))
    w("| (b) host IOPS while mirroring ≥ %.2f× without migration | %s (in the migration's "
      "window, fio's log: %s) | %s (%s; %.2f× measured here before) | %s |" % (
          T_IOPS, fx(ir_svm), fx(ir_svm_w), fx(ir_lvm), fx(ir_lvm_w), PVMOVE_IOPS_BEFORE,
          met(ir_svm, lambda v: v >= T_IOPS)))
    w("| (b) p99 write latency while mirroring, × without migration (no bar) | %s | %s | — |" % (
        fx(p99_ratio("load-svm", "svm")), fx(p99_ratio("load-lvm", "lvm"))))
    w("| (c) longest host write pause at switchover ≤ %d ms (svmctl's `max_pause_ms`) | %s ms "
      "under load, %s ms idle | — | %s |" % (
          T_PAUSE_MS, f(pause_load, "%d"), f(pause_idle, "%d"),
          met(pause_load if pause_load is None or pause_idle is None else max(pause_load, pause_idle),
              lambda v: v <= T_PAUSE_MS)))
    rl_a, rl_r, rl_c = M.get("reflink-auto"), M.get("reflink-reflink"), M.get("reflink-cp")
    if rl_c:
        w("| (d) reflink XFS: migration time / `cp --reflink=always` time (no bar) | auto %s, "
          "reflink %s (handler's `elapsed_ms`: %s, %s) | — | — |" % (
              fx(ratio(wall(rl_a), wall(rl_c))), fx(ratio(wall(rl_r), wall(rl_c))),
              fx(ratio(elapsed(rl_a), wall(rl_c))), fx(ratio(elapsed(rl_r), wall(rl_c)))))
    w("")
    w("*Without migration*: the mean of the two fio runs without migration of the same LUN "
      "(first and last, below). (b) is fio's IOPS over its measured time, which starts "
      "within about a second of the migration and ends with it; *in the migration's window* "
      "averages fio's 500 ms IOPS samples that fall inside the migration command's wall "
      "clock. (c) is the handler's measure: from the moment every write in flight has "
      "drained to the LUN's switch to the destination (flush of the destination and the "
      "record's update); fio's view of it is in *Switchover*. Targets this rig cannot meet "
      "together, and the measurement that shows why, are listed in `tests/bench/waivers`.")
    w("")

    # --- migration time ------------------------------------------------------------------
    w("### Migration time")
    w("")
    w("| migration | stack | load | time (s) | MiB/s | copy phase (s) | pass MiB/s | before the "
      "copy (s) | after the copy (s) | handler's `elapsed_ms` | mirrored writes | writes that "
      "waited | guest CPU busy | tcmu-runner CPU (s) | host load (VMs) | data |")
    w("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    order = ["idle-svm", "idle-lvm", "load-lvm", "load-svm"]
    for mid in order:
        m = M.get(mid)
        if not m:
            continue
        if m["stack"] == "svm":
            c0, c1, sw = svm_phases(m)
            cend = sw
        else:
            c0, cend = pv_phases(m)
        copy_s = cend - c0 if c0 and cend else None
        before = c0 - m["t0"] if c0 else None
        after = m["t1"] - cend if cend else None
        data = {"yes": "identical", "no": "**DIFFERENT**", "-": "—"}.get(m.get("data_ok"), "?")
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            mid, "svm" if m["stack"] == "svm" else "pvmove", "fio" if m["load"] == "1" else "idle",
            f(m["wall_s"]), f(mib / m["wall_s"] if mib and m["wall_s"] else None, "%.1f"),
            f(copy_s, "%.1f"), f(mib / copy_s if mib and copy_s else None, "%.1f"),
            f(before, "%.1f"), f(after, "%.1f"),
            f(mstat(m, "elapsed_ms"), "%d") if m["stack"] == "svm" else "—",
            f(mstat(m, "mirrored_writes"), "%d") if m["stack"] == "svm" else "—",
            f(mstat(m, "waited_writes"), "%d") if m["stack"] == "svm" else "—",
            f(m["busy_pct"], "%.0f%%"), f(m["tcmu_s"], "%.1f") if m["stack"] == "svm" else "—",
            load_str(m["t0"], m["t1"]), data))
    w("")
    w("*Copy phase*: svm, from the first status poll in phase `copying` to the first in "
      "`switching` or `done` (polls every %s s); pvmove, from its first progress line to the "
      "one saying 100%%. *Before / after the copy*: the rest of *time* (svm: svmctl's start, "
      "its checks and the handler's set-up of the destination, the mirror and the record; "
      "then the switchover, LIO's dev_config commit and svmctl's last poll; pvmove: LVM's "
      "metadata update, the pvmove LV's creation and activation; then its removal and the "
      "metadata commit). *Guest CPU busy*: share of the guest's 2 vCPUs busy during *time*. "
      "*Data*: after the idle svm migration the new store was compared (`cmp`) with the old "
      "one, which svm leaves as it was (it keeps a block-device source); under load the data "
      "changes all along, and no check is made; pvmove's data is LVM's business and is not "
      "checked (`SVM_MBENCH_CHECK_LVM=1` does)." % guest.get("poll", "?"))
    w("")

    # --- the backing devices -------------------------------------------------------------
    def devstat(m):
        rows = read_tsv(os.path.join(res, "mig-%s-devstat.tsv" % m["id"]), header=False)
        d = {}
        for r in rows:
            if len(r) < 4:
                continue
            d[(r[0], r[1])] = (r[2], [int(x) for x in r[3].split()])
        outp = {}
        for role in ("from", "to"):
            a, b = d.get(("before", role)), d.get(("after", role))
            if a and b:
                outp[role] = (a[0], [y - x for x, y in zip(a[1], b[1])])
        return outp

    drows = []
    for mid in order:
        m = M.get(mid)
        if not m:
            continue
        ds = devstat(m)
        if "from" not in ds or "to" not in ds:
            continue
        fs, ts = ds["from"][1], ds["to"][1]
        wl = m["wall_s"] or None
        drows.append("| %s | %s | %.0f | %s | %s | %.0f | %s | %s |" % (
            mid, "svm" if m["stack"] == "svm" else "pvmove",
            fs[2] * 512 / 2.0 ** 20, f(fs[3] / fs[0] if fs[0] else None, "%.1f"),
            f(100.0 * fs[9] / 1000 / wl if wl else None, "%.0f%%"),
            ts[6] * 512 / 2.0 ** 20, f(ts[7] / ts[4] if ts[4] else None, "%.1f"),
            f(100.0 * ts[9] / 1000 / wl if wl else None, "%.0f%%")))
    if drows:
        w("What the two loop devices of each migration did during *time* (`/sys/block/loopN/stat` "
          "before and after): MiB moved, mean time per request (ms, queueing included) and the "
          "share of *time* the device had requests in flight (*busy*):")
        w("")
        w("| migration | stack | source read (MiB) | per read (ms) | source busy | destination "
          "written (MiB) | per write (ms) | destination busy |")
        w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for x in drows:
            w(x)
        w("")
    if idle_s and load_s:
        qi, ql = pass_rate_quarters(idle_s), pass_rate_quarters(load_s)
        if qi and ql:
            w("The svm pass's rate (MiB/s) in each quarter of its copy phase: idle %s; under "
              "load %s." % (", ".join(f(x, "%.1f") for x in qi), ", ".join(f(x, "%.1f") for x in ql)))
            w("")

    # --- host I/O ----------------------------------------------------------------------------
    w("### Host I/O while mirroring")
    w("")
    w("fio as above; latency is fio's `lat` (submission to completion) in ms.")
    w("")
    w("| stack | run | IOPS | IOPS × none | p50 | p90 | p99 | p99 × none | p99.9 | max | mean | "
      "measured (s) | guest CPU busy | host load (VMs) |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    runs_by = {r["run"]: r for r in runs}
    for stack, label in (("svm", "svm"), ("lvm", "pvmove")):
        bi = base_mean(stack, "iops")
        bp = base_mean(stack, "p99")
        for name, what in (("base1-%s" % stack, "no migration (first)"),
                           ("load-%s" % stack, "**during the migration**"),
                           ("base2-%s" % stack, "no migration (last)")):
            d = fio.get(name)
            if not d:
                continue
            if name.startswith("load"):
                m = M[name]
                t0, t1 = m["t0"], m["t1"]
                busy = m["busy_pct"]
            else:
                r = runs_by[name]
                t0, t1 = r["t0"], r["t1"]
                busy = 100.0 * int(r["busy_ticks"]) / int(r["total_ticks"]) if int(r["total_ticks"]) else None
            ms = lambda v: f(v / 1e6 if v is not None else None, "%.1f")
            w("| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %s | %s |" % (
                label, what, d["iops"], fx(ratio(d["iops"], bi)) if name.startswith("load") else "—",
                ms(d["p50"]), ms(d["p90"]), ms(d["p99"]),
                fx(ratio(d["p99"], bp)) if name.startswith("load") else "—",
                ms(d["p999"]), ms(d["max"]), ms(d["mean"]), d["runtime"], f(busy, "%.0f%%"),
                load_str(t0, t1)))
    w("")
    spread = []
    for stack, label in (("svm", "svm"), ("lvm", "pvmove")):
        b = base_of(stack)
        if len(b) == 2:
            spread.append("%s %.0f and %.0f IOPS (%.0f%% apart), p99 %s and %s ms" % (
                label, b[0]["iops"], b[1]["iops"],
                100.0 * abs(b[0]["iops"] - b[1]["iops"]) / min(b[0]["iops"], b[1]["iops"]),
                f(b[0]["p99"] / 1e6, "%.1f"), f(b[1]["p99"] / 1e6, "%.1f")))
    if spread:
        w("*× none*: against the mean of the two runs without migration. Those two runs, same "
          "LUN, same load, gave %s: differences of that size are this run's noise, not the "
          "migration's doing." % "; ".join(spread))
        w("")

    # --- switchover ------------------------------------------------------------------------
    w("### Switchover")
    w("")
    w("| migration | handler's `max_pause_ms` | SVM log: I/O paused (ms) | fio: longest write "
      "latency around the switch (ms) | fio: longest in the whole migration (ms) | fio: longest "
      "without migration (ms) |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for mid in ("idle-svm", "load-svm", "load-lvm"):
        m = M.get(mid)
        if not m:
            continue
        d = fio.get(mid)
        stack = m["stack"]
        if stack == "svm":
            ts, pl = switch_of(m)
            lo, hi = (ts - 1.0, ts + 1.0) if ts else (None, None)
        else:
            pl = None
            _, c100 = pv_phases(m)
            lo, hi = (c100, m["t1"] + 0.5) if c100 else (None, None)
        around = whole = None
        if d and lo is not None:
            xs = [v for t, v in d["lat_log"] if lo <= t <= hi]
            around = max(xs) / 1e6 if xs else None
        if d:
            xs = [v for t, v in d["lat_log"] if m["t0"] <= t <= m["t1"] + 0.5]
            whole = max(xs) / 1e6 if xs else None
        bmax = max([b["max"] for b in base_of(stack)] or [0]) / 1e6 or None
        w("| %s | %s | %s | %s | %s | %s |" % (
            mid if stack == "svm" else mid + " (pvmove)",
            f(mstat(m, "max_pause_ms"), "%d") if stack == "svm" else "—",
            f(pl, "%.3f"), f(around, "%.0f"), f(whole, "%.0f"),
            f(bmax, "%.0f") if m["load"] == "1" else "—"))
    w("")
    w("*Around the switch*: the largest of fio's 500 ms windows (each holding its longest "
      "write latency) within 1 s of the switchover the SVM log stamps, and for pvmove from its "
      "100% line to its exit (where it suspends the LV, commits LVM's metadata and resumes "
      "on the new PV). The handler's pause begins once the writes in flight have drained, so "
      "a write queued behind the drain waits longer than `max_pause_ms`; fio's latencies "
      "include that, the tcm_loop/TCMU path, and this host's noise (compare the last column).")
    w("")

    # --- reflink ---------------------------------------------------------------------------
    if rl_c or rl_a or rl_r:
        w("### Reflink XFS: migration vs cp --reflink")
        w("")
        w("One XFS (`mkfs.xfs -m reflink=1`) on a loop file in the same tmpfs; a `user:svm` LUN "
          "on `a/lun.img` (%s of data) is migrated to `b/lun.img` with `--mover auto`, then to "
          "`a/lun2.img` with `--mover reflink` (svmctl `--interval %s`); then `cp "
          "--reflink=always a/lun2.img b/cp.img`. Idle, after sync and drop_caches each." % (
              size_str(size), guest.get("reflink_interval", "?")))
        w("")
        w("| run | time (s) | handler's `elapsed_ms` | moved by | `max_pause_ms` | sync after (s) "
          "| × cp (time) | × cp (`elapsed_ms`) | data |")
        w("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
        for m in (rl_a, rl_r, rl_c):
            if not m:
                continue
            mv = mstat(m, "movers") or {}
            moved = ", ".join("%s %s" % (k, size_str(v)) for k, v in mv.items() if v) or "—"
            e = mstat(m, "elapsed_ms")
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                m["id"] if m["stack"] != "cp" else "`cp --reflink=always`",
                f(m["wall_s"], "%.3f"), f(e, "%d"), moved if m["stack"] == "svm" else "—",
                f(mstat(m, "max_pause_ms"), "%d"),
                m.get("sync_s", "-") if m.get("sync_s", "-") != "-" else "—",
                fx(ratio(wall(m), wall(rl_c))) if m["stack"] == "svm" else "(1)",
                fx(ratio(e / 1000.0 if e is not None else None, wall(rl_c))) if m["stack"] == "svm" else "—",
                {"yes": "identical", "no": "**DIFFERENT**"}.get(m.get("data_ok"), "—")))
        w("")
        w("*Time*: wall clock around `svmctl migrate --wait` (process start, polls every %s s "
          "included) or `cp`; `elapsed_ms`: the handler's, from the start of the migration to "
          "its end (destination created, record written, the pass, the switchover, LIO's "
          "dev_config commit, source deleted). `cp` is not durable by itself: the `sync` "
          "after it is timed apart. *Data*: compared (`cmp`) with a clone of the data made "
          "before the first migration, once, after the second migration (which carried what the "
          "first one had copied)." % guest.get("reflink_interval", "?"))
        w("")

    # --- set-up -----------------------------------------------------------------------------
    w("### Set-up")
    w("")
    mem = num(guest.get("guest_mem_kib"))
    w("- **VM**: %s vCPUs, %s MiB (`-m %s`; MemTotal %s MiB), qemu `-accel %s`, guest kernel %s. "
      "The stores live in the guest's RAM: up to 3 × %s at a time in the tmpfs (the svm "
      "store, the PV, one destination), and the loop devices' page cache on top, so the rig's "
      "default of 2 GiB is too small for 1 GiB LUNs (`migrate-run -m`)." % (
          meta.get("vm_smp", "?"), meta.get("vm_mem_mib", "?"), meta.get("vm_mem_mib", "?"),
          "%.0f" % (mem / 1024) if mem else "?", meta.get("vm_accel", "?"),
          guest.get("guest_kernel", "?").split(" ")[0], size_str(size)))
    w("- **Backing storage**: one tmpfs (`size=%s`); each store a sparse file of it behind a "
      "loop device (buffered: the loop driver writes into the tmpfs's pages). svm LUN "
      "`user:svm` `mb`, `cfgstring=/dev/loopN` (a block-device store, default `wce=yes`), "
      "`cmd_time_out=120`; pvmove: PVs of %s (`pvcreate`, `vgcreate -s 4M`), LV of %s "
      "(`lvcreate -Wn -Zn`), LIO `block` backstore `lb` on `/dev/mapper/vgmig-lv`. Both on "
      "one tcm_loop target; scheduler `none` on both disks." % (
          size_str(int(guest.get("tmpfs_size", "0") or 0)),
          size_str(int(guest.get("pv_size", "0") or 0)), size_str(size)))
    w("- **Data**: each store filled with %s by fio (1 MiB sequential writes of fio's random "
      "buffers) before any run; then every fio run rewrote random 4 KiB blocks of it." % size_str(size))
    w("- **LVM in the guest** (no udev, lvmpolld or dmeventd there): `LVM_SYSTEM_DIR` with "
      "`udev_sync=0 udev_rules=0 verify_udev_operations=1 monitoring=0 use_lvmpolld=0` "
      "(pvmove polls in the foreground), a filter accepting only the PVs, no metadata backups. "
      "pvmove uses dm-mirror (`mirror` target, core log), kernel module `dm_mirror` %s. LVM %s." % (
          guest.get("dm_mirror", "?"), guest.get("lvm_version", "?")))
    w("- **fio**: `--rw=randwrite --bs=4k --ioengine=libaio --direct=1 --iodepth=%s --numjobs=1 "
      "--time_based --norandommap --randrepeat=0`, latency percentiles of `lat`, IOPS and "
      "latency logs in 500 ms windows (latency: each window's maximum); without migration "
      "`--runtime=%s --ramp_time=%s`; under load `--ramp_time=%s`, the migration starting "
      "once fio's writes flow (the disk's write counter moves) and %s s more have passed, "
      "fio stopped by SIGINT when the command returns. %s." % (
          guest.get("qd", "?"), guest.get("base_time", "?"), guest.get("ramp", "?"),
          guest.get("ramp", "?"), guest.get("ramp", "?"), guest.get("fio_version", "?")))
    w("- **Before every run**: `sync; echo 3 > /proc/sys/vm/drop_caches`. Order: base1-svm, "
      "base1-lvm, idle-svm, idle-lvm, load-lvm, load-svm, base2-lvm, base2-svm, then the "
      "reflink part.")
    w("- **Handler build**: `%s` (`git describe --dirty`), built %s, sha256 `%s…`; svmctl "
      "sha256 `%s…`%s." % (
          meta.get("handler", "?"), meta.get("handler_built", "?"),
          meta.get("handler_sha256", "?")[:16], meta.get("svmctl_sha256", "?")[:16],
          ("; uncommitted changes at run time in: %s" % ", ".join(
              "`%s`" % x for x in meta.get("handler_dirty", "").split()))
          if meta.get("handler_dirty") else ""))
    w("- **Packages**: %s; guest tools: %s, %s." % (
        ", ".join("%s %s" % (p, v) for p, v in pkgs), guest.get("fio_version", "?"),
        guest.get("xfsprogs", "?")))
    w("- Host: %s CPUs (%s), kernel %s. Whole VM run: %s s." % (
        meta.get("host_nproc", "?"), meta.get("host_cpu_model", "?"), meta.get("host_kernel", "?"),
        meta.get("vm_wall_s", "?")))
    w("")

    # --- contention --------------------------------------------------------------------------
    w("### Contention")
    w("")
    if hostload:
        w(contention(hostload, meta.get("host_nproc", "?"),
                     "Per run (mean load / most qemu processes):"))
        w("")
        items = []
        for r in runs:
            items.append((r["t0"], "%s %s" % (r["run"], load_str(r["t0"], r["t1"]))))
        for m in migs:
            items.append((m["t0"], "%s %s" % (m["id"], load_str(m["fio_t0"] or m["t0"], m["t1"]))))
        w(", ".join(x for _, x in sorted(items)) + ".")
    else:
        w("No host load samples.")
    w("")

    # --- notes ------------------------------------------------------------------------------
    w("### Notes")
    w("")
    notes = []
    # what the run says about a missed target (the figures above, not a diagnosis)
    if r_svm_li is not None and r_svm_li > T_LOAD_IDLE:
        qi = pass_rate_quarters(idle_s) if idle_s else None
        ql = pass_rate_quarters(load_s) if load_s else None
        notes.append(
            "(a) missed: under load the guest's 2 vCPUs were %s busy during the svm migration "
            "(idle: %s), shared by the pass, fio, tcm_loop/TCMU and the loop devices' workers; "
            "and more host writes go to both stores as more of the LUN lies behind the pass's "
            "cursor (%s mirrored writes)%s. pvmove's time grew %s under the same load." % (
                f(load_s["busy_pct"], "%.0f%%"), f(idle_s["busy_pct"], "%.0f%%"),
                mstat(load_s, "mirrored_writes"),
                (": the pass's rate fell from %s MiB/s in its first quarter to %s in its last "
                 "(idle: %s to %s)" % (f(ql[0], "%.1f"), f(ql[-1], "%.1f"), f(qi[0], "%.1f"),
                                       f(qi[-1], "%.1f"))) if qi and ql else "",
                fx(r_lvm_li)))
    if ir_svm is not None and ir_svm < T_IOPS:
        b = base_of("svm")
        if len(b) == 2 and fio.get("load-svm"):
            li = fio["load-svm"]["iops"]
            r0, r1 = ratio(li, b[0]["iops"]), ratio(li, b[1]["iops"])
            notes.append(
                "(b) missed against the mean of the two runs without migration; against the "
                "first alone it is %s, against the last %s%s." % (
                    fx(r0), fx(r1),
                    ": %.2f× lies between the two, within this run's noise" % T_IOPS
                    if min(r0, r1) < T_IOPS <= max(r0, r1) else ""))
    notes.append("svm's LUN goes through tcmu-runner in user space, the iblock LUN stays in the "
                 "kernel: their absolute IOPS differ for that reason alone; the targets compare "
                 "each stack with itself (with and without migration, idle and under load), "
                 "and the two stacks only by migration time.")
    notes.append("The svm stores are block devices here, like pvmove's PVs, so `--mover auto` "
                 "falls back to `bounce` (the handler reads and writes the data itself; "
                 "`copy_file_range` and reflinks need files): the `movers` field of the status "
                 "said %s." % (", ".join("%s %s" % (k, size_str(v)) for k, v in
                                        (mstat(idle_s, "movers") or {}).items() if v) or "?"))
    notes.append("Raw results: `build/bench-migrate/results/` (migrations.tsv, runs.tsv, fio "
                 "JSON and logs `fio-<run>*`, each command's stamped output `mig-<id>.out`, the "
                 "pollers' timelines `mig-<id>-timeline.tsv`, svmctl's last status "
                 "`mig-<id>-status.json`, the SVM log `tcmu-svm.log`, LVM's layout `lvm.txt`).")
    notes.append("To change the run: `SVM_MBENCH_SIZE` (default 1G), `SVM_MBENCH_QD` (16), "
                 "`SVM_MBENCH_BASE_TIME` (30), `SVM_MBENCH_RAMP` (5), `SVM_MBENCH_MOVER` (auto), "
                 "`SVM_MBENCH_INTERVAL` (1), `SVM_MBENCH_REFLINK=0` (skip the reflink part), "
                 "`SVM_MBENCH_LOOP=0` (only the reflink part); "
                 "`tests/bench/migrate-run -m MiB` for the VM's memory, `-n` to leave this file "
                 "alone (the section goes to `build/bench-migrate/migrate.md`).")
    if bad:
        notes.insert(0, "**Failed or different in this run**: " + "; ".join(bad) + ".")
    if problems:
        notes.insert(0, "**Not measured**: " + "; ".join(problems) + ".")
    for n in notes:
        w("- " + n)
    w(END)
    text = "\n".join(out) + "\n"

    write_section(text, args.md, args.doc, BEGIN, END)

    # summary
    for m in migs:
        print("%-16s rc %s  %8s s  elapsed %s ms  pause %s ms  data %s" % (
            m["id"], m["rc"], f(m["wall_s"]), f(mstat(m, "elapsed_ms"), "%d"),
            f(mstat(m, "max_pause_ms"), "%d"), m.get("data_ok")))
    print("svm load/idle %s (target <= %.2f), pvmove load/idle %s; svm/pvmove idle %s load %s" % (
        fx(r_svm_li), T_LOAD_IDLE, fx(r_lvm_li), fx(r_vs_idle), fx(r_vs_load)))
    print("IOPS while mirroring / none: svm %s (window %s; target >= %.2f), pvmove %s (window %s)" % (
        fx(ir_svm), fx(ir_svm_w), T_IOPS, fx(ir_lvm), fx(ir_lvm_w)))
    print("max_pause_ms: idle %s, load %s (target <= %d)" % (pause_idle, pause_load, T_PAUSE_MS))
    if problems:
        print("migrate-report: not measured: " + "; ".join(problems), file=sys.stderr)
        return 2
    if bad:
        print("migrate-report: " + "; ".join(bad), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
