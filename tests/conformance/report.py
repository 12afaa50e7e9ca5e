#!/usr/bin/python3
"""Turn the raw iscsi-test-cu results of a conformance run into a verdict
and a markdown report.

usage: report.py [--md FILE] [--tsv FILE] [--bar GLOBS] [--waivers FILE]
                 [--info KEY=VALUE]... RESULTS_DIR

RESULTS_DIR is what tests/conformance/guest.sh leaves in
$SVM_OUTDIR/conformance: tests.txt (iscsi-test-cu -l), meta.txt, and for
each LUN (fileio = the LIO reference, svm = the handler under test)
<lun>.log (iscsi-test-cu's CUnit verbose output), <lun>.rc, <lun>.time of
the main run, and the same of the extra runs <lun>-mpath (MultipathIO on
a scratch LUN through two portals) and <lun>-sanitize (Sanitize with
--allow-sanitize on that scratch LUN) when they ran: a test an extra run ran takes its result
from there (in the main run it skipped itself).

Why the text output and not --xml: iscsi-test-cu -x writes CUnit's
"automated" XML (CUnitAutomated-Results.xml), but libiscsi skips a test with
CU_PASS("[SKIPPED] ...") and CUnit records passed assertions nowhere, so the
XML cannot tell a skipped test from a passed one.  The verbose text output
carries the "[SKIPPED]" lines between a test's "Test: NAME ..." and its
"passed", so it is parsed instead, and cross-checked against CUnit's own
"Run Summary" counts (a mismatch is an error, not a guess).

Each test gets one status per LUN:
  pass   CUnit "passed" and no skip message
  skip   CUnit "passed" but the test said it skipped itself
  fail   CUnit "FAILED"
  error  the test never reported (run crashed, timed out, suite set-up failed)

THE BAR: svm does no worse than fileio on the bar suites (suite-name globs,
--bar).  Every test there that fileio passes in CUnit's sense (pass or skip)
is one comparison:
  fileio pass -> passed iff svm passes; an svm skip counts as failed (svm
                 declined what fileio really did, e.g. an opcode it lacks)
  fileio skip -> passed iff svm passes or skips; failed if svm FAILS it
                 (svm ran a check fileio could not, and got it wrong)
A failed comparison for a test listed in the waivers file (--waivers: lines
"SCSI.Suite.Test  reason", # comments) is reported as waived and counted
in neither number; a waived test that passes counts as passed, and the
report says its waiver is stale.
THE RBD BAR (when the run has an rbd kind: guest.txt "rbd: 1"): rbd = an
svm LUN whose store is an RBD image on the rig's single-node Ceph.  In the
same suites, every test the file-store svm LUN passes in CUnit's sense is
one more comparison, by the same rule with svm as the reference (svm pass ->
rbd must pass; svm skip -> rbd must not fail).  Its waivers are in their own
file (--waivers-rbd), same format: a difference of the RBD store, with why.
Exit status 0 iff no comparison failed; 1 if one did; 2 if the results are
missing or unreadable.  The last line printed is "conformance: N passed,
N failed" (the comparisons), except on exit 2.
"""

import argparse
import fnmatch
import os
import re
import sys

LUNS = ("fileio", "svm")

# The families, as globs over libiscsi's suite names (the middle
# part of SCSI.<Suite>.<Test>).  Taken literally, Read* also matches
# ReadDefectData*/ReadOnly and Write* matches WriteSame*/WriteAtomic16; the
# report shows each suite on its own line so either reading can be checked.
DEFAULT_BAR = ("Read*,Write*,ReadCapacity*,Inquiry,TestUnitReady,Verify*,Unmap,"
               "ModeSense6,Prefetch*,StartStopUnit,WriteVerify*,"
               "ReportSupportedOpcodes,GetLBAStatus,OrWrite,Sanitize,MultipathIO")

# The extra runs of guest.sh: (suffix of the run's files, what it is)
EXTRA_RUNS = (("shard2", "rbd only: the main run's second shard, on a LUN of its own"),
              ("mpath", "MultipathIO on a scratch LUN through 127.0.0.1 and 127.0.0.2"),
              ("sanitize", "Sanitize with --allow-sanitize on the scratch LUN"))

# Tests that skip themselves by CU_PASS("[SKIPPED] ...") without logging the
# word at the default log level; the message they do log marks the skip.
#   test_modesense6_control_swp.c: set_swp() logs "SWP is not changeable"
#   and the test then CU_PASS("[SKIPPED] Target does not support changing SWP")
SILENT_SKIP_MESSAGES = ("SWP is not changeable",)

REFERENCE = [
    ("LIO fileio", "189 of 215"),
    ("tcmu-runner 1.5.4 with its qcow handler", "151 of 215"),
]


class ResultsError(Exception):
    pass


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as err:
        raise ResultsError("cannot read %s: %s" % (path, err))


def list_tests(path, family="SCSI"):
    """SCSI.<Suite>.<Test> names from iscsi-test-cu -l, in its order."""
    names = []
    for line in read_text(path).splitlines():
        parts = line.strip().split(".")
        if len(parts) == 3 and parts[0] == family:
            names.append(line.strip())
    if not names:
        raise ResultsError("%s lists no %s.* tests" % (path, family))
    return names


TEST_RE = re.compile(r"^  Test: (.+?) \.\.\.(.*)$")
SUITE_RE = re.compile(r"^Suite: (\S+)\s*$")
SUITE_INIT_FAIL_RE = re.compile(r"Suite (?:initialization|setup) failed for '([^']+)'", re.I)
FAILURE_LINE_RE = re.compile(r"^\s+\d+\. (\S+:\d+)\s+- (.*)$")
RESULT_RE = re.compile(r"^(passed|FAILED)\b")
SUMMARY_RE = re.compile(r"^\s+tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")


def parse_log(text, family="SCSI"):
    """Parse CUnit verbose output.  Returns (results, summary):
    results: {"SCSI.Suite.Test": {"status", "notes": [...], "asserts": [...]}}
    summary: (total, ran, passed, failed, inactive) from the Run Summary, or None
    """
    results = {}
    suite = None
    cur = None  # (name, body lines)
    summary = None
    init_failed = set()

    def close(entry):
        if entry is None:
            return
        name, body = entry
        status = None
        asserts = []
        notes = []
        for line in body:
            if status is None:
                # CUnit writes "passed"/"FAILED" at the start of a line (or
                # right after "Test: NAME ..."); the test's own log lines
                # are indented.  Text after it on the same line is the
                # suite's clean-up talking, not part of the verdict.
                m = RESULT_RE.match(line)
                if m:
                    status = "pass" if m.group(1) == "passed" else "fail"
                    continue
                if line.strip():
                    notes.append(line.strip())
            else:
                m = FAILURE_LINE_RE.match(line)
                if m:
                    asserts.append("%s %s" % (m.group(1), m.group(2)))
        if status is None:
            status = "error"
            notes.append("no result reported (crash or time-out during this test?)")
        if status == "pass" and any(
                "[SKIPPED]" in n or any(msg in n for msg in SILENT_SKIP_MESSAGES) for n in notes):
            status = "skip"
        results[name] = {"status": status, "notes": notes, "asserts": asserts}

    for line in text.splitlines():
        m = SUITE_RE.match(line)
        if m:
            close(cur)
            cur = None
            suite = m.group(1)
            continue
        m = TEST_RE.match(line)
        if m and suite is not None:
            close(cur)
            cur = ("%s.%s.%s" % (family, suite, m.group(1)), [m.group(2)])
            continue
        if line.startswith("Run Summary:"):
            close(cur)
            cur = None
            continue
        m = SUMMARY_RE.match(line)
        if m:
            summary = tuple(int(x) for x in m.groups())
            continue
        m = SUITE_INIT_FAIL_RE.search(line)
        if m:
            init_failed.add(m.group(1))
        if cur is not None:
            cur[1].append(line)
    close(cur)
    return results, summary, init_failed


def load_run(resdir, run, names):
    """One iscsi-test-cu run's results: (parsed, init_failed, rc, wall, problems, times)."""
    log_path = os.path.join(resdir, run + ".log")
    text = read_text(log_path)
    rc = read_text(os.path.join(resdir, run + ".rc")).strip() if os.path.exists(
        os.path.join(resdir, run + ".rc")) else "?"
    wall = read_text(os.path.join(resdir, run + ".time")).strip() if os.path.exists(
        os.path.join(resdir, run + ".time")) else "?"
    parsed, summary, init_failed = parse_log(text)
    unknown = sorted(set(parsed) - set(names))
    if unknown:
        raise ResultsError("%s: tests not in iscsi-test-cu -l: %s" % (log_path, ", ".join(unknown[:5])))
    problems = []
    if summary is None:
        problems.append("%s: no CUnit Run Summary (iscsi-test-cu exit status %s): the run did not "
                        "finish" % (run, rc))
    else:
        total, ran, passed, failed, _inactive = summary
        n_pass = sum(1 for r in parsed.values() if r["status"] in ("pass", "skip"))
        n_fail = sum(1 for r in parsed.values() if r["status"] == "fail")
        if (n_pass, n_fail) != (passed, failed) or ran != len(parsed):
            raise ResultsError(
                "%s: parsed %d tests (%d passed, %d failed) but CUnit's Run Summary says "
                "%d ran (%d passed, %d failed): the parser does not understand this output"
                % (log_path, len(parsed), n_pass, n_fail, ran, passed, failed))
    # iscsi-test-cu exits 1 when a test failed; anything else with a summary is odd.
    if rc not in ("0", "1"):
        problems.append("%s: iscsi-test-cu exit status %s" % (run, rc))
    return parsed, init_failed, rc, wall, problems, test_times(os.path.join(resdir, run + ".tlog"))


def load_lun(resdir, lun, names):
    log_path = os.path.join(resdir, lun + ".log")
    if not os.path.exists(log_path):
        raise ResultsError("%s: missing (did iscsi-test-cu run on the %s LUN?)" % (log_path, lun))
    parsed, init_failed, rc, wall, problems, times = load_run(resdir, lun, names)
    runs = [(lun, "main", rc, wall)]
    for suffix, _what in EXTRA_RUNS:
        run = "%s-%s" % (lun, suffix)
        if not os.path.exists(os.path.join(resdir, run + ".log")):
            continue
        p2, i2, rc2, wall2, pr2, t2 = load_run(resdir, run, names)
        parsed.update(p2)
        init_failed |= i2
        problems += pr2
        times.update(t2)
        runs.append((run, suffix, rc2, wall2))
    died = os.path.join(resdir, lun + ".died")
    if os.path.exists(died):
        problems.append(read_text(died).strip())
    results = {}
    for name in names:
        r = parsed.get(name)
        if r is None:
            suite = name.split(".")[1]
            why = ("suite set-up failed" if suite in init_failed else "not run")
            r = {"status": "error", "notes": [why], "asserts": []}
        results[name] = r
    return {"results": results, "rc": rc, "wall": wall, "runs": runs,
            "problems": problems, "times": times}


def test_times(path):
    """Seconds per test from <lun>.tlog ("EPOCH LINE" per line): a test ends
    on the line where CUnit prints its verdict; it took the time since the
    previous test's verdict (or since the first line, for the first test)."""
    times = {}
    if not os.path.exists(path):
        return times
    suite, test, prev = None, None, None
    for raw in read_text(path).splitlines():
        stamp, _, line = raw.partition(" ")
        try:
            t = float(stamp)
        except ValueError:
            continue
        if prev is None:
            prev = t
        m = SUITE_RE.match(line)
        if m:
            suite = m.group(1)
            continue
        m = TEST_RE.match(line)
        if m:
            test = "SCSI.%s.%s" % (suite, m.group(1))
            line = m.group(2)
        if test and RESULT_RE.match(line) and test not in times:
            times[test] = t - prev
            prev = t
    return times


def read_meta(resdir):
    meta = {}
    path = os.path.join(resdir, "meta.txt")
    if os.path.exists(path):
        for line in read_text(path).splitlines():
            if ": " in line:
                k, v = line.split(": ", 1)
                meta[k.strip()] = v.strip()
    return meta


def read_waivers(path):
    waivers = {}
    if not path:
        return waivers
    for i, line in enumerate(read_text(path).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, reason = line.partition(" ")
        if len(name.split(".")) != 3 or not reason.strip():
            raise ResultsError("%s:%d: want 'SCSI.Suite.Test reason', got %r" % (path, i, line))
        waivers[name] = reason.strip()
    return waivers


def in_bar(name, globs):
    suite = name.split(".")[1]
    return any(fnmatch.fnmatchcase(suite, g) for g in globs)


def why(r):
    """A one-line reason for a non-pass: first [FAILED]/[SKIPPED] note or assert."""
    for n in r["notes"]:
        if n.startswith("[FAILED]") or n.startswith("[SKIPPED]") or "not run" in n or "no result" in n:
            return n
    if r["asserts"]:
        return r["asserts"][0]
    return r["notes"][0] if r["notes"] else ""


def md_escape(s, limit=220):
    s = s.replace("|", "\\|").replace("\n", " ")
    return s if len(s) <= limit else s[:limit - 3] + "..."


def counts(results):
    c = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
    for r in results.values():
        c[r["status"]] += 1
    return c


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("resdir")
    ap.add_argument("--md", help="write the markdown report here")
    ap.add_argument("--tsv", help="write one line per test here")
    ap.add_argument("--bar", default=DEFAULT_BAR, help="comma-separated suite globs")
    ap.add_argument("--waivers", help="file of bar failures not to count (see above)")
    ap.add_argument("--waivers-rbd", help="file of rbd bar failures not to count (see above)")
    ap.add_argument("--info", action="append", default=[], metavar="KEY=VALUE",
                    help="extra line for the report's environment table")
    args = ap.parse_args(argv)
    globs = [g.strip() for g in args.bar.split(",") if g.strip()]

    try:
        names = list_tests(os.path.join(args.resdir, "tests.txt"))
        meta = read_meta(args.resdir)
        want = meta.get("tests", "SCSI")
        # only the tests that the run selected (-t FAMILY[.SUITE[.TEST]], comma-separated)
        pats = []
        for t in want.split(","):
            p = t.split(".")
            pats.append(tuple((p + ["*", "*", "*"])[:3]))
        names = [n for n in names
                 if any(all(fnmatch.fnmatchcase(a, b) for a, b in zip(n.split("."), p)) for p in pats)]
        luns = {lun: load_lun(args.resdir, lun, names) for lun in LUNS}
        waivers = read_waivers(args.waivers)
        has_rbd = meta.get("rbd") == "1"
        if has_rbd:
            luns["rbd"] = load_lun(args.resdir, "rbd", names)
        waivers_rbd = read_waivers(args.waivers_rbd)
    except ResultsError as err:
        print("conformance: error: %s" % err, file=sys.stderr)
        return 2

    ref = luns["fileio"]
    if ref["problems"]:
        print("conformance: error: the fileio reference run is unusable: %s"
              % "; ".join(ref["problems"]), file=sys.stderr)
        return 2

    fr, sr = luns["fileio"]["results"], luns["svm"]["results"]
    rows = []
    bar_pass, bar_fail, waived = [], [], []
    for n in names:
        b = in_bar(n, globs)
        f, v = fr[n]["status"], sr[n]["status"]
        verdict = ""
        if b and f in ("pass", "skip"):
            good = v == "pass" if f == "pass" else v in ("pass", "skip")
            if good:
                verdict = "ok"
                bar_pass.append(n)
            elif n in waivers:
                verdict = "waived"
                waived.append(n)
            else:
                verdict = "BAR FAIL"
                bar_fail.append(n)
        elif b:
            verdict = "n/a"
        rows.append((n, f, v, b, verdict))

    # ---- the rbd bar: rbd against the file-store svm LUN ----------------------
    rbd_rows, rbd_pass, rbd_fail, rbd_waived = [], [], [], []
    rr = luns["rbd"]["results"] if has_rbd else {}
    if has_rbd:
        for n in names:
            b = in_bar(n, globs)
            v, r = sr[n]["status"], rr[n]["status"]
            verdict = ""
            if b and v in ("pass", "skip"):
                good = r == "pass" if v == "pass" else r in ("pass", "skip")
                if good:
                    verdict = "ok"
                    rbd_pass.append(n)
                elif n in waivers_rbd:
                    verdict = "waived"
                    rbd_waived.append(n)
                else:
                    verdict = "BAR FAIL"
                    rbd_fail.append(n)
            elif b:
                verdict = "n/a"
            rbd_rows.append((n, v, r, b, verdict))

    cf, cs = counts(fr), counts(sr)
    suites = []
    for n in names:
        s = n.split(".")[1]
        if s not in suites:
            suites.append(s)

    # ---- console summary -------------------------------------------------
    cr = counts(rr) if has_rbd else None
    for lun, c in (("fileio", cf), ("svm", cs)) + ((("rbd", cr),) if has_rbd else ()):
        L = luns[lun]
        print("%-7s %3d tests: %3d fully passed, %3d skip, %3d fail, %3d error  "
              "(CUnit passed %d = pass+skip; iscsi-test-cu %s)"
              % (lun + ":", len(names), c["pass"], c["skip"], c["fail"], c["error"],
                 c["pass"] + c["skip"],
                 ", ".join("%s exit %s, %ss" % (kind, rc, wall)
                           for _run, kind, rc, wall in L["runs"])))
        for p in L["problems"]:
            print("%-7s WARNING: %s" % ("", p))
    both = sum(1 for n in names if fr[n]["status"] == "pass" and sr[n]["status"] == "pass")
    only_f = [n for n in names if fr[n]["status"] == "pass" and sr[n]["status"] != "pass"]
    only_s = [n for n in names if sr[n]["status"] == "pass" and fr[n]["status"] != "pass"]
    print("both pass %d; fileio only %d; svm only %d" % (both, len(only_f), len(only_s)))
    for lun in luns:
        t = luns[lun]["times"]
        if t:
            slow = sorted(t.items(), key=lambda kv: -kv[1])[:5]
            print("%s slowest: %s" % (lun, ", ".join("%s %.0fs" % (k[5:], v) for k, v in slow)))
    print("bar families: %s" % ", ".join(globs))
    for n in waived:
        print("  waived   %-40s fileio %-4s svm %-5s %s"
              % (n, fr[n]["status"], sr[n]["status"], waivers[n][:140]))
    for n in sorted(set(waivers) & set(bar_pass)):
        print("  stale waiver: %s passes now" % n)
    for n in bar_fail:
        print("  BAR FAIL %-40s fileio %-4s svm %-5s %s"
              % (n, fr[n]["status"], sr[n]["status"], why(sr[n])[:140]))

    if has_rbd:
        print("rbd bar (rbd vs the file-store svm LUN): %d passed, %d failed%s"
              % (len(rbd_pass), len(rbd_fail),
                 ", %d waived" % len(rbd_waived) if rbd_waived else ""))
        for n in rbd_waived:
            print("  rbd waived   %-40s svm %-4s rbd %-5s %s"
                  % (n, sr[n]["status"], rr[n]["status"], waivers_rbd[n][:140]))
        for n in sorted(set(waivers_rbd) & set(rbd_pass)):
            print("  stale rbd waiver: %s passes now" % n)
        for n in rbd_fail:
            print("  rbd BAR FAIL %-40s svm %-4s rbd %-5s %s"
                  % (n, sr[n]["status"], rr[n]["status"], why(rr[n])[:140]))
        only_svm = [n for n in names if sr[n]["status"] == "pass" and rr[n]["status"] != "pass"]
        only_rbd = [n for n in names if rr[n]["status"] == "pass" and sr[n]["status"] != "pass"]
        print("svm (file) passes and rbd does not: %d; rbd passes and svm does not: %d"
              % (len(only_svm), len(only_rbd)))

    # ---- files -----------------------------------------------------------
    if args.tsv:
        with open(args.tsv, "w") as f:
            rb = {row[0]: row for row in rbd_rows}
            f.write("test\tfileio\tsvm\tbar\tverdict\tsvm_reason"
                    + ("\trbd\trbd_verdict\trbd_reason" if has_rbd else "") + "\n")
            for n, a, b, inb, v in rows:
                f.write("%s\t%s\t%s\t%s\t%s\t%s" % (n, a, b, "yes" if inb else "no", v,
                                                    why(sr[n]) if b != "pass" else ""))
                if has_rbd:
                    r = rr[n]["status"]
                    f.write("\t%s\t%s\t%s" % (r, rb[n][4], why(rr[n]) if r != "pass" else ""))
                f.write("\n")
    if args.md:
        write_md(args.md, names, suites, luns, rows, globs, bar_pass, bar_fail, meta,
                 args.info, cf, cs, both, only_f, only_s, waived, waivers)
        if has_rbd:
            write_md_rbd(args.md, names, suites, luns, rbd_rows, globs, rbd_pass, rbd_fail,
                         meta, rbd_waived, waivers_rbd, cs, cr)

    if waived:
        print("conformance: %d bar failure(s) waived (not counted below)" % len(waived))
    if rbd_waived:
        print("conformance: %d rbd bar failure(s) waived (not counted below)" % len(rbd_waived))
    # the closing line counts both bars' comparisons
    print("conformance: %d passed, %d failed" % (len(bar_pass) + len(rbd_pass),
                                                 len(bar_fail) + len(rbd_fail)))
    return 1 if bar_fail or rbd_fail else 0


def write_md_rbd(path, names, suites, luns, rows, globs, bar_pass, bar_fail, meta,
                 waived, waivers, cs, cr):
    """Append the RBD section to the report written by write_md."""
    sr, rr = luns["svm"]["results"], luns["rbd"]["results"]
    icon = {"pass": "pass", "fail": "**FAIL**", "skip": "skip", "error": "**ERROR**"}
    o = []
    w = o.append
    w("")
    w("# svm on RBD vs svm on a file")
    w("")
    w("In the same VM, alongside the two runs above, the same iscsi-test-cu runs went to")
    w("`user:svm` LUNs whose stores are RBD images: the main run split in two shards (whole")
    w("suites taken alternately) on two LUNs at once (`cfgstring=rbd/conf/lun0;conf=...` and")
    w("`rbd/conf/lun1`, %s each; every command costs a librbd round trip to the OSD in the"
      % meta.get("lun_size", "?"))
    w("TCG guest: the first run's shards took 1459 s and 1137 s), then the scratch runs on")
    w("`rbd/conf/scratch0`")
    w("(%s), on the" % meta.get("scratch_size", "?"))
    w("rig's throw-away single-node Ceph (`tests/vm/ceph.sh`: one mon, one memstore OSD,")
    w("started in the VM while the fileio and svm runs were already going; cluster, pool,")
    w("images and LUNs took %s s)." % meta.get("rbd_setup_s", "?"))
    w("")
    for run, kind, rc, wall in luns["rbd"]["runs"]:
        w("- iscsi-test-cu on rbd (%s): exit %s, %s s" % (kind, rc, wall))
    for p in luns["rbd"]["problems"]:
        w("- problem on rbd: **%s**" % p)
    w("")
    w("| LUN | tests | pass | skip | fail | error | pass+skip |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for lun, c in (("svm", cs), ("rbd", cr)):
        w("| %s | %d | %d | %d | %d | %d | %d |" % (lun, len(names), c["pass"], c["skip"],
                                                   c["fail"], c["error"], c["pass"] + c["skip"]))
    w("")
    w("## The RBD bar")
    w("")
    w("In the same suites (`%s`), every test the file-store svm LUN passes in CUnit's"
      % "`, `".join(globs))
    w("sense is one comparison, by the same rule with svm as the reference: svm passes ->")
    w("rbd must pass; svm skips -> rbd may pass or skip but must not fail. Waivers:")
    w("`tests/conformance/waivers-rbd`.")
    w("")
    w("**%d passed, %d failed%s.**" % (len(bar_pass), len(bar_fail),
                                      ", %d waived" % len(waived) if waived else ""))
    w("")
    if waived:
        w("| waived test | svm | rbd | why waived |")
        w("|---|---|---|---|")
        for n in waived:
            w("| %s | %s | %s | %s |" % (n, icon[sr[n]["status"]], icon[rr[n]["status"]],
                                         md_escape(waivers[n], 400)))
        w("")
    if bar_fail:
        w("| failed comparison | svm | rbd | first reason in the rbd log |")
        w("|---|---|---|---|")
        for n in bar_fail:
            w("| %s | %s | %s | %s |" % (n, icon[sr[n]["status"]], icon[rr[n]["status"]],
                                         md_escape(why(rr[n]))))
        w("")
    diff = [row for row in rows if row[1] != row[2]]
    w("## Every test whose result differs between svm and rbd")
    w("")
    if not diff:
        w("None: rbd's result is svm's for every test.")
    else:
        ts, tr = luns["svm"]["times"], luns["rbd"]["times"]
        fmt = lambda t: "%.1f" % t if t is not None else ""
        w("| test | svm | s | rbd | s | rbd bar | rbd note |")
        w("|---|---|---:|---|---:|---|---|")
        for n, a, b, inb, v in diff:
            note = md_escape(why(rr[n]), 160) if b != "pass" else ""
            w("| %s | %s | %s | %s | %s | %s | %s |" % (n, icon[a], fmt(ts.get(n)), icon[b],
                                                        fmt(tr.get(n)), v, note))
    w("")
    with open(path, "a") as f:
        f.write("\n".join(o))


def write_md(path, names, suites, luns, rows, globs, bar_pass, bar_fail, meta, info,
             cf, cs, both, only_f, only_s, waived, waivers):
    fr, sr = luns["fileio"]["results"], luns["svm"]["results"]
    icon = {"pass": "pass", "fail": "**FAIL**", "skip": "skip", "error": "**ERROR**"}
    o = []
    w = o.append
    w("# SCSI conformance: svm vs LIO fileio")
    w("")
    w("Generated by `tests/conformance/run` (`make check-conformance`); do not edit by hand.")
    w("")
    w("libiscsi's `iscsi-test-cu -t %s --dataloss` ran over iSCSI (127.0.0.1) against two"
      % meta.get("tests", "SCSI"))
    w("LUNs of the same size, side by side in the same VM: a LIO **fileio** LUN (the")
    w("reference) and an **svm** LUN (`user:svm`: tcmu-runner with `build/handler_svm.so`).")
    w("Two more runs per kind give the tests that skip themselves there their own set-up,")
    w("on a scratch LUN of the same kind (%s), new, so that no SANITIZE touches the main"
      % meta.get("scratch_size", "?"))
    w("LUN: `-t SCSI.MultipathIO` with two URLs, the scratch LUN through the portals")
    w("127.0.0.1:3260 and 127.0.0.2:3260, then `-t SCSI.Sanitize --allow-sanitize`; their")
    w("results replace the main run's skips. The raw logs are in the run's output directory")
    w("(`build/conformance/conformance/`: `fileio.log`, `svm.log`, `*-mpath.log`,")
    w("`*-sanitize.log`, and `*.tlog` with a time stamp per line).")
    w("")
    w("## Run")
    w("")
    w("| | |")
    w("|---|---|")
    w("| date | %s |" % meta.get("date", "?"))
    w("| guest kernel (runs LIO) | %s |" % meta.get("guest_kernel", "?"))
    w("| host kernel (runs qemu) | %s |" % meta.get("host_kernel", "?"))
    for k in sorted(meta):
        if k.startswith("pkg "):
            w("| %s | %s |" % (k[4:], meta[k]))
    w("| handler | `%s` |" % meta.get("handler", "?"))
    w("| LUN size | %s each; fileio `write_back=false`, svm default cfgstring |"
      % meta.get("lun_size", "?"))
    w("| iscsi-test-cu options | `%s` |"
      % " ".join(x for x in ("-t", meta.get("tests", "?"), "--dataloss",
                             meta.get("extra_args", "")) if x))
    w("| runs | %s |" % ("one after the other" if meta.get("serial") == "1"
                         else "both LUNs at once"))
    for lun in LUNS:
        for run, kind, rc, wall in luns[lun]["runs"]:
            w("| iscsi-test-cu on %s (%s) | exit %s, %s s |" % (lun, kind, rc, wall))
        if luns[lun]["problems"]:
            w("| problems on %s | %s |" % (lun, "; ".join("**%s**" % p
                                                          for p in luns[lun]["problems"])))
    if "vm_wall_s" in meta:
        w("| whole VM run (boot, set-up, tests, clean-up) | %s s |" % meta["vm_wall_s"])
    for kv in info:
        k, _, v = kv.partition("=")
        w("| %s | %s |" % (k, v))
    w("")
    w("## Totals")
    w("")
    w("libiscsi skips a test by passing it with a `[SKIPPED]` message (opcode not")
    w("implemented, LUN not thin-provisioned, ...); the report tells such tests apart as")
    w("`skip`. `pass+skip` is what CUnit counts as passed, the figure comparable with")
    w("numbers quoted elsewhere. `error` = the test never reported a result.")
    w("")
    w("| LUN | tests | pass | skip | fail | error | pass+skip |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for lun, c in (("fileio", cf), ("svm", cs)):
        w("| %s | %d | %d | %d | %d | %d | %d |" % (lun, len(names), c["pass"], c["skip"],
                                                   c["fail"], c["error"], c["pass"] + c["skip"]))
    w("")
    w("**Fully passed** (`pass`: passed without skipping anything): svm %d of %d, fileio %d of %d."
      % (cs["pass"], len(names), cf["pass"], len(names)))
    w("")
    w("Both pass: %d. fileio passes and svm does not: %d. svm passes and fileio does not: %d."
      % (both, len(only_f), len(only_s)))
    w("")
    w("For reference, measured elsewhere with the same tool (CUnit passed counts):")
    w("")
    for k, v in REFERENCE:
        w("- %s: %s" % (k, v))
    w("")
    w("## The bar")
    w("")
    w("In the suites matching `%s`, svm must do no worse than fileio. Each test there"
      % "`, `".join(globs))
    w("that fileio passes (in CUnit's sense) is one comparison: if fileio really passes it,")
    w("svm must pass it too (an svm skip fails the comparison); if fileio skips it, svm")
    w("may pass or skip it but must not fail it.")
    w("")
    w("**%d passed, %d failed%s.**" % (len(bar_pass), len(bar_fail),
                                      ", %d waived" % len(waived) if waived else ""))
    w("")
    w("| suite | tests | fileio pass | fileio skip | comparisons | failed |")
    w("|---|---:|---:|---:|---:|---:|")
    for s in suites:
        ns = [n for n in names if n.split(".")[1] == s]
        if not in_bar(ns[0], globs):
            continue
        fp = [n for n in ns if fr[n]["status"] == "pass"]
        fs = [n for n in ns if fr[n]["status"] == "skip"]
        bad = [n for n in ns if n in bar_fail]
        w("| %s | %d | %d | %d | %d | %d |" % (s, len(ns), len(fp), len(fs),
                                                len(fp) + len(fs), len(bad)))
    w("")
    if waived:
        w("### Waived")
        w("")
        w("Failed comparisons listed in `tests/conformance/waivers`, counted in neither number:")
        w("")
        w("| test | svm | why waived |")
        w("|---|---|---|")
        for n in waived:
            w("| %s | %s | %s |" % (n, icon[sr[n]["status"]], md_escape(waivers[n], 400)))
        w("")
    if bar_fail:
        w("### Bar failures")
        w("")
        w("| test | fileio | svm | first reason in the svm log |")
        w("|---|---|---|---|")
        for n in bar_fail:
            w("| %s | %s | %s | %s |" % (n, fr[n]["status"], icon[sr[n]["status"]],
                                         md_escape(why(sr[n]))))
        w("")
    w("## Every test")
    w("")
    w("Bar column: `ok` = comparison passed, `BAR FAIL` = comparison failed, `waived`, `n/a` = in a")
    w("bar suite but fileio fails it; empty = not a bar suite. Times in seconds (wall).")
    w("")
    w("| test | fileio | s | svm | s | bar | svm note |")
    w("|---|---|---:|---|---:|---|---|")
    tf, ts = luns["fileio"]["times"], luns["svm"]["times"]
    fmt = lambda t: "%.1f" % t if t is not None else ""
    for n, a, b, inb, v in rows:
        note = md_escape(why(sr[n]), 160) if b != "pass" else ""
        w("| %s | %s | %s | %s | %s | %s | %s |" % (n, icon[a], fmt(tf.get(n)), icon[b],
                                                    fmt(ts.get(n)), v, note))
    w("")
    with open(path, "w") as f:
        f.write("\n".join(o))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
