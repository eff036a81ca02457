#!/usr/bin/env python3
"""Times PyPI bleparser 3.7.3 on the same stream as hci2mqtt (the anchor of the old chain).

  bleparser_time.py STREAM_DIR [--reps 3]

Inputs are built before timing, as in ../shared/bench/anchors.py: one-report H4 events
(bleparser rejects multi-report events, so those are split), BleParser(aeskeys, discovery=True, filter_duplicates=True: the old script's setting, so re-broadcasts are not decrypted again)
.parse_raw_data over every one. Prints JSON: reports, CPU seconds (median of reps; process_time
around the loop only), µs per report, readings.
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcistream  # noqa: E402


def main():
    d = sys.argv[1]
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 3
    from bleparser import BleParser

    events = hcistream.load_h4(os.path.join(d, "stream.h4"))
    pkts = []
    for pkt in events:
        try:
            reps_ = hcistream.parse_reports(pkt)
        except ValueError:
            pkts.append(pkt)
            continue
        if len(reps_) == 1:
            pkts.append(pkt)
        else:
            pkts.extend(hcistream.single_report_event(r) for r in reps_)
    keys = json.load(open(os.path.join(d, "keys.json")))
    bkeys = {bytes.fromhex(m.replace(":", "")): bytes.fromhex(k) for m, k in keys.items()}
    times, readings = [], 0
    for _ in range(reps):
        bp = BleParser(aeskeys=bkeys, discovery=True, filter_duplicates=True)
        for p in pkts[:300]:  # warm-up, as the anchors do
            bp.parse_raw_data(p)
        bp = BleParser(aeskeys=bkeys, discovery=True, filter_duplicates=True)
        t0 = time.process_time()
        n = 0
        for p in pkts:
            s, _t = bp.parse_raw_data(p)
            if s and s.get("data"):
                n += 1
        times.append(time.process_time() - t0)
        readings = n
    cpu = statistics.median(times)
    print(json.dumps({"reports": len(pkts), "cpu_s": cpu, "us_per_report": cpu / len(pkts) * 1e6,
                      "readings": readings, "reps": reps}))


if __name__ == "__main__":
    main()
