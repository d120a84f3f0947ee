#!/usr/bin/env python3
"""Loads a clustersim Chrome trace (JSON) and checks the structure Perfetto
needs: every event well-formed, every thread named, the slices of one
thread nested or disjoint, each flow start matched by one flow end inside a
slice of its thread, forward/backward slices labelled with stage, chunk,
microbatch and layers, a memory counter per stage.  Prints what it checked
and exits 1 on the first kind of fault found."""
import json
import sys
from collections import defaultdict


def fail(msg):
    print(f"check_trace: {msg}")
    sys.exit(1)


def check_slices(xs):
    by_thread = defaultdict(list)
    for e in xs:
        for key in ("name", "cat", "pid", "tid", "ts", "dur", "args"):
            if key not in e:
                fail(f"X event without '{key}': {e}")
        if e["dur"] < 0:
            fail(f"negative duration: {e}")
        if "stage" not in e["args"]:
            fail(f"slice without a stage: {e}")
        if e["cat"] in ("forward", "backward"):
            for key in ("chunk", "microbatch", "layers"):
                if key not in e["args"]:
                    fail(f"{e['cat']} slice without '{key}': {e}")
        by_thread[(e["pid"], e["tid"])].append(e)
    eps = 1e-6  # the trace's resolution is 1e-6 us
    for thread, evs in by_thread.items():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        open_ends = []
        for e in evs:
            while open_ends and open_ends[-1] <= e["ts"] + eps:
                open_ends.pop()
            end = e["ts"] + e["dur"]
            if open_ends and end > open_ends[-1] + eps:
                fail(f"slices overlap without nesting on {thread}: {e}")
            open_ends.append(end)
    return by_thread


def enclosing(by_thread, e):
    for x in by_thread.get((e["pid"], e["tid"]), []):
        if x["ts"] - 1e-6 <= e["ts"] <= x["ts"] + x["dur"] + 1e-6:
            return x
    return None


def main():
    if len(sys.argv) < 2:
        fail("usage: check_trace.py TRACE.json [STAGES]")
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    events = doc.get("traceEvents")
    if not isinstance(events, list) or not events:
        fail("no traceEvents list")
    xs = [e for e in events if e.get("ph") == "X"]
    if not xs:
        fail("no slices")
    by_thread = check_slices(xs)
    names = {(e["pid"], e.get("tid")) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    for thread in by_thread:
        if thread not in names:
            fail(f"thread {thread} has no thread_name")
    starts = {e["id"]: e for e in events if e.get("ph") == "s"}
    ends = {e["id"]: e for e in events if e.get("ph") == "f"}
    if set(starts) != set(ends):
        fail("flow starts and ends do not pair up")
    for fid, e in ends.items():
        if e.get("bp") != "e" or enclosing(by_thread, e) is None:
            fail(f"flow end {fid} is not inside a slice of its thread")
        if enclosing(by_thread, starts[fid]) is None:
            fail(f"flow start {fid} is not inside a slice of its thread")
    counters = {e["name"] for e in events if e.get("ph") == "C"}
    stages = {e["args"]["stage"] for e in xs if e["cat"] == "forward"}
    if len(sys.argv) > 2 and len(stages) != int(sys.argv[2]):
        fail(f"forward slices on {len(stages)} stages, expected {sys.argv[2]}")
    for s in sorted(stages):
        if f"memory stage {s}" not in counters:
            fail(f"no memory counter for stage {s}")
    print(f"check_trace: ok: {len(xs)} slices on {len(by_thread)} threads, "
          f"{len(starts)} flows, {len(counters)} counters")


main()
