#!/usr/bin/python3
"""Turn the raw results of a benchmark run into docs/benchmarks.md.

usage: report.py [--md FILE] RESULTS_DIR

RESULTS_DIR is what tests/bench/guest.sh and tests/bench/run leave in
build/bench/results: meta.txt (host, packages), guest.txt (guest, fio
parameters), marks.tsv (start and end of every fio job), devices.tsv,
attrib.txt, host-load.tsv, <phase>-r<round>.json (fio --output-format=json,
one job <phase>-r<round>-<lun> per LUN) and optionally perf-<lun>.txt.

Prints a short summary.  Exit status 0 when every metric of every LUN was
measured (whether or not the targets were met: this is a benchmark, not a
test), 2 when results are missing or unreadable.
"""

import argparse
import json
import os
import re
import sys

from benchlib import Missing, fio_jobs, read_kv, read_tsv

LUNS = ("svm", "fileio", "qcow")
LUN_DESC = {
    "svm": "`user:svm` (this handler, tcmu-runner)",
    "fileio": "LIO `fileio`, write_back=true (in-kernel)",
    "qcow": "`user:qcow` (tcmu-runner's stock qcow handler)",
}
# metric: (phase, fio direction, unit, title)
METRICS = [
    ("randwrite", "write", "IOPS", "4 KiB random write, iodepth 16"),
    ("seqwrite", "write", "MiB/s", "1 MiB sequential write, iodepth 8"),
    ("seqread", "read", "MiB/s", "1 MiB sequential read, iodepth 8"),
    ("newwrite", "write", "IOPS", "4 KiB random write on new, sparse stores, iodepth 16"),
]
# The targets, each to be met in every round (not on average):
# (metric, what, against, op, bound, text).  what "value": the metric's IOPS
# or MiB/s, svm / against; "p99": fio's 99th percentile completion latency,
# svm / against (lower is better).
TARGETS = [
    ("randwrite", "value", "fileio", ">=", 0.9,
     "4 KiB random write, preallocated: svm ≥ 0.9× fileio"),
    ("randwrite", "value", "qcow", ">=", 1.1,
     "4 KiB random write, preallocated: svm ≥ 1.1× qcow"),
    ("newwrite", "value", "fileio", ">=", 0.9,
     "4 KiB random write, new sparse stores: svm ≥ 0.9× fileio"),
    ("seqwrite", "value", "fileio", ">=", 0.5, "1 MiB sequential write: svm ≥ 0.5× fileio"),
    ("seqread", "value", "fileio", ">=", 0.5, "1 MiB sequential read: svm ≥ 0.5× fileio"),
    ("randwrite", "p99", "fileio", "<=", 1.5,
     "p99 latency of 4 KiB random writes, preallocated: svm ≤ 1.5× fileio's"),
]
MIN_ROUNDS = 3


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "IOPS":
        return "%.0f" % v
    return "%.1f" % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "n/a" if r is None else "%.2f×" % r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--md")
    ap.add_argument("results")
    args = ap.parse_args()
    res = args.results

    meta, pkgs = read_kv(os.path.join(res, "meta.txt"))
    guest, _ = read_kv(os.path.join(res, "guest.txt"))
    runs = read_tsv(os.path.join(res, "marks.tsv"))
    devices = {d["lun"]: d for d in read_tsv(os.path.join(res, "devices.tsv"))}
    hostload = read_tsv(os.path.join(res, "host-load.tsv"))
    clk = int(guest.get("clk_tck", "100") or 100)
    ncpu = int(guest.get("guest_cpus", "2") or 2)
    if not runs:
        print("report: no marks.tsv in %s" % res, file=sys.stderr)
        return 2

    problems = []
    # marks: (phase, round, lun) -> {"start": [...], "end": [...]}
    marks = {}
    for m in runs:
        marks.setdefault((m["phase"], m["round"], m["lun"]), {})[m["event"]] = m
    # per run: fio numbers + CPU accounting + host load in its window
    detail = []
    for phase, _d, _u, _t in METRICS:
        for rnd in sorted({m["round"] for m in runs if m["phase"] == phase}, key=int):
            path = os.path.join(res, "%s-r%s.json" % (phase, rnd))
            try:
                jobs = fio_jobs(path)
            except Missing as e:
                problems.append(str(e))
                continue
            for job in jobs:
                name = job.get("jobname", "")
                lun = name.rsplit("-", 1)[-1]
                if lun not in LUNS:
                    problems.append("%s: unexpected job %s" % (path, name))
                    continue
                m = marks.get((phase, rnd, lun), {})
                if "start" not in m or "end" not in m:
                    problems.append("%s: no start/end marks for %s" % (path, name))
                    continue
                x = job["read" if phase == "seqread" else "write"]
                if job.get("error"):
                    problems.append("%s: job %s: fio error %s" % (path, name, job["error"]))
                    continue
                if not x.get("io_bytes"):
                    problems.append("%s: job %s moved no data" % (path, name))
                    continue
                t0, t1 = float(m["start"]["epoch"]), float(m["end"]["epoch"])
                busy = int(m["end"]["cpu_busy"]) - int(m["start"]["cpu_busy"])
                total = int(m["end"]["cpu_total"]) - int(m["start"]["cpu_total"])
                tcmu = int(m["end"]["tcmu_ticks"]) - int(m["start"]["tcmu_ticks"])
                wall = t1 - t0
                pct = x["clat_ns"].get("percentile", {})
                p99 = pct.get("99.000000")
                window = [h for h in hostload if t0 - 5 <= float(h["epoch"]) <= t1 + 5]
                detail.append({
                    "phase": phase, "round": int(rnd), "lun": lun, "t0": t0,
                    "iops": x["iops"], "mibs": x["bw_bytes"] / 2 ** 20, "ios": x["total_ios"],
                    "bytes": x["io_bytes"], "runtime_s": x["runtime"] / 1000.0,
                    "clat_us": x["clat_ns"]["mean"] / 1000.0,
                    "p99_us": p99 / 1000.0 if p99 is not None else None,
                    "guest_busy_pct": 100.0 * busy / total if total else None,
                    # CPU of the whole job (ramp included) per I/O of the
                    # measured part: an approximation, the same for every LUN
                    "cpu_ms_per_kio": (1000.0 * busy / clk) / (x["total_ios"] / 1000.0)
                    if x["total_ios"] else None,
                    "tcmu_pct": 100.0 * tcmu / clk / wall if wall > 0 else None,
                    "fio_usr": job.get("usr_cpu"), "fio_sys": job.get("sys_cpu"),
                    "host_load": (sum(float(h["load1"]) for h in window) / len(window))
                    if window else None,
                    "host_qemu": max(int(h["qemu_procs"]) for h in window) if window else None,
                })
    detail.sort(key=lambda d: d["t0"])

    def agg(phase, lun, unit):
        rows = [d for d in detail if d["phase"] == phase and d["lun"] == lun]
        if not rows:
            return None, []
        t = sum(d["runtime_s"] for d in rows)
        if unit == "IOPS":
            v = sum(d["ios"] for d in rows) / t
            per = [d["iops"] for d in rows]
        else:
            v = sum(d["bytes"] for d in rows) / 2 ** 20 / t
            per = [d["mibs"] for d in rows]
        return v, per

    results = {}
    for phase, _d, unit, _t in METRICS:
        for lun in LUNS:
            v, per = agg(phase, lun, unit)
            results[(phase, lun)] = (v, per)
            if v is None:
                problems.append("no result for %s on %s" % (phase, lun))

    # Per-round ratios: svm against fileio and qcow, each within one round
    # (the three LUNs of a round ran back to back).  what: "value" (IOPS or
    # MiB/s of the metric) or "p99" (completion latency, 99th percentile).
    all_rounds = sorted({d["round"] for d in detail})
    by = {(d["phase"], d["round"], d["lun"]): d for d in detail}

    def round_ratio(phase, what, against, rnd):
        a, b = by.get((phase, rnd, "svm")), by.get((phase, rnd, against))
        if a is None or b is None:
            return None
        if what == "p99":
            return ratio(a["p99_us"], b["p99_us"])
        unit = [m[2] for m in METRICS if m[0] == phase][0]
        key = "iops" if unit == "IOPS" else "mibs"
        return ratio(a[key], b[key])

    def per_round(phase, what, against):
        rs = [round_ratio(phase, what, against, r) for r in all_rounds]
        got = [r for r in rs if r is not None]
        return rs, (min(got) if got else None), (max(got) if got else None)

    def meets(r, op, bound):
        # compare at the precision shown (two decimals), so that a ratio
        # printed as 0.90× counts as meeting 0.9×
        if r is None:
            return False
        r = round(r, 2)
        return r >= bound if op == ">=" else r <= bound

    target_rows = []
    for phase, what, against, op, bound, text in TARGETS:
        rs, lo, hi = per_round(phase, what, against)
        n_met = sum(1 for r in rs if meets(r, op, bound))
        target_rows.append((text, rs, lo, hi, n_met, len(all_rounds)))

    # host load per round (mean 1-min load average over the round's jobs)
    round_load = {}
    for rnd in all_rounds:
        rows = [d for d in detail if d["round"] == rnd and d["host_load"] is not None]
        if rows:
            round_load[rnd] = (sum(d["host_load"] for d in rows) / len(rows),
                               max(d["host_qemu"] for d in rows))

    # ---- markdown ----
    L = []
    w = L.append
    w("# Benchmarks")
    w("")
    w("*Generated by `make bench` (`tests/bench/run`) on %s; do not edit by hand — "
      "rerun it.*" % meta.get("date", "?"))
    w("")
    w("> **Caveat.** This is **one run** (of several interleaved rounds) on a **shared, "
      "noisy 2-core machine**, inside a "
      "**QEMU guest under TCG** (pure software emulation, no KVM): every guest instruction, "
      "the kernel's and tcmu-runner's alike, is translated, so absolute numbers are one to "
      "two orders of magnitude below real hardware and CPU-heavy paths are penalised more "
      "than memory copies. Other engineers' VMs may have run at the same time (see "
      "*Contention*). Read the **ratios**, measured side by side in one VM with the three "
      "LUNs interleaved, not the absolute values — and even the ratios only roughly.")
    w("")
    w("## Result")
    w("")
    w("Three LUNs of the same size on the same ext4 file system, each exported through "
      "tcm_loop and driven by fio on its `/dev/sdX`:")
    w("")
    for lun in LUNS:
        w("- **%s**: %s" % (lun, LUN_DESC[lun]))
    w("")
    nr = len(all_rounds)
    w("**Targets** (the issue's; each is to be met in every round, not on average). "
      "A round's ratio compares the three LUNs' runs of that round, which ran one after "
      "the other:")
    w("")
    w("| target | %s | min | max | rounds met |" % " | ".join(
        "round %d" % r for r in all_rounds))
    w("| --- | %s | ---: | ---: | ---: |" % " | ".join("---:" for _ in all_rounds))
    for text, rs, lo, hi, n_met, n in target_rows:
        w("| %s | %s | %s | %s | **%d of %d** |" % (
            text, " | ".join(fmt_ratio(r) for r in rs), fmt_ratio(lo), fmt_ratio(hi), n_met, n))
    w("")
    every = [t[0] for t in target_rows if t[4] == t[5] and t[5] > 0]
    w("Met in every round: %s. The migration benchmark's targets are not part of "
      "`make bench` (see *Live migration*, `make bench-migrate`)." % (
          "; ".join(every) if every else "none"))
    if nr < MIN_ROUNDS:
        w("")
        w("**Only %d round(s) ran** (`SVM_BENCH_ROUNDS`); the issue asks for at least %d."
          % (nr, MIN_ROUNDS))
    w("")
    w("**Ratios per round**, svm against the other two (higher is better for svm, except "
      "the p99 latency rows, where lower is better):")
    w("")
    w("| ratio | %s | min | max |" % " | ".join("round %d" % r for r in all_rounds))
    w("| --- | %s | ---: | ---: |" % " | ".join("---:" for _ in all_rounds))
    for phase, _d, unit, title in METRICS:
        for against in ("fileio", "qcow"):
            rs, lo, hi = per_round(phase, "value", against)
            w("| %s, %s: svm / %s | %s | **%s** | **%s** |" % (
                title, unit, against, " | ".join(fmt_ratio(r) for r in rs),
                fmt_ratio(lo), fmt_ratio(hi)))
    for phase in ("randwrite", "newwrite"):
        title = [m[3] for m in METRICS if m[0] == phase][0]
        for against in ("fileio", "qcow"):
            rs, lo, hi = per_round(phase, "p99", against)
            w("| %s, p99 latency: svm / %s | %s | **%s** | **%s** |" % (
                title, against, " | ".join(fmt_ratio(r) for r in rs),
                fmt_ratio(lo), fmt_ratio(hi)))
    if round_load:
        w("| *host: mean 1-min load average (most qemu processes)* | %s | | |" % " | ".join(
            ("%.1f (%d)" % round_load[r]) if r in round_load else "—" for r in all_rounds))
    w("")
    w("**Totals** over all rounds (I/Os or bytes divided by the measured time of all "
      "rounds; the ratios of the totals, for orientation only — the targets are per round):")
    w("")
    w("| metric | svm | fileio | qcow | svm / fileio | svm / qcow |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for phase, _d, unit, title in METRICS:
        v = {lun: results[(phase, lun)][0] for lun in LUNS}
        w("| %s (%s) | %s | %s | %s | %s | %s |" % (
            title, unit, fmt(v["svm"], unit), fmt(v["fileio"], unit), fmt(v["qcow"], unit),
            fmt_ratio(ratio(v["svm"], v["fileio"])), fmt_ratio(ratio(v["svm"], v["qcow"]))))
    w("")
    w("Per-run values (and the latencies) are in *Every run* below. *Preallocated*: the "
      "`randwrite` rows, stores fully written before the runs (every write an overwrite; "
      "qcow2 with every cluster allocated, its best case). *New, sparse*: the `newwrite` "
      "rows, in every round three further LUNs made the default way (see *Set-up*), so "
      "first writes allocate — for qcow2 a 64 KiB cluster with its metadata; they are "
      "deleted after their run.")
    w("")

    # max transfer size
    def dev(lun, key):
        return devices.get(lun, {}).get(key, "?")

    w("### Maximum transfer size")
    w("")
    w("What the initiator (sd) sees on each LUN. A 1 MiB fio I/O larger than "
      "`max_sectors_kb` is split by the block layer into several SCSI commands.")
    w("")
    w("| LUN | device | max_sectors_kb | max_hw_sectors_kb | queue_depth | cache_type | "
      "1 MiB I/O = commands |")
    w("| --- | --- | ---: | ---: | ---: | --- | ---: |")
    for lun in LUNS:
        try:
            n = "%d" % -(-1024 // int(dev(lun, "max_sectors_kb")))
        except ValueError:
            n = "?"
        w("| %s | %s | %s | %s | %s | %s | %s |" % (
            lun, dev(lun, "dev"), dev(lun, "max_sectors_kb"), dev(lun, "max_hw_sectors_kb"),
            dev(lun, "queue_depth"), dev(lun, "cache_type"), n))
    w("")
    attrib = {}
    apath = os.path.join(res, "attrib.txt")
    if os.path.exists(apath):
        with open(apath) as f:
            for line in f:
                # user_1/svm0/attrib/hw_max_sectors:128
                line = line.strip()
                if ":" not in line:
                    continue
                p, v = line.split(":", 1)
                parts = p.split("/")
                if len(parts) >= 4:
                    attrib[(parts[1], parts[3])] = v
    keys = ("hw_max_sectors", "max_sectors", "optimal_sectors", "hw_queue_depth", "queue_depth",
            "emulate_write_cache", "max_data_area_mb", "block_size")
    bsname = {"svm": "svm0", "fileio": "fileio0", "qcow": "qcow0"}
    w("LIO attributes of the backstores (configfs `attrib/`):")
    w("")
    w("| attribute | svm | fileio | qcow |")
    w("| --- | ---: | ---: | ---: |")
    for k in keys:
        w("| %s | %s |" % (k, " | ".join(attrib.get((bsname[l], k), "—") for l in LUNS)))
    w("")
    try:
        ms = {lun: int(dev(lun, "max_sectors_kb")) for lun in LUNS}
        if ms["svm"] < 1024 and ms["svm"] < ms["fileio"]:
            w("Here svm (and qcow) LUNs take at most %d KiB per command, so every 1 MiB "
              "sequential I/O reaches the handler as %d commands, while fileio gets it whole: "
              "this handicaps the tcmu-runner LUNs in the 1 MiB metrics (not in 4 KiB random "
              "writes). See *Notes*." % (ms["svm"], -(-1024 // ms["svm"])))
            w("")
        elif ms["svm"] >= 1024:
            w("Both `user:` backstores were created with `hw_max_sectors=%s` (LIO's default "
              "for them is 128, 64 KiB), so a 1 MiB fio I/O reaches svm and qcow as one "
              "command, as it reaches fileio (docs/tuning.md, *Large transfers*)."
              % guest.get("hw_max_sectors_user", "?"))
            w("")
    except ValueError:
        pass

    # ---- contention ----
    w("## Contention")
    w("")
    if hostload:
        loads = [float(h["load1"]) for h in hostload]
        qemus = [int(h["qemu_procs"]) for h in hostload]
        busy = [float(h["host_busy_pct"]) for h in hostload]
        others = sum(1 for q in qemus if q > 1)
        w("Sampled on the host every 5 s during the VM run (%d samples): 1-minute load "
          "average %.1f–%.1f (mean %.1f) on %s CPUs; host CPU busy %.0f%% on average; "
          "qemu processes running: %d–%d (ours is one). Other VMs ran during %d of %d "
          "samples (%.0f%%)." % (
              len(hostload), min(loads), max(loads), sum(loads) / len(loads),
              meta.get("host_nproc", "?"), sum(busy) / len(busy), min(qemus), max(qemus),
              others, len(hostload), 100.0 * others / len(hostload)))
        w("")
        if others:
            w("**There was contention**: our guest's two vCPUs shared the machine's %s cores "
              "with other VMs for %s of the run, which slows every LUN and adds noise; the "
              "interleaved order (below) spreads it, but cannot remove it. The load seen "
              "during each fio run is in *Every run*, per round in *Ratios per round*." % (
                  meta.get("host_nproc", "?"),
                  "all" if others == len(hostload) else "part"))
        else:
            w("No other VM ran during the measurements.")
    else:
        w("No host load samples were recorded.")
    w("")

    # ---- per run ----
    w("## Every run")
    w("")
    w("In the order they ran. *guest CPU* = busy share of the guest's %d vCPUs over the "
      "whole fio run (start-up and ramp included); *CPU ms / 1k I/O* = guest CPU time per "
      "1000 measured I/Os (approximate: includes start-up and ramp); *tcmu-runner* = CPU used "
      "by the tcmu-runner process (all threads; 100%% = one vCPU) — it serves svm and qcow, "
      "and is idle during fileio runs; *host load* = mean 1-minute load average of the host "
      "during the run (max qemu processes)." % ncpu)
    w("")
    w("| phase | round | LUN | IOPS | MiB/s | clat mean µs | clat p99 µs | guest CPU | "
      "CPU ms / 1k I/O | tcmu-runner | fio usr/sys | host load (qemu) |")
    w("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    def opt(v, f):
        return "—" if v is None else f % v

    for d in detail:
        w("| %s | %d | %s | %.0f | %.1f | %.0f | %s | %s | %s | %s | %s | %s |" % (
            d["phase"], d["round"], d["lun"], d["iops"], d["mibs"], d["clat_us"],
            opt(d["p99_us"], "%.0f"), opt(d["guest_busy_pct"], "%.0f%%"),
            opt(d["cpu_ms_per_kio"], "%.0f"), opt(d["tcmu_pct"], "%.0f%%"),
            "%.0f/%.0f%%" % (d["fio_usr"] or 0, d["fio_sys"] or 0),
            "%s (%s)" % (opt(d["host_load"], "%.1f"), opt(d["host_qemu"], "%d"))))
    w("")
    # spread of the key metric
    w("Per-round 4 KiB random write IOPS: " + "; ".join(
        "%s %s" % (lun, ", ".join("%.0f" % v for v in results[("randwrite", lun)][1]))
        for lun in LUNS) + ".")
    w("")
    # CPU efficiency on random writes
    eff = {}
    for lun in LUNS:
        rows = [d for d in detail if d["phase"] == "randwrite" and d["lun"] == lun
                and d["cpu_ms_per_kio"] is not None]
        if rows:
            eff[lun] = sum(d["cpu_ms_per_kio"] for d in rows) / len(rows)
    if len(eff) == 3:
        w("Guest CPU per 1000 random 4 KiB writes (mean over rounds): svm %.0f ms, "
          "fileio %.0f ms, qcow %.0f ms. Under TCG the guest is CPU-bound, so this cost per "
          "I/O largely decides the IOPS." % (eff["svm"], eff["fileio"], eff["qcow"]))
        w("")

    # ---- setup ----
    w("## Set-up")
    w("")
    w("| | |")
    w("| --- | --- |")
    w("| date | %s |" % meta.get("date", "?"))
    w("| host | %s CPUs (%s), %s MiB, kernel %s |" % (
        meta.get("host_nproc", "?"), meta.get("host_cpu_model", "?"),
        meta.get("host_mem_mib", "?"), meta.get("host_kernel", "?")))
    w("| VM | qemu `-accel %s` (TCG: software emulation), %s vCPUs (`-cpu max`: %s), "
      "%s MiB |" % (meta.get("vm_accel", "?"), meta.get("vm_smp", "?"),
                    guest.get("guest_cpu_model", "?"), meta.get("vm_mem_mib", "?")))
    w("| guest kernel | %s |" % guest.get("guest_kernel", "?"))
    w("| handler | `build/handler_svm.so` from %s (sha256 %s…) |" % (
        meta.get("handler", "?"), meta.get("handler_sha256", "?")[:12]))
    w("| fio | %s |" % guest.get("fio_version", "?"))
    w("| wall time | %s s for the whole VM run (boot, set-up, measurements%s) |" % (
        meta.get("vm_wall_s", "?"),
        ", profiles" if any(os.path.exists(os.path.join(res, "perf-%s.txt" % l))
                            for l in LUNS) else ""))
    w("")
    w("Debian packages:")
    w("")
    w("| package | version |")
    w("| --- | --- |")
    for p, v in pkgs:
        w("| %s | %s |" % (p, v))
    w("")
    hwmax = guest.get("hw_max_sectors_user", guest.get("hw_max_sectors_override", "none"))
    hwtxt = " hw_max_sectors=%s" % hwmax if hwmax != "none" else ""
    w("**Stores.** %s, mounted in the guest; the three stores are files on it, each "
      "%s. A RAM disk keeps the host's disk (and other VMs' I/O on it) out of the numbers "
      "while still going through a real file system (ext4: extents, journal, page cache, "
      "writeback). All three are **fully allocated before the runs**, so every run measures "
      "overwrites in the steady state, not first-touch allocation:" % (
          guest.get("store_fs", "ext4 on a RAM disk"), guest.get("lun_size", "?")))
    w("")
    w("- svm: the file written with zeros (`dd bs=1M conv=fsync`), then "
      "`/backstores/user:svm create name=svm0 size=<bytes> "
      "cfgstring=/var/lib/svm-bench/svm.img%s` — buffered I/O through the page cache, a "
      "volatile write cache reported (`wce=yes`, the default; FUA → `RWF_DSYNC`, "
      "SYNCHRONIZE CACHE → `fdatasync`); the handler (`%s`) runs a worker pool of %s "
      "threads shared by the runner's svm LUNs (its log line; `SVM_THREADS`, "
      "`SVM_LUN_THREADS`, docs/tuning.md);" % (
          hwtxt, guest.get("svm_so", "?"), guest.get("svm_threads", "?")))
    closed = []
    try:
        with open(os.path.join(res, "..", "tcmu-runner", "tcmu-runner.log")) as f:
            # tcmu-runner cuts long log lines short and then drops their
            # newline: such a line ends where the next one's time stamp starts
            closed = [m.group(1).strip() for m in re.finditer(
                r"svm: (LUN on \S+ closed;.*?)(?=\d{4}-\d\d-\d\d \d\d:\d\d:|\n|$)",
                f.read())]
    except OSError:
        pass
    if closed:
        w("  where its commands ran, from its log line as each LUN closed: %s;" % "; ".join(
            "`%s`" % c for c in closed))
    w("- fileio: the file written with zeros the same way, then `/backstores/fileio create "
      "name=fileio0 file_or_dev=/var/lib/svm-bench/fileio.img size=<bytes> write_back=true` "
      "— buffered I/O with a volatile write cache reported (targetcli's default for a file), "
      "the same semantics as svm; in-kernel, no ring, no user space;")
    w("- qcow: `qemu-img create -f qcow2 -o compat=0.10,cluster_size=65536,"
      "preallocation=full` (qcow2 version 2, the format tcmu-runner 1.5.4's qcow handler was "
      "written for; 64 KiB clusters, every cluster allocated — qcow's best case), then "
      "`/backstores/user:qcow create name=qcow0 size=<bytes> "
      "cfgstring=/var/lib/svm-bench/qcow.qcow2%s` — the handler forces WCE=1 and does "
      "buffered `pwritev`; tcmu-runner runs it with one worker thread (`nr_threads = 1`)."
      % hwtxt)
    w("")
    w("**New, sparse stores** (`newwrite`, new ones in every round, one run each, deleted "
      "with their files after it): `/backstores/user:svm create name=svmnew<round> "
      "size=<bytes> cfgstring=/var/lib/svm-bench/svm-new-r<round>.img%s` (the handler "
      "creates the missing file, sparse); `truncate -s <bytes> fileio-new-r<round>.img` and "
      "`/backstores/fileio create name=fileionew<round> file_or_dev=... write_back=true` (a "
      "file targetcli makes itself came out fully allocated); `qemu-img create -f qcow2 -o "
      "compat=0.10,cluster_size=65536` (no preallocation) and `/backstores/user:qcow create "
      "name=qcownew<round> ...%s`. Their allocation before and after each run is in "
      "`build/bench/results/stores.txt`." % (hwtxt, hwtxt))
    w("")
    w("The I/O scheduler of every `/dev/sdX` is set to `none` (the comparison is about "
      "the targets, not the initiator's queueing).")
    w("")
    w("**fio** %s, job file per phase and round (kept as `build/bench/results/"
      "<phase>-r<round>.fio`): `[global]` `%s` plus the phase's options, and one job per "
      "LUN with `filename=/dev/sdX`, `stonewall`:" % (
          guest.get("fio_version", "?"), guest.get("fio_global", "?")))
    w("")
    w("| phase | options |")
    w("| --- | --- |")
    for p in ("seqwrite", "seqread", "randwrite", "newwrite"):
        w("| %s | `%s` |" % (p, guest.get("fio_" + p, "?")))
    w("")
    w("**Order.** %s interleaved rounds. One fio process per phase and round runs the three "
      "LUNs one after the other (`stonewall`; a fio start costs several seconds under TCG). "
      "Odd rounds run seqwrite, seqread, randwrite, newwrite with the LUNs in the order svm, "
      "fileio, qcow; even rounds the mirror image (newwrite, randwrite, seqread, seqwrite; "
      "qcow, fileio, svm), so a linear drift in the machine's speed weighs the same on every "
      "LUN. Before every job "
      "(fio `exec_prerun`, `tests/bench/mark`): `sync` and `echo 3 > "
      "/proc/sys/vm/drop_caches`, so that every job starts with no dirty data of an earlier "
      "one and the same (cold) page cache. fio's `ramp_time` is excluded from the numbers."
      % guest.get("rounds", "?"))
    w("")

    # ---- profiles ----
    prof = [(l, os.path.join(res, "perf-%s.txt" % l)) for l in LUNS]
    prof = [(l, p) for l, p in prof if os.path.exists(p) and os.path.getsize(p) > 0]
    if prof:
        w("## Profiles (4 KiB random write)")
        w("")
        w("After the measurements (so they cannot disturb them): `perf record -a -e cpu-clock "
          "-F 999` for 8 s while fio runs the randwrite job on one LUN; top entries of "
          "`perf report --no-children --sort comm,dso,sym` (whole guest, both vCPUs; "
          "tcmu-runner itself is stripped, so its own frames show as addresses).")
        w("")
        for lun, p in prof:
            w("<details><summary>%s</summary>" % lun)
            w("")
            w("```")
            cp = os.path.join(res, "perf-%s-comm.txt" % lun)
            if os.path.exists(cp):
                with open(cp) as f:
                    w("# by command")
                    w(f.read().rstrip())
                w("# by command, shared object, symbol")
            with open(p) as f:
                w(f.read().rstrip())
            w("```")
            w("")
            w("</details>")
            w("")

    w("## Notes")
    w("")
    w("- Ratios above 1 mean svm was faster (latency ratios: above 1, svm was slower). "
      "The targets come from the issue and are counted per round, at the two decimals "
      "shown. Missing one does not fail `make bench`; it fails only when something could "
      "not be measured.")
    w("- Reads of the 1 MiB read phase come from ext4 on a RAM disk through a cold page "
      "cache, so they measure the data path (copies, commands, context switches), not a "
      "disk.")
    w("- To change the run: `SVM_BENCH_SIZE` (LUN size, default 1G), `SVM_BENCH_ROUNDS` "
      "(default 3), `SVM_BENCH_RW_TIME` / `SVM_BENCH_SEQ_TIME` (seconds per run, default "
      "20 / 10), `SVM_BENCH_HW_MAX_SECTORS` (hw_max_sectors of both user: backstores, "
      "default 2048; 0: LIO's default, 128), "
      "`SVM_BENCH_PROFILE=1` (perf profiles per LUN; their attribution is not yet to be trusted, "
      "see tests/bench/guest.sh), `SVM_THREADS` / `SVM_LUN_THREADS` (the handler's worker "
      "pool and one LUN's share of it, docs/tuning.md); `tests/bench/run -n` leaves this file "
      "alone and writes `build/bench/benchmarks.md`. Raw fio JSON: "
      "`build/bench/results/`.")
    w("")

    md = "\n".join(L)
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)

    for phase, _d, unit, title in METRICS:
        v = {lun: results[(phase, lun)][0] for lun in LUNS}
        print("%-10s svm %8s  fileio %8s  qcow %8s %-5s  svm/fileio %s  svm/qcow %s" % (
            phase, fmt(v["svm"], unit), fmt(v["fileio"], unit), fmt(v["qcow"], unit), unit,
            fmt_ratio(ratio(v["svm"], v["fileio"])), fmt_ratio(ratio(v["svm"], v["qcow"]))))
    for text, rs, lo, hi, n_met, n in target_rows:
        print("target %s: %d of %d rounds (min %s, max %s)" % (
            text, n_met, n, fmt_ratio(lo), fmt_ratio(hi)))
    if problems:
        for p in problems:
            print("report: " + p, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
