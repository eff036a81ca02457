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
# The generator names BTHome object 0x10 (a binary on/off state) "power", as Home Assistant's
# bthome-ble does; bleparser 3.7.3, whose key names hci2mqtt follows, calls it "switch"
# (bleparser/bthome_const.py, 0x10: meas_format="switch"). "power" in watts is object 0x0B.
ALIASES = {"power": "switch"}


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
        def has(n, v):
            x = g.get(n, g.get(ALIASES.get(n, n)))
            return isinstance(x, (int, float)) and abs(x - v) <= TOL
        ok = all(has(n, v) for n, v in vals.items())
        if ok:
            rec += 1
        else:
            missing[fmt] += 1
    print(json.dumps({"truth": len(truth), "recovered": rec, "ratio": rec / max(1, len(truth)),
                      "missing_by_format": dict(missing)}))


if __name__ == "__main__":
    main()
