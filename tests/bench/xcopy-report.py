#!/usr/bin/python3
"""Turn the raw results of the EXTENDED COPY benchmark into a report section.

usage: xcopy-report.py [--md FILE] [--doc DOC] RESULTS_DIR

RESULTS_DIR is what tests/bench/xcopy-guest.sh and tests/bench/xcopy-run
leave in build/bench-xcopy/results: meta.txt, guest.txt, copies.tsv,
<fs>-<row>.out, lat-<phase>.json, lat-<phase>-copies.tsv,
lat-<phase>-window.tsv, luns-<fs>.tsv, host-load.tsv.

Writes the section "EXTENDED COPY" to FILE (--md) and, with --doc, puts it
into DOC (docs/benchmarks.md) between the markers <!-- bench-xcopy:begin -->
and <!-- bench-xcopy:end --> (replacing what is there; appended when the
markers are missing).  Prints a short summary.

Exit status: 0 when everything was measured (whatever the numbers are), 3
when it was but a copy failed or differs from its source (the report says
so), 2 when results are missing or unreadable.
"""

import argparse
import json
import os
import re
import sys

from benchlib import Missing, contention, f, fio_jobs, mean, num, read_kv, read_tsv, write_section

BEGIN = "<!-- bench-xcopy:begin -->"
END = "<!-- bench-xcopy:end -->"
# the targets: times faster than LIO's XCOPY on the same file system
TARGETS = [("reflink", 20.0), ("kernel", 1.5), ("bounce", 1.0)]
ROW_DESC = {
    "lio": ("sg_xcopy, fileio → fileio", "LIO's XCOPY (in-kernel)"),
    "lio2": ("sg_xcopy, fileio → fileio (again, last)", "LIO's XCOPY (in-kernel)"),
    "bounce": ("sg_xcopy, svm → svm", "`mover=bounce`"),
    "kernel": ("sg_xcopy, svm → svm", "`mover=kernel`"),
    "reflink": ("sg_xcopy, svm → svm", "`mover=reflink`"),
    "auto": ("sg_xcopy, svm → svm", "`mover=auto`"),
    "sgdd": ("sg_dd, svm → svm (host copy)", "— (READ + WRITE)"),
    "sgdd-fio": ("sg_dd, fileio → fileio (host copy)", "— (READ + WRITE)"),
    "cp": ("cp --reflink=always of the store file", "— (file level, no SCSI)"),
}


def fx(v):
    if v is None:
        return "—"
    if v >= 100:
        return "%.0f×" % v
    if v >= 10:
        return "%.1f×" % v
    return "%.2f×" % v


def secs(v):
    """Seconds: three decimals below 1 s, two above."""
    if v is None:
        return "—"
    return "%.3f" % v if v < 1 else "%.2f" % v


def size_str(b):
    if b is None:
        return "?"
    if b % (1 << 30) == 0:
        return "%d GiB" % (b >> 30)
    if b >= 1 << 30:
        return "%.1f GiB" % (b / 2 ** 30)
    return "%d MiB" % (b >> 20)


def op_params(path):
    """RECEIVE COPY RESULTS (operating parameters) as sg_xcopy -v printed them."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, errors="replace") as fh:
        text = fh.read()
    for key in ("Maximum target descriptor count", "Maximum segment descriptor count",
                "Maximum descriptor list length", "Maximum segment length",
                "Maximum concurrent copies", "Data segment granularity"):
        m = re.search(re.escape(key) + r":\s*(.+)", text)
        if m:
            out[key] = m.group(1).strip()
    m = re.search(r"Start of loop, count=(\d+), bpt=(\d+)", text)
    if m:
        out["count"], out["bpt"] = m.group(1), m.group(2)
    out["designator_warning"] = "designator too long" in text
    out["unit_attention"] = "Unit attention" in text
    return out


def max_transfer(res, fs, sg):
    path = os.path.join(res, "vpd-%s-%s-bl.txt" % (fs, sg))
    if not os.path.exists(path):
        return None
    with open(path, errors="replace") as fh:
        m = re.search(r"Maximum transfer length:\s*(\d+) blocks", fh.read())
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--md")
    ap.add_argument("--doc")
    ap.add_argument("results")
    args = ap.parse_args()
    res = args.results

    meta, pkgs = read_kv(os.path.join(res, "meta.txt"))
    guest, _ = read_kv(os.path.join(res, "guest.txt"))
    copies = read_tsv(os.path.join(res, "copies.tsv"))
    hostload = read_tsv(os.path.join(res, "host-load.tsv"))
    clk = num(guest.get("clk_tck")) or 100.0
    ncpu = num(guest.get("guest_cpus")) or 2.0
    if not copies:
        print("xcopy-report: no copies.tsv in %s" % res, file=sys.stderr)
        return 2
    problems, bad = [], []

    size = int(copies[0]["bytes"])
    mib = size / 2 ** 20
    size_s = ("%d GiB" % (size >> 30)) if size % (1 << 30) == 0 else ("%d MiB" % (size >> 20))
    rows = {}
    for c in copies:
        c["wall"] = num(c["wall_s"])
        c["loop"] = num(c["loop_s"])
        c["sync"] = num(c["sync_s"])
        c["new_mib"] = (int(c["df_after"]) - int(c["df_before"])) / 2 ** 20
        c["tcmu_s"] = int(c["tcmu_ticks"]) / clk
        tot = int(c["total_ticks"])
        c["busy_pct"] = 100.0 * int(c["busy_ticks"]) / tot if tot else None
        c["ok"] = c["rc"] == "0" and c["sha_ok"] == "yes"
        t0 = num(c.get("start"))
        win = [h for h in hostload
               if t0 is not None and c["wall"] is not None
               and t0 - 5 <= float(h["epoch"]) <= t0 + c["wall"] + 5]
        c["host_load"] = mean([float(h["load1"]) for h in win])
        c["host_qemu"] = max(int(h["qemu_procs"]) for h in win) if win else None
        c["moved_by"] = ", ".join(m.group(2) for m in re.finditer(
            r"(\d+) by (\w+)", c.get("moved", "").split("):", 1)[-1]))
        if not c["ok"]:
            bad.append("%s/%s: exit status %s, byte-identical: %s"
                       % (c["fs"], c["row"], c["rc"], c["sha_ok"]))
        rows[(c["fs"], c["row"])] = c

    def base(fs, key):
        """LIO XCOPY's time on FS: the mean of its two runs (first and last)."""
        v = [rows[(fs, r)][key] for r in ("lio", "lio2")
             if (fs, r) in rows and rows[(fs, r)]["ok"]]
        return mean(v)

    def speedup(c, ref):
        if c is None or ref is None or not c["ok"] or not c["wall"]:
            return None
        return ref / c["wall"]

    def speedup_loop(c, ref):
        if c is None or ref is None or not c["ok"] or not c["loop"]:
            return None
        return ref / c["loop"]

    sgdd = rows.get(("reflink", "sgdd"))
    sgdd_wall = sgdd["wall"] if sgdd and sgdd["ok"] else None
    sgdd_loop = sgdd["loop"] if sgdd and sgdd["ok"] else None

    out = []
    w = out.append
    w(BEGIN)
    w("## EXTENDED COPY")
    w("")
    w("*Generated by `make bench-xcopy` (`tests/bench/xcopy-run`) on %s; do not edit by hand — "
      "rerun it. `make bench` rewrites this file without this section: run `make bench-xcopy` "
      "after it.*" % meta.get("date", "?"))
    w("")
    w("> **Caveat.** One run in the same **QEMU guest under TCG** on a shared 2-core machine as "
      "above: absolute times are far from real hardware, and every process start (sg_xcopy, "
      "sg_dd, cp) costs 0.05–0.3 s of emulated CPU. The stores are in RAM (XFS on a loop file "
      "in a tmpfs), so no disk enters the numbers: the copies are CPU- and memory-bound. Read "
      "the ratios, and even those roughly.")
    w("")
    w("A copy of **%s** (the whole LUN) from one LUN to another on the same XFS, by four means "
      "(details in *Set-up*):" % size_s)
    w("")
    w("- **svm XCOPY**: `sg_xcopy` between two `user:svm` LUNs of one copy group (`xcopy_group=`), "
      "the command sent to the source (`--on_src`), with the source LUN's `mover=` pinned;")
    w("- **LIO XCOPY**: `sg_xcopy` between two LIO `fileio` LUNs (write_back=true) on files in the "
      "same XFS: the kernel's own EXTENDED COPY (target_core_xcopy), which reads and writes "
      "through the backend;")
    w("- **sg_dd**: the host copies, READ from one LUN and WRITE to the other, %s blocks a "
      "command;" % guest.get("dd_bpt", "?"))
    w("- **cp --reflink=always** of the store file inside the guest, as the file-level reference.")
    w("")
    w("*Time*: wall clock around the command (bash `EPOCHREALTIME`), the tool's start, INQUIRY, "
      "READ CAPACITY and RECEIVE COPY RESULTS included. *Copy loop*: what `sg_xcopy`/`sg_dd` "
      "`time=1` report for their copy loop alone (first to last EXTENDED COPY or READ/WRITE). "
      "*Sync after*: `sync` right after the copy (dirty page cache written to the loop device), "
      "not in *time*. *New blocks*: growth of the XFS's used space (df) from before the copy to "
      "after that sync: a copy that writes data allocates %.0f MiB, a clone none. "
      "*×*: how many times faster than the reference (its time / this time). Every copy "
      "starts on an empty (hole-punched, trimmed) destination, after sync and drop_caches, and "
      "its result was read back through the initiator (O_DIRECT on the destination's /dev/sdX) "
      "and compared with the source by sha256." % mib)
    w("")

    def table(fs, order, with_sgdd=True):
        ref = base(fs, "wall")
        ref_loop = base(fs, "loop")
        head = ("| copy | how | mover (→ moved by, runner's log) | time (s) | copy loop (s) | MiB/s | "
                "sync after (s) | new blocks (MiB) | tcmu-runner CPU (s) | host load (VMs) | "
                "byte-identical | ×LIO XCOPY")
        sep = "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---:"
        if with_sgdd:
            head += " | ×sg_dd host copy"
            sep += " | ---:"
        w(head + " |")
        w(sep + " |")
        for r in order:
            c = rows.get((fs, r))
            if c is None:
                continue
            what, how = ROW_DESC.get(r, (r, c["mover"]))
            ident = "yes" if c["ok"] else ("**NO** (exit %s, sha256 %s)" % (c["rc"], c["sha_ok"]))
            mibs = mib / c["wall"] if c["wall"] else None
            if c["moved_by"]:
                how += " → " + c["moved_by"]
            load = "%s (%s)" % (f(c["host_load"], "%.1f"),
                                c["host_qemu"] if c["host_qemu"] is not None else "?")
            line = "| %s | %s | %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s" % (
                r, what, how, secs(c["wall"]), secs(c["loop"]),
                f(mibs, "%.0f") if c["ok"] else "—",
                secs(c["sync"]), c["new_mib"], f(c["tcmu_s"], "%.2f"), load, ident,
                "**%s**" % fx(speedup(c, ref)) if r not in ("lio", "lio2") else
                "(%s s)" % secs(c["wall"]) if c["wall"] else "—")
            if with_sgdd:
                line += " | %s" % ("**%s**" % fx(speedup(c, sgdd_wall))
                                   if r != "sgdd" else "(%s s)" % secs(c["wall"]))
            w(line + " |")
        w("")
        a, b = rows.get((fs, "lio")), rows.get((fs, "lio2"))
        spread = ""
        if a and b and a["ok"] and b["ok"]:
            spread = (" The two LIO runs, same work, took %s s and %s s: %.0f%% apart, a measure "
                      "of this run's noise." % (secs(a["wall"]), secs(b["wall"]),
                                                100.0 * abs(a["wall"] - b["wall"]) /
                                                min(a["wall"], b["wall"])))
        w("×LIO XCOPY is against the mean of LIO's two runs on this file system (%s s; "
          "copy loops %s s).%s *Host load (VMs)*: mean 1-minute load average of the 2-CPU host "
          "during the copy and the most qemu processes seen (ours is one; 2 = another VM "
          "ran)." % (f(ref, "%.2f"), f(ref_loop, "%.2f"), spread))
        w("")

    # --- part 1 ---------------------------------------------------------------------
    w("### Copy speed: %s on XFS with reflink=1" % size_s)
    w("")
    order1 = ["lio", "bounce", "kernel", "reflink", "auto", "sgdd", "sgdd-fio", "lio2", "cp"]
    if not any(k[0] == "reflink" for k in rows):
        problems.append("no copies on the reflink=1 file system")
    table("reflink", order1)
    w("The rows ran in the order listed.")
    w("")

    ref = base("reflink", "wall")
    ref_loop = base("reflink", "loop")
    w("**Ratios** (times faster; by *time*, and by *copy loop* in brackets):")
    w("")
    w("| | ×LIO XCOPY | ×sg_dd host copy |")
    w("| --- | ---: | ---: |")
    for r in ("reflink", "kernel", "bounce", "auto"):
        c = rows.get(("reflink", r))
        w("| svm `mover=%s` | %s (%s) | %s (%s) |" % (
            r, fx(speedup(c, ref)), fx(speedup_loop(c, ref_loop)),
            fx(speedup(c, sgdd_wall)), fx(speedup_loop(c, sgdd_loop))))
    c = rows.get(("reflink", "lio"))
    lio_mean = {"ok": True, "wall": ref, "loop": ref_loop}
    w("| LIO XCOPY | 1 | %s (%s) |" % (fx(speedup(lio_mean, sgdd_wall)),
                                      fx(speedup_loop(lio_mean, sgdd_loop))))
    w("")
    w("**Targets** (issue): svm XCOPY against LIO's XCOPY on the same file system, in this run:")
    w("")
    w("| target | measured (time) | measured (copy loop) | met? |")
    w("| --- | ---: | ---: | --- |")
    for r, t in TARGETS:
        c = rows.get(("reflink", r))
        s, sl = speedup(c, ref), speedup_loop(c, ref_loop)
        met = "n/a" if s is None else ("**yes**" if s >= t else "**no**")
        if r == "kernel" and s is not None and c and abs(c["new_mib"]) < 0.05 * mib:
            met += " (by cloning: see below)"
        w("| `mover=%s` ≥ %g× LIO XCOPY | %s | %s | %s |" % (r, t, fx(s), fx(sl), met))
    nk = rows.get(("noreflink", "kernel"))
    nb = rows.get(("noreflink", "bounce"))
    nref = base("noreflink", "wall")
    if nk or nb:
        w("| `mover=kernel` ≥ 1.5× LIO XCOPY, XFS reflink=0 (a real copy, below) | %s | %s | %s |" % (
            fx(speedup(nk, nref)), fx(speedup_loop(nk, base("noreflink", "loop"))),
            "n/a" if speedup(nk, nref) is None else
            ("**yes**" if speedup(nk, nref) >= 1.5 else "**no**")))
        w("| `mover=bounce` ≥ 1× LIO XCOPY, XFS reflink=0 (below) | %s | %s | %s |" % (
            fx(speedup(nb, nref)), fx(speedup_loop(nb, base("noreflink", "loop"))),
            "n/a" if speedup(nb, nref) is None else
            ("**yes**" if speedup(nb, nref) >= 1.0 else "**no**")))
    w("")
    kr = rows.get(("reflink", "kernel"))
    if kr is not None and kr["ok"]:
        if abs(kr["new_mib"]) < 0.05 * mib:
            w("On XFS with reflink=1, `mover=kernel` allocated %.0f MiB for a %.0f MiB copy: "
              "`copy_file_range(2)` on one XFS with reflink tries a clone first (the VFS calls "
              "`remap_file_range` before it copies), so here the kernel mover is a reflink in "
              "16 MiB steps (xcopy/mover.h says the filesystem may do this). Its ratio above is "
              "therefore a clone's; the kernel mover's own copy is measured on XFS with "
              "reflink=0 below." % (kr["new_mib"], mib))
        else:
            w("`mover=kernel` allocated %.0f MiB on XFS with reflink=1: copy_file_range "
              "copied the data." % kr["new_mib"])
        w("")

    # --- part 3 ---------------------------------------------------------------------
    if any(k[0] == "noreflink" for k in rows):
        w("### Copy speed: %s on XFS with reflink=0" % size_s)
        w("")
        w("The same source (copied over) on an XFS made with `-m reflink=0`, where "
          "`copy_file_range` copies in the kernel (splice) and FICLONERANGE is refused, so "
          "`mover=auto` falls back to kernel. `mover=reflink` is not run (it refuses, by design). "
          "No sg_dd here: ×sg_dd is against the sg_dd copy on reflink=1 above, which does not "
          "depend on reflink.")
        w("")
        table("noreflink", ["lio", "bounce", "kernel", "auto", "lio2"])
        k, a = rows.get(("noreflink", "kernel")), rows.get(("noreflink", "auto"))
        if k and a and k["ok"] and a["ok"] and a["moved_by"] == k["moved_by"] == "kernel":
            w("`mover=auto` moved everything by kernel here too (FICLONERANGE refused), the "
              "same work as the `mover=kernel` row, and took %s s against %s s (%s); read the "
              "kernel and bounce ratios of this table with that spread in mind." % (
                  secs(a["wall"]), secs(k["wall"]),
                  "host load %s with %s qemu processes against %s with %s" % (
                      f(a["host_load"], "%.1f"), a["host_qemu"], f(k["host_load"], "%.1f"),
                      k["host_qemu"])))
            w("")

    # --- part 2 ---------------------------------------------------------------------
    lat = []
    for name in ("base", "bounce", "auto", "base2"):
        path = os.path.join(res, "lat-%s.json" % name)
        if not os.path.exists(path):
            problems.append("no %s" % path)
            continue
        try:
            job = fio_jobs(path)[0]
        except Missing as e:
            problems.append(str(e))
            continue
        rd = job["read"]
        ln = rd.get("lat_ns") or rd["clat_ns"]
        pct = ln.get("percentile", {})
        win = dict((l[0], l[1]) for l in read_tsv(
            os.path.join(res, "lat-%s-window.tsv" % name), header=False) if len(l) >= 2)
        cps = read_tsv(os.path.join(res, "lat-%s-copies.tsv" % name))
        fio_end = num(win.get("fio_end"))
        runtime = rd.get("runtime", 0) / 1000.0
        cover = None
        ncop = nerr = 0
        cwall = []
        cloop = []
        if cps and fio_end:
            lo, hi = fio_end - runtime, fio_end
            cov = 0.0
            for cp in cps:
                s, e = float(cp["start"]), float(cp["end"])
                if e < lo or s > hi:
                    continue
                ncop += 1
                cov += max(0.0, min(e, hi) - max(s, lo))
                if cp["rc"] != "0":
                    nerr += 1
                else:
                    cwall.append(e - s)
                    cloop.append(num(cp["loop_s"]))
            cover = 100.0 * cov / runtime if runtime else None
        if win.get("sha_ok") == "no":
            bad.append("latency/%s: the copy within the LUN differs from its source" % name)
        if nerr:
            bad.append("latency/%s: %d copies failed" % (name, nerr))
        lat.append({
            "name": name, "mover": win.get("mover", "?"), "iops": rd["iops"],
            "p50": pct.get("50.000000"), "p90": pct.get("90.000000"),
            "p99": pct.get("99.000000"), "p999": pct.get("99.900000"),
            "max": ln.get("max"), "mean": ln.get("mean"), "runtime": runtime,
            "ncopies": ncop, "nerr": nerr, "cover": cover, "sha": win.get("sha_ok"),
            "cwall": mean(cwall), "cloop": mean(cloop),
        })
    if lat:
        lat_size = guest.get("lat_size", "?").split(" ")[0]
        lat_b = num(guest.get("lat_size", "").split(" (")[-1].split(" ")[0])
        fio_range = ("bytes %s to %s" % (size_str(size // 2 + int(lat_b)), size_str(size))
                     if lat_b else "?")
        w("### Read latency during a copy")
        w("")
        w("fio 4 KiB random reads (libaio, direct=1, iodepth %s, %s s after a 2 s ramp) on the "
          "svm source LUN `xs` (%s), with no copy, and while `sg_xcopy` copies %s from the "
          "start of that LUN to its middle (within one LUN, one EXTENDED COPY per %s blocks) "
          "again and again, from before fio starts until it ends. fio reads the LUN from the end "
          "of that destination range to the LUN's end (%s), where no copy reads or writes: in a trial "
          "over the whole LUN, reads met the page cache the copies had filled and got faster "
          "during copies. Latency is fio's `lat` "
          "(submission to completion), in µs. *Copy time covered*: share of fio's measured time "
          "during which an sg_xcopy ran (the rest is the gap between two sg_xcopy processes); "
          "*copy (s)*: mean wall time of one %s copy while fio ran (copy loop in brackets)." % (
              guest.get("lat_qd", "?"), guest.get("lat_time", "?"), size_s, lat_size,
              guest.get("bpt", "?"), fio_range, lat_size))
        w("")
        w("| run | mover | copies | copy time covered | copy (s) | IOPS | p50 | p90 | p99 | p99.9 | max | mean | p99 vs no copy |")
        w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        base_p99 = mean([l["p99"] for l in lat if l["mover"] == "none"])
        bases = [l for l in lat if l["mover"] == "none"]
        spread = ""
        if len(bases) == 2 and all(l["p50"] and l["p99"] for l in bases):
            spread = (" The two runs without a copy (first and last) give p50 %s and %s µs, "
                      "p99 %s and %s µs, max %s and %s µs: differences of that size are "
                      "this run's noise, not the copy's doing." % (
                          f(bases[0]["p50"] / 1000, "%.0f"), f(bases[1]["p50"] / 1000, "%.0f"),
                          f(bases[0]["p99"] / 1000, "%.0f"), f(bases[1]["p99"] / 1000, "%.0f"),
                          f(bases[0]["max"] / 1000, "%.0f"), f(bases[1]["max"] / 1000, "%.0f")))
        for l in lat:
            us = lambda v: f(v / 1000.0 if v is not None else None, "%.0f")
            copy = "—" if l["mover"] == "none" else "%s (%s)" % (secs(l["cwall"]), secs(l["cloop"]))
            w("| %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |" % (
                {"base": "no copy", "base2": "no copy (again, last)"}.get(l["name"], "during copies"),
                "—" if l["mover"] == "none" else "`%s`" % l["mover"],
                "—" if l["mover"] == "none" else l["ncopies"],
                "—" if l["cover"] is None else "%.0f%%" % l["cover"], copy, l["iops"],
                us(l["p50"]), us(l["p90"]), us(l["p99"]), us(l["p999"]), us(l["max"]),
                us(l["mean"]),
                "—" if l["mover"] == "none" or not base_p99 or l["p99"] is None
                else "%.2f×" % (l["p99"] / base_p99)))
        w("")
        w("*p99 vs no copy*: against the mean p99 of the two runs without a copy. After each "
          "run with copies, the last copy's destination was read back and compared (sha256) "
          "with its source: %s.%s" % (", ".join(
              "%s %s" % (l["mover"], "identical" if l["sha"] == "yes" else "**DIFFERENT**")
              for l in lat if l["mover"] != "none"), spread))
        w("")

    # --- set-up -----------------------------------------------------------------------
    luns = read_tsv(os.path.join(res, "luns-reflink.tsv"))
    psvm = op_params(os.path.join(res, "reflink-bounce.out"))
    plio = op_params(os.path.join(res, "reflink-lio.out"))
    w("### Set-up")
    w("")
    mem = num(guest.get("guest_mem_kib"))
    w("- **VM**: %s vCPUs, %s MiB (`-m %s`; MemTotal %s MiB), qemu `-accel %s`, guest kernel %s." % (
        meta.get("vm_smp", "?"), meta.get("vm_mem_mib", "?"), meta.get("vm_mem_mib", "?"),
        "%.0f" % (mem / 1024) if mem else "?", meta.get("vm_accel", "?"),
        guest.get("guest_kernel", "?").split(" ")[0]))
    tmpfs = num(guest.get("tmpfs_size"))
    img = num(guest.get("img_size"))
    w("- **File system**: XFS (`mkfs.xfs -m reflink=1`; part 3 `reflink=0`, 4 KiB blocks) on a "
      "sparse %s loop file in a tmpfs of at most %s in the guest's RAM. It holds the source (%s of random "
      "data) and one destination at a time: each destination is hole-punched and trimmed after "
      "its copy, so the tmpfs needs about 2 × %s, plus the page cache of the copies: the guest "
      "script wants at least 3 × the copy size + 1 GiB of memory, and this run had %s MiB (for "
      "1 GiB copies the rig's default of 2 GiB is too small; `xcopy-run` gives 6 GiB)." % (
          size_str(int(img)) if img else "?", size_str(int(tmpfs)) if tmpfs else "?",
          size_s, size_s,
          meta.get("vm_mem_mib", "?")))
    w("- **LUNs**, all %s, all on tcm_loop: `user:svm` `xs` (`cfgstring=<xfs>/src.img;xcopy_group=xbench;mover=…`) "
      "and `xd` (`<xfs>/xd.img;xcopy_group=xbench`, created sparse by the handler), "
      "default `wce=yes`; LIO `fileio` `fs` on **the same source file** as `xs` (both only read) "
      "and `fd` on a sparse file, `write_back=true`. The mover is pinned on `xs` "
      "(`set attribute dev_config=…;mover=<m>`), the LUN the command goes to; the runner's log "
      "confirmed the mover of every svm row (`moved` in copies.tsv)." % size_s)
    w("- **sg_xcopy**: `bs=512 bpt=%s count=%s --on_src`: %s commands of one segment each. "
      "bpt=%s is the largest multiple of 8 blocks (XFS's 4 KiB block) under the 16-bit NUMBER OF "
      "BLOCKS limit of 65535, so that every segment starts block-aligned, which the reflink "
      "mover needs (with 65535 the second segment would start mid-block, which pinned "
      "`mover=reflink` refuses by its alignment rule, xcopy/mover.h; not run here). "
      "What the targets report (RECEIVE COPY RESULTS, operating parameters, via `sg_xcopy -v`):" % (
          guest.get("bpt", "?"), psvm.get("count", "?"),
          rows.get(("reflink", "bounce"), {}).get("commands", "?"), guest.get("bpt", "?")))
    w("")
    w("  | | svm | LIO fileio |")
    w("  | --- | ---: | ---: |")
    for key in ("Maximum target descriptor count", "Maximum segment descriptor count",
                "Maximum descriptor list length", "Maximum segment length",
                "Maximum concurrent copies", "Data segment granularity"):
        w("  | %s | %s | %s |" % (key, psvm.get(key, "?"), plio.get(key, "?")))
    sgx = {l.get("lun"): l.get("sg", "").replace("/dev/", "") for l in luns}
    w("  | MAXIMUM TRANSFER LENGTH (Block Limits VPD) | %s blocks | %s blocks |" % (
        max_transfer(res, "reflink", sgx.get("xs", "")) or "?",
        max_transfer(res, "reflink", sgx.get("fs", "")) or "?"))
    w("")
    w("- **sg_dd**: `bs=512 bpt=%s` between the sg nodes: the svm LUN's MAXIMUM TRANSFER "
      "LENGTH (`hw_max_sectors` 128 of a `user:` backstore), one command at a time, as sg_dd "
      "does; the same bpt on fileio for comparison." % guest.get("dd_bpt", "?"))
    w("- **Before each copy**: destination emptied, `sync`, `echo 3 > /proc/sys/vm/drop_caches`; "
      "TEST UNIT READY on the LUNs first so that no timed command meets a unit attention.")
    w("- **Handler build**: `%s` (`git describe --dirty`), built %s, sha256 `%s…`%s." % (
        meta.get("handler", "?"), meta.get("handler_built", "?"),
        meta.get("handler_sha256", "?")[:16],
        ("; uncommitted changes at run time in: %s" % ", ".join(
            "`%s`" % x for x in meta.get("handler_dirty", "").split()))
        if meta.get("handler_dirty") else ""))
    w("- **Packages**: %s; guest tools: %s, %s, %s." % (
        ", ".join("%s %s" % (p, v) for p, v in pkgs),
        guest.get("sg3_utils", "?"), guest.get("fio_version", "?"), guest.get("xfsprogs", "?")))
    w("- Host: %s CPUs (%s), kernel %s. Whole VM run: %s s." % (
        meta.get("host_nproc", "?"), meta.get("host_cpu_model", "?"), meta.get("host_kernel", "?"),
        meta.get("vm_wall_s", "?")))
    w("")

    # --- contention -------------------------------------------------------------------
    w("### Contention")
    w("")
    if hostload:
        w(contention(hostload, meta.get("host_nproc", "?"),
                     "Per copy (mean load / most qemu processes during it):"))
        w("")
        w(", ".join("%s/%s %s (%s)" % (c["fs"], c["row"], f(c["host_load"], "%.1f"),
                                       c["host_qemu"] if c["host_qemu"] is not None else "?")
                    for c in copies) + ".")
    else:
        w("No host load samples.")
    w("")

    # --- notes ------------------------------------------------------------------------
    w("### Notes")
    w("")
    notes = []
    if psvm.get("designator_warning") or plio.get("designator_warning"):
        notes.append("`sg_xcopy -v` (%s) prints `designator too long: says it is 16 bytes, but "
                     "given 12 bytes` for svm and LIO LUNs alike: its verbose dump of the NAA "
                     "designator it picked from VPD page 83h passes the designator's length where "
                     "the printing helper wants the whole descriptor's (4 more), so the helper "
                     "refuses to print it. Only the printing: the target descriptor it sends "
                     "holds all 16 bytes, and the copies work." % guest.get("sg3_utils", "sg3_utils"))
    notes.append("LIO's fileio LUNs take up to 1 segment descriptor and 2 target descriptors per "
                 "command, svm LUNs 64 and 8; sg_xcopy sends one segment per command anyway, so "
                 "both get the same commands.")
    notes.append("The tcm_loop initiator is in the same guest, so *time* includes the initiator "
                 "side too; under TCG the CPU is the bottleneck of every data-moving row, and the "
                 "*tcmu-runner CPU* column shows where svm rows spent it (the bounce mover moves "
                 "the data through the handler's buffer, read and written with O_DIRECT where "
                 "the chunks are aligned: no copy through the page cache, and no dirty pages "
                 "left for *sync after*; kernel and reflink leave it to the kernel; LIO's XCOPY "
                 "on fileio with write_back=true reads into a kernel buffer and writes it back "
                 "through the page cache, one piece of the LUNs' MAXIMUM TRANSFER LENGTH, at "
                 "most 16 MiB, after the other).")
    notes.append("Raw results: `build/bench-xcopy/results/` (copies.tsv, each tool's output "
                 "`<fs>-<row>.out`, fio JSON `lat-*.json`, the copies during each fio run "
                 "`lat-*-copies.tsv`, LIO attributes, VPD pages, xfs_info).")
    notes.append("To change the run: `SVM_XBENCH_SIZE` (default 1G), `SVM_XBENCH_BPT` (65528), "
                 "`SVM_XBENCH_DD_BPT` (128), `SVM_XBENCH_LAT_SIZE` (256M), `SVM_XBENCH_LAT_TIME` "
                 "(20), `SVM_XBENCH_LAT_QD` (1), `SVM_XBENCH_NOREFLINK=0` (skip the reflink=0 "
                 "part); `tests/bench/xcopy-run -m MiB` for the VM's memory, `-n` to leave this "
                 "file alone (the section goes to `build/bench-xcopy/xcopy.md`).")
    if bad:
        notes.insert(0, "**Failed or different copies in this run**: " + "; ".join(bad) + ".")
    if problems:
        notes.insert(0, "**Not measured**: " + "; ".join(problems) + ".")
    for n in notes:
        w("- " + n)
    w(END)
    text = "\n".join(out) + "\n"

    write_section(text, args.md, args.doc, BEGIN, END)

    # summary
    for c in copies:
        print("%-9s %-8s %8s s  loop %8s s  new %6.0f MiB  identical %s" % (
            c["fs"], c["row"], f(c["wall"], "%.2f"), f(c["loop"], "%.2f"), c["new_mib"],
            "yes" if c["ok"] else "NO"))
    for r, t in TARGETS:
        s = speedup(rows.get(("reflink", r)), ref)
        print("%s vs LIO XCOPY: %s (target %g×)" % (r, fx(s), t))
    for l in lat:
        print("latency %-6s p50 %s p99 %s max %s us, %s copies" % (
            l["name"], f(l["p50"] and l["p50"] / 1000, "%.0f"), f(l["p99"] and l["p99"] / 1000, "%.0f"),
            f(l["max"] and l["max"] / 1000, "%.0f"), l["ncopies"]))
    if problems:
        print("xcopy-report: not measured: " + "; ".join(problems), file=sys.stderr)
        return 2
    if bad:
        print("xcopy-report: " + "; ".join(bad), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
