#!/usr/bin/env python3
"""Throughput of the live H4/TCP path: a local TCP peer plays an H4 controller (answers the scan
setup with Command Completes), then pushes N LE Extended Advertising Report events (the two
LYWSD02MMC MiBeacon v5 encrypted vectors, alternating, so every event decrypts and decodes:
AES-CCM + JSON line). Measures, for the hci2mqtt process: wall time from the first event byte
sent until the N-th JSON line is on its stdout, and its CPU time (utime+stime from /proc) over
that span.

Usage: bench/live_throughput.py BIN [EVENTS]     (default 100000)
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ext_report(mac: str, sd: bytes) -> bytes:
    addr = bytes.fromhex(mac.replace(':', ''))[::-1]
    data = bytes([0x02, 0x01, 0x06, len(sd) + 3, 0x16, 0x95, 0xFE]) + sd
    rep = struct.pack('<HB', 0x0013, 0x00) + addr + bytes([1, 0, 0xFF, 0x7F, 0xC4]) + b'\0\0' + b'\0' + bytes(6) + bytes([len(data)]) + data
    params = bytes([0x0D, 0x01]) + rep
    return bytes([0x04, 0x3E, len(params)]) + params


def cc(op: int, rp: bytes) -> bytes:
    p = bytes([1]) + struct.pack('<H', op) + rp
    return bytes([0x04, 0x0E, len(p)]) + p


def cpu_ticks(pid: int) -> int:
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    vecs = [json.loads(l) for l in open(os.path.join(ROOT, 'tests/data/vectors/live-bumble.jsonl'))]
    mac, key = vecs[0]['mac'], vecs[0]['key_hex']
    frames = [ext_report(mac, bytes.fromhex(v['service_data_hex'])) for v in vecs]
    blob = b''.join(frames[i % 2] for i in range(n))

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    proc = subprocess.Popen([binary, 'run', '--adapter', f'tcp:127.0.0.1:{port}', '--key', f'{mac}={key}'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    counted = {'lines': 0, 'at': None}
    done = threading.Event()

    def count_lines():
        while True:
            b = proc.stdout.read1(1 << 16)
            if not b:
                return
            counted['lines'] += b.count(b'\n')
            if counted['lines'] >= n and not done.is_set():
                counted['at'] = time.monotonic()
                done.set()

    threading.Thread(target=count_lines, daemon=True).start()
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    state = {'t0': None, 'cpu0': None}
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
                if op in (0x200C, 0x2042) and params[:1] == b'\x01' and not started.is_set():
                    started.set()

    threading.Thread(target=controller, daemon=True).start()
    if not started.wait(10):
        proc.kill()
        sys.exit('scan setup did not complete')
    time.sleep(0.2)
    state['cpu0'] = cpu_ticks(proc.pid)
    t0 = time.monotonic()
    conn.sendall(blob)
    t_sent = time.monotonic() - t0
    done.wait(120)
    lines = counted['lines']
    wall = (counted['at'] or time.monotonic()) - t0
    cpu = (cpu_ticks(proc.pid) - state['cpu0']) / os.sysconf('SC_CLK_TCK')
    proc.send_signal(15)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    err = proc.stderr.read()
    print(f'events pushed: {n} ({len(blob)} bytes, sendall took {t_sent:.3f} s)')
    print(f'readings printed: {lines}')
    print(f'wall time to last reading: {wall:.3f} s -> {lines / wall:,.0f} events/s')
    print(f'hci2mqtt CPU time over that span: {cpu:.2f} s ({cpu / max(lines, 1) * 1e6:.2f} us/event; clock tick {1 / os.sysconf("SC_CLK_TCK") * 1000:.0f} ms)')
    print(f'exit: {proc.returncode}; {err.decode().strip().splitlines()[-1]}')


if __name__ == '__main__':
    main()
