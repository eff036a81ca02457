#!/usr/bin/env python3
"""Compares `hci2mqtt replay` JSON lines with a generated stream's truth.jsonl.

  truth_check.py TRUTH.jsonl REPLAY_OUTPUT.jsonl

A truth line is recovered when a reading with the same MAC and packet id carries every truth
value (within 0.011). Each (mac, packet) counts once: repeated frames are duplicates by design.
Prints JSON {truth, recovered, ratio, missing_by_format}.
"""
import json
import sys
from collections import Counter, defaultdict

TOL = 0.011


def main():
    truth = {}
    for line in open(sys.argv[1]):
        t = json.loads(line)
        if t.get("mic_fail"):
            continue
        truth.setdefault((t["mac"], t.get("packet")), (t["fmt"], {}))[1].update(t["values"])
    got = defaultdict(dict)
    for line in open(sys.argv[2]):
        r = json.loads(line)
        got[(r["mac"], r.get("packet"))].update(r)
    rec, missing = 0, Counter()
    for k, (fmt, vals) in truth.items():
        g = got.get(k, {})
        ok = all(isinstance(g.get(n), (int, float)) and abs(g[n] - v) <= TOL for n, v in vals.items())
        if ok:
            rec += 1
        else:
            missing[fmt] += 1
    print(json.dumps({"truth": len(truth), "recovered": rec, "ratio": rec / max(1, len(truth)),
                      "missing_by_format": dict(missing)}))


if __name__ == "__main__":
    main()
