#!/usr/bin/env python3
"""System calls and CPU per event on the live H4/TCP path under a steady load, side by side with
`hci2mqtt replay` of the same events (issue 11, batched reads). Not a timed test: it prints.

A local TCP peer plays an H4 controller (answers the scan setup), then sends the events of an
H4 stream file (e.g. the bench stream, `bench/gen_stream.py`) at RATE events/s, in 10 ms
slices, to `hci2mqtt run --adapter tcp:…` (JSON lines to a file). Two runs of the live path:
  1. under `strace -f -c` (counts every system call of the process, set-up included);
  2. without strace, CPU from /proc/PID/schedstat (ns on-CPU) between the first event sent and
     the last one handled.
Then `hci2mqtt replay` of exactly the bytes sent (a raw H4 stream file), CPU by getrusage.

Usage: bench/live_syscalls.py BIN STREAM.h4 KEYS.json [--rate 1000] [--events 20000]
"""
import argparse
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hcistream import iter_h4  # noqa: E402


def cc(op: int, rp: bytes) -> bytes:
    p = bytes([1]) + struct.pack('<H', op) + rp
    return bytes([0x04, 0x0E, len(p)]) + p


def schedstat_ns(pid: int) -> int:
    with open(f'/proc/{pid}/schedstat') as f:
        return int(f.read().split()[0])


def live(binary, keyargs, events, rate, out_path, strace_out=None):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    cmd = [binary, 'run', '--adapter', f'tcp:127.0.0.1:{port}'] + keyargs
    if strace_out:
        cmd = ['strace', '-f', '-c', '-o', strace_out] + cmd
    out = open(out_path, 'wb')
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    started = threading.Event()

    def controller():
        buf = b''
        while True:
            try:
                d = conn.recv(4096)
            except OSError:
                return
            if not d:
                return
            buf += d
            while len(buf) >= 4 and len(buf) >= 4 + buf[3]:
                op = struct.unpack('<H', buf[1:3])[0]
                params = buf[4:4 + buf[3]]
                buf = buf[4 + buf[3]:]
                if op == 0x1002:
                    conn.sendall(cc(op, b'\0' + bytes(64)))
                elif op == 0x2003:
                    conn.sendall(cc(op, b'\0' + bytes(8)))
                else:
                    conn.sendall(cc(op, b'\0'))
                if op in (0x200C, 0x2042) and params[:1] == b'\x01':
                    started.set()

    threading.Thread(target=controller, daemon=True).start()
    if not started.wait(20):
        proc.kill()
        sys.exit('scan setup did not complete')
    time.sleep(0.3)
    # The process to measure: hci2mqtt itself (under strace, its child).
    pid = proc.pid
    if strace_out:
        kids = open(f'/proc/{proc.pid}/task/{proc.pid}/children').read().split()
        pid = int(kids[0])
    cpu0 = schedstat_ns(pid)
    per_slice = max(1, rate // 100)
    t0 = time.monotonic()
    i = 0
    while i < len(events):
        chunk = b''.join(events[i:i + per_slice])
        conn.sendall(chunk)
        i += per_slice
        target = t0 + (i / rate)
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    sent_s = time.monotonic() - t0
    time.sleep(0.5)  # the last slice's hold-off and handling
    cpu = (schedstat_ns(pid) - cpu0) / 1e9
    os.kill(pid, 15)  # hci2mqtt itself; strace then writes its summary and exits
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    out.close()
    err = proc.stderr.read().decode(errors='replace').strip().splitlines()
    conn.close()
    srv.close()
    return sent_s, cpu, err


def strace_total(path):
    calls = {}
    total = None
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[-1] == 'total':
            total = int(f[3])
        elif len(f) >= 5 and f[0][0].isdigit() and not line.startswith('-'):
            calls[f[-1]] = int(f[3])
    return total, calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('binary')
    ap.add_argument('stream')
    ap.add_argument('keys')
    ap.add_argument('--rate', type=int, default=1000)
    ap.add_argument('--events', type=int, default=20000)
    a = ap.parse_args()
    data = open(a.stream, 'rb').read()
    events = [bytes(p) for p in iter_h4(data)][:a.events]
    keys = json.load(open(a.keys))
    keyargs = [x for m, k in keys.items() for x in ('--key', f'{m}={k}')]
    tmp = tempfile.mkdtemp(prefix='live-syscalls-')
    n = len(events)
    print(f'events: {n} from {a.stream}, sent at {a.rate}/s in 10 ms slices')

    st = os.path.join(tmp, 'strace.txt')
    sent_s, _, err = live(a.binary, keyargs, events, a.rate, os.path.join(tmp, 'live1.jsonl'), st)
    total, calls = strace_total(st)
    top = sorted(calls.items(), key=lambda kv: -kv[1])[:6]
    lines1 = sum(1 for _ in open(os.path.join(tmp, 'live1.jsonl')))
    print(f'live (strace -f -c): {total} system calls in {sent_s:.1f} s, set-up and exit included '
          f'-> {total / n:.3f} per event; readings {lines1}; top: '
          + ', '.join(f'{k} {v}' for k, v in top))

    sent_s, cpu, err = live(a.binary, keyargs, events, a.rate, os.path.join(tmp, 'live2.jsonl'))
    lines2 = sum(1 for _ in open(os.path.join(tmp, 'live2.jsonl')))
    print(f'live CPU (schedstat, no strace): {cpu * 1e3:.1f} ms for {n} events -> '
          f'{cpu / n * 1e6:.2f} us/event; readings {lines2}')

    h4 = os.path.join(tmp, 'sent.h4')
    with open(h4, 'wb') as f:
        f.write(b''.join(events))
    runs = []
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(os.path.join(tmp, 'replay.jsonl'), 'wb') as o:
            subprocess.run([a.binary, 'replay', h4] + keyargs, stdout=o, stderr=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    runs.sort()
    rcpu = runs[2]
    lines3 = sum(1 for _ in open(os.path.join(tmp, 'replay.jsonl')))
    print(f'replay CPU (getrusage, median of 5): {rcpu * 1e3:.1f} ms -> {rcpu / n * 1e6:.2f} us/event; '
          f'readings {lines3}')
    print(f'live / replay CPU per event: {cpu / rcpu:.2f}x')


if __name__ == '__main__':
    main()
