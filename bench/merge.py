#!/usr/bin/env python3
"""ST 2022-7 merge benchmark: `rtpst2022-7-merge` against GStreamer's `rtpfunnel`.

The cost per packet of merging two legs of one RTP stream with complementary
loss, for our merger (every sequence number out once, duplicates dropped)
and for `rtpfunnel` (forwards everything, duplicates included), on the same
input in the same process, one right after the other.

The work is done by BUILDDIR/bench/merge-bench (bench/merge-bench.c, built
with the project): it makes the input once in memory (N RTP packets of
12 + 1316 bytes, one SSRC, sequence numbers wrapping; leg A misses a random
10 % of them, leg B a disjoint 10 %, B's copy of packet n arrives right
after A's copy of n + 4; the buffers come from a small pool per leg whose
headers are rewritten before each push), then for each element builds a
pipeline with the element's two request pads fed by two pads of its own and
a counting sink pad on the element's src pad, sets it PLAYING and pushes
both legs from one thread in arrival order, as fast as it can, as single
buffers or as buffer lists of up to 64 packets per leg (as udpbatchsrc
pushes).  Timed: the push of the whole input, in CPU time of the whole
process (the merger's clock task included) and in wall-clock time.  `none`
is the harness alone (both legs straight into the counting sink).

Each round is one fresh merge-bench process per mode, the three elements
in alternating order (merger, rtpfunnel, none, then none, rtpfunnel,
merger); the ratio merger/rtpfunnel of packets per CPU second is taken
within each round, then min/median/max over the rounds.

With --callgrind, each element also runs once per mode under
`valgrind --tool=callgrind`, counting only the push (--toggle-collect): the
instructions per packet in, a figure that does not depend on what else the
machine is doing (PERFORMANCE.md), printed after the table.

Figures, not a test: the exit status is 1 only when a run failed (a crash,
or a merger whose output is not every packet exactly once), not when the
target is missed.  Standard library only.  Usage:

    python3 bench/merge.py --build BUILDDIR [--packets 1000000] [--repeat 5]
                           [--modes buffer,list] [--quick] [--sink count]
                           [--callgrind [--callgrind-packets 100000]]
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fanout import BenchError, fmt_row  # noqa: E402

MERGE = "rtpst2022-7-merge"
FUNNEL = "rtpfunnel"
NONE = "none"
ELEMENTS = (MERGE, FUNNEL, NONE)
SHORT = {MERGE: "merge", FUNNEL: "rtpfunnel", NONE: "harness"}
MODES = ("buffer", "list")
MODE_TEXT = {"buffer": "single buffers", "list": "buffer lists"}
TARGET_RATIO = 1.0


def log(msg):
    print("[merge] " + msg, file=sys.stderr, flush=True)


def parse_line(line):
    kind, _, rest = line.partition(" ")
    out = {}
    for item in rest.split():
        key, _, value = item.partition("=")
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return kind, out


def run_round(cfg, mode, rnd, env):
    order = list(ELEMENTS) if rnd % 2 else list(reversed(ELEMENTS))
    args = [cfg.binary, "--packets", str(cfg.packets), "--mode", mode,
            "--batch", str(cfg.batch), "--lag", str(cfg.lag), "--loss", str(cfg.loss),
            "--seed", str(cfg.seed), "--sink", cfg.sink, "--warmup", str(cfg.warmup),
            "--pool", str(cfg.pool),
            "--elements", ",".join(order)]
    # generous: about 1 us per packet per element, plus the registry scan
    timeout = 60 + 3 * (cfg.packets + cfg.warmup) * 4e-6
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                           env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError("%s round %d: merge-bench ran past %.0f s" % (mode, rnd, timeout))
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        raise BenchError("%s round %d: merge-bench exited with %d:\n%s%s"
                         % (mode, rnd, r.returncode, out[-2000:], err[-2000:]))
    info, runs = None, []
    for line in out.splitlines():
        kind, d = parse_line(line)
        if kind == "input":
            info = d
        elif kind == "run":
            d["round"] = rnd
            runs.append(d)
    if info is None or len(runs) != len(ELEMENTS):
        raise BenchError("%s round %d: unexpected output of merge-bench:\n%s%s"
                         % (mode, rnd, out[-2000:], err[-2000:]))
    return info, runs


def run_callgrind(cfg, mode, element, env, tmp):
    """Instructions executed while pushing the input through `element`, and
    the packets pushed."""
    out_file = os.path.join(tmp, "callgrind-%s-%s.out" % (mode, element))
    args = ["valgrind", "--tool=callgrind", "--collect-atstart=no",
            "--toggle-collect=push_buffers", "--toggle-collect=push_lists",
            "--callgrind-out-file=" + out_file,
            cfg.binary, "--packets", str(cfg.callgrind_packets), "--mode", mode,
            "--batch", str(cfg.batch), "--lag", str(cfg.lag), "--loss", str(cfg.loss),
            "--seed", str(cfg.seed), "--sink", cfg.sink, "--warmup", "0",
            "--pool", str(cfg.pool),
            "--elements", element]
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                           timeout=120 + cfg.callgrind_packets * 1e-3)
    except subprocess.TimeoutExpired:
        raise BenchError("callgrind %s %s: ran past its time limit" % (mode, element))
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    m = re.search(r"Collected\s*:\s*(\d+)", err)
    runs = [parse_line(line)[1] for line in out.splitlines() if line.startswith("run ")]
    if r.returncode != 0 or not m or len(runs) != 1:
        raise BenchError("callgrind %s %s: exit %d:\n%s%s"
                         % (mode, element, r.returncode, out[-1000:], err[-2000:]))
    return int(m.group(1)), runs[0]


def check(info, d):
    """What is wrong with one run, or None."""
    expected_in = info["leg_a"] + info["leg_b"]
    if d["in"] != expected_in:
        return "pushed %d packets, the input has %d" % (d["in"], expected_in)
    if d["eos"] < 1:
        return "no EOS at the sink"
    if d["element"] == MERGE:
        problems = []
        if d["out"] != info["packets"]:
            problems.append("output %d packets, not %d (every packet once)"
                            % (d["out"], info["packets"]))
        for key in ("merge_lost", "merge_late", "merge_foreign", "merge_invalid",
                    "merge_restarts"):
            if d.get(key, 0):
                problems.append("%s %d" % (key[6:], d[key]))
        if d.get("merge_duplicates") != info["both"]:
            problems.append("dropped %s duplicates, not %d"
                            % (d.get("merge_duplicates"), info["both"]))
        return "; ".join(problems) or None
    if d["out"] != d["in"]:
        return "output %d packets, not the %d pushed" % (d["out"], d["in"])
    return None


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def report(cfg, info, results, failures):
    print()
    print("merge: %d RTP packets of %d bytes (MPEG-TS 7x188), one SSRC, two legs with "
          "complementary loss, %d CPU(s), %s"
          % (info["packets"], info["packet_bytes"], os.cpu_count(),
             time.strftime("%Y-%m-%d %H:%M:%S %Z")))
    print("input: leg A %d packets, leg B %d, on both %d (%.1f %% lost on A only, %.1f %% on B "
          "only), B's copy of n right after A's copy of n + %d; %d packets in per run; "
          "seed %d; GStreamer %s"
          % (info["leg_a"], info["leg_b"], info["both"],
             100.0 * (info["packets"] - info["leg_a"]) / info["packets"],
             100.0 * (info["packets"] - info["leg_b"]) / info["packets"],
             info["lag"], info["leg_a"] + info["leg_b"], info["seed"], info["gstreamer"]))
    print("pushed from one thread as fast as it goes; sink: %s; recovery-window 100 ms "
          "(default); %d round(s), element order alternating"
          % ("a counting pad" if cfg.sink == "count" else "fakesink sync=false async=false",
             cfg.repeat))
    print("CPU s: CPU time of the whole process (every thread) during the push; other thr ms: "
          "of it, threads other than the pushing one (the merger's clock task); Mpkt/s: "
          "packets in per CPU second; net ns/pkt: minus the harness of the same round")
    print()

    heads = ["mode", "element", "run", "pkts in", "pkts out", "segments out", "CPU s",
             "other thr ms", "wall s", "Mpkt/s", "ns CPU/pkt", "net ns/pkt",
             "dups dropped", "lost"]
    rows = []
    for mode in cfg.modes:
        for rnd in range(1, cfg.repeat + 1):
            byel = {d["element"]: d for d in results.get((mode, rnd), [])}
            base = byel.get(NONE)
            for el in ELEMENTS:
                d = byel.get(el)
                if not d:
                    continue
                ns = 1e9 * d["cpu_s"] / d["in"]
                net = "-"
                if base and el != NONE:
                    net = "%.0f" % (ns - 1e9 * base["cpu_s"] / base["in"])
                rows.append([
                    MODE_TEXT[mode] if mode == "buffer" else "lists of %d" % cfg.batch,
                    SHORT[el], rnd, d["in"], d["out"], d["segments"],
                    "%.3f" % d["cpu_s"], "%.1f" % (1e3 * (d["cpu_s"] - d["thread_cpu_s"])),
                    "%.3f" % d["wall_s"], "%.2f" % (d["in"] / d["cpu_s"] / 1e6),
                    "%.0f" % ns, net,
                    d.get("merge_duplicates", "-") if el == MERGE else "-",
                    d.get("merge_lost", "-") if el == MERGE else "-"])
    widths = [max(len(h), max([len(str(r[i])) for r in rows] or [0])) for i, h in enumerate(heads)]
    print(fmt_row(heads, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for r in rows:
        print(fmt_row(r, widths))
    print()

    medians = {}
    for mode in cfg.modes:
        ratios, wall_ratios, nets = [], [], {MERGE: [], FUNNEL: []}
        for rnd in range(1, cfg.repeat + 1):
            byel = {d["element"]: d for d in results.get((mode, rnd), [])}
            m, f, b = byel.get(MERGE), byel.get(FUNNEL), byel.get(NONE)
            if not (m and f):
                continue
            ratios.append((m["in"] / m["cpu_s"]) / (f["in"] / f["cpu_s"]))
            wall_ratios.append((m["in"] / m["wall_s"]) / (f["in"] / f["wall_s"]))
            if b:
                for el, d in ((MERGE, m), (FUNNEL, f)):
                    nets[el].append(1e9 * (d["cpu_s"] / d["in"] - b["cpu_s"] / b["in"]))
        if not ratios:
            continue
        medians[mode] = median(ratios)
        label = MODE_TEXT[mode] if mode == "buffer" else "lists of %d" % cfg.batch
        print("ratio merger/rtpfunnel, packets per CPU second, %s: min %.2f median %.2f max %.2f"
              " (%d rounds; by wall clock: median %.2f)"
              % (label, min(ratios), medians[mode], max(ratios), len(ratios),
                 median(wall_ratios)))
        if nets[MERGE]:
            print("  per packet in, harness subtracted (median): merger %.0f ns, rtpfunnel %.0f ns"
                  % (median(nets[MERGE]), median(nets[FUNNEL])))
    print()

    for mode in cfg.modes:
        ms = [d for (md, _), runs in results.items() if md == mode
              for d in runs if d["element"] == MERGE]
        fs = [d for (md, _), runs in results.items() if md == mode
              for d in runs if d["element"] == FUNNEL]
        if ms:
            print("%s: merger output %s packets of %d (every packet once), lost %s, late %s, "
                  "duplicates dropped %s (%d on both legs); rtpfunnel output %s of %d pushed, "
                  "%s segment events out"
                  % (mode, "/".join(sorted({str(d["out"]) for d in ms})), info["packets"],
                     "/".join(sorted({str(d.get("merge_lost")) for d in ms})),
                     "/".join(sorted({str(d.get("merge_late")) for d in ms})),
                     "/".join(sorted({str(d.get("merge_duplicates")) for d in ms})),
                     info["both"],
                     "/".join(sorted({str(d["out"]) for d in fs})) or "-",
                     info["leg_a"] + info["leg_b"],
                     "/".join(sorted({str(d["segments"]) for d in fs})) or "-"))
    for f in failures:
        print("  FAILED %s" % f)
    print()

    if cfg.callgrind_results:
        print("instructions per packet in, callgrind, %d packets (%d in), the push only "
              "(repeatable whatever the machine does):" % (cfg.callgrind_packets,
                                                          cfg.callgrind_in))
        heads = ["mode", "merge", "rtpfunnel", "harness", "merge net", "rtpfunnel net",
                 "ratio rtpfunnel/merge"]
        rows = []
        for mode in cfg.modes:
            ins = {el: cfg.callgrind_results.get((mode, el)) for el in ELEMENTS}
            if None in ins.values():
                continue
            net_m, net_f = ins[MERGE] - ins[NONE], ins[FUNNEL] - ins[NONE]
            rows.append([MODE_TEXT[mode] if mode == "buffer" else "lists of %d" % cfg.batch]
                        + ["%.0f" % ins[el] for el in ELEMENTS]
                        + ["%.0f" % net_m, "%.0f" % net_f, "%.2f" % (ins[FUNNEL] / ins[MERGE])])
        widths = [max(len(h), max([len(str(r[i])) for r in rows] or [0]))
                  for i, h in enumerate(heads)]
        print(fmt_row(heads, widths))
        print(fmt_row(["-" * w for w in widths], widths))
        for r in rows:
            print(fmt_row(r, widths))
        print()

    print("target: merger at least as fast as rtpfunnel (ratio >= %.1f)" % TARGET_RATIO)
    for mode in cfg.modes:
        label = MODE_TEXT[mode] if mode == "buffer" else "lists of %d" % cfg.batch
        if mode in medians:
            r = medians[mode]
            print("  %s: median ratio %.2f -> %s"
                  % (label, r, "met" if r >= TARGET_RATIO else "NOT met"))
        else:
            print("  %s: not measured" % label)
    sys.stdout.flush()


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build dir (default: build)")
    ap.add_argument("--packets", type=int, default=None,
                    help="sequence numbers in the input (default 1000000; 1.8x that pushed)")
    ap.add_argument("--repeat", type=int, default=None, help="rounds per mode (default 5)")
    ap.add_argument("--modes", default="buffer,list", help="buffer, list or both (default)")
    ap.add_argument("--batch", type=int, default=64, help="packets per list and leg (default 64)")
    ap.add_argument("--lag", type=int, default=4,
                    help="B's copy of n comes right after A's copy of n + LAG (default 4)")
    ap.add_argument("--loss", type=float, default=0.10,
                    help="fraction lost on each leg, disjoint (default 0.10)")
    ap.add_argument("--seed", type=int, default=20227, help="seed of the loss pattern")
    ap.add_argument("--sink", choices=("count", "fakesink"), default="count",
                    help="after the element: a counting pad (default) or fakesink sync=false")
    ap.add_argument("--quick", action="store_true", help="200000 packets, 3 rounds")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions per packet under valgrind (about 1 min)")
    ap.add_argument("--callgrind-packets", type=int, default=100000,
                    help="sequence numbers in the callgrind runs (default 100000)")
    cfg = ap.parse_args(argv)
    if cfg.packets is None:
        cfg.packets = 200000 if cfg.quick else 1000000
    if cfg.repeat is None:
        cfg.repeat = 3 if cfg.quick else 5
    cfg.modes = [m.strip() for m in cfg.modes.split(",") if m.strip()]
    if not cfg.modes or any(m not in MODES for m in cfg.modes):
        ap.error("--modes: buffer, list or buffer,list")
    if cfg.packets < 1000 or cfg.repeat < 1:
        ap.error("--packets at least 1000, --repeat at least 1")
    if not 0 <= cfg.loss <= 0.5:
        ap.error("--loss: 0 to 0.5")
    if not 1 <= cfg.batch <= 1024 or not 0 <= cfg.lag <= 4096:
        ap.error("--batch 1 to 1024, --lag 0 to 4096")
    cfg.warmup = min(100000, cfg.packets)
    # prebuilt buffers per leg, reused in turn: few, so that they are in the
    # cache as a receiver's freshly filled buffers are (see merge-bench.c)
    cfg.pool = max(512, 2 * (cfg.lag + 2 * cfg.batch))
    cfg.build = os.path.abspath(cfg.build)
    cfg.binary = os.path.join(cfg.build, "bench", "merge-bench")
    return cfg


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def on_alarm(_signum, _frame):
    raise BenchError("the whole benchmark ran past its time limit")


def main(argv):
    cfg = parse_args(argv)
    cfg.callgrind_results, cfg.callgrind_in = {}, 0
    plugin = os.path.join(cfg.build, "plugins", "libgstmroute.so")
    for path in (cfg.binary, plugin):
        if not os.path.exists(path):
            print("merge: %s is missing: build first (ninja -C %s)" % (path, cfg.build),
                  file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(300 + len(cfg.modes) * cfg.repeat * (60 + cfg.packets * 1e-5)
                     + (len(cfg.modes) * len(ELEMENTS) * (120 + cfg.callgrind_packets * 1e-3)
                        if cfg.callgrind else 0)))

    tmp = tempfile.mkdtemp(prefix="mroute-bench-merge-")
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = os.path.join(cfg.build, "plugins")
    # a registry of its own, in the temp dir: nothing in the build dir changes
    env["GST_REGISTRY"] = os.path.join(tmp, "registry.bin")
    for var in ("GST_DEBUG", "GST_TRACERS", "GST_DEBUG_FILE", "G_SLICE"):
        env.pop(var, None)

    results, failures, info = {}, [], None
    try:
        for rnd in range(1, cfg.repeat + 1):
            for mode in cfg.modes:
                log("%s, round %d: %d packets, elements %s"
                    % (mode, rnd, cfg.packets,
                       "in order" if rnd % 2 else "in reverse order"))
                try:
                    info, runs = run_round(cfg, mode, rnd, env)
                except BenchError as e:
                    failures.append(str(e).splitlines()[0])
                    print("\n%s\n" % e, flush=True)
                    continue
                for d in runs:
                    problem = check(info, d)
                    if problem:
                        failures.append("%s %s round %d: %s" % (mode, d["element"], rnd, problem))
                results[(mode, rnd)] = runs
                log("  " + ", ".join("%s %.3f s CPU" % (SHORT[d["element"]], d["cpu_s"])
                                     for d in runs))
        cfg.callgrind_results, cfg.callgrind_in = {}, 0
        if cfg.callgrind:
            if not shutil.which("valgrind"):
                log("valgrind is not installed: no instruction counts")
            for mode in cfg.modes:
                for el in ELEMENTS:
                    if not shutil.which("valgrind"):
                        break
                    log("callgrind: %s, %s, %d packets" % (mode, el, cfg.callgrind_packets))
                    try:
                        ins, d = run_callgrind(cfg, mode, el, env, tmp)
                    except BenchError as e:
                        failures.append(str(e).splitlines()[0])
                        print("\n%s\n" % e, flush=True)
                        continue
                    cfg.callgrind_results[(mode, el)] = ins / d["in"]
                    cfg.callgrind_in = d["in"]
        if info:
            report(cfg, info, results, failures)
    except BenchError as e:
        failures.append(str(e))
        print("merge: %s" % e, file=sys.stderr, flush=True)
        if info:
            report(cfg, info, results, failures)
    finally:
        signal.alarm(0)
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
