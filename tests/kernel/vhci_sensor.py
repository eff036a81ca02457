#!/usr/bin/env python3
"""A kernel Bluetooth adapter made of Bumble's virtual controller on /dev/vhci, plus virtual
sensors on the same LocalLink, for the real-kernel suite (tests/kernel/run.sh).

* "SCANNER" is the controller behind /dev/vhci (Bumble's `vhci` transport): the kernel
  registers it as hciN and talks to it like to any adapter. Its public address is --address.
* "SENSOR" (when --mac is given) advertises real MiBeacon v5 encrypted service data (0xFE95),
  switching between the --frame values every --switch-every seconds, exactly as in
  tests/bumble/virtual_controllers.py.

Status goes to --status FILE (appended lines): `index N` when the kernel answered the vhci
vendor packet (N = the hciN index), `cmd OPCODE PARAMS` for each HCI command the scanner
controller receives (so a test can see who was told to scan), `did WHAT` after each control
command.

Control: lines written to the FIFO --control (created if missing):
  hw-error             the controller sends a Hardware Error event (04 10 01 00); the kernel
                       answers it by closing and reopening the adapter (hci_error_reset)
  controller-reset     the controller resets itself, as after a firmware restart: its scan
                       stops (state lost) and it announces the reset with an unsolicited
                       Command Complete for HCI_Reset (04 0e 04 01 03 0c 00)
  flood FILE RATE      the H4 events of FILE go to the host at RATE events/s (a bench load)
  advertise MAC [NAME] a new controller on the link starts advertising (flags + name), e.g.
                       a device that appears while bluetoothd discovers
  quiet                the sensor stops advertising

Bumble's own HCI_Reset handler keeps the scan state (a TODO in Bumble 0.0.236); a real
controller stops scanning on Reset, so the scanner here does too.

Usage: vhci_sensor.py --address AA:.. --status FILE [--control FIFO] [--mac MAC --frame HEX...]
"""

import argparse
import asyncio
import os
import struct
import sys
import threading

from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport import open_transport


def command(opcode: int, params: bytes) -> bytes:
    return bytes([0x01]) + struct.pack('<HB', opcode, len(params)) + params


def padded(data: bytes) -> bytes:
    if len(data) > 31:
        raise SystemExit(f"advertising data too long: {len(data)} bytes")
    return bytes([len(data)]) + data.ljust(31, b'\0')


def mibeacon_ad(service_data: bytes) -> bytes:
    return padded(bytes([0x02, 0x01, 0x06, len(service_data) + 3, 0x16, 0x95, 0xFE]) + service_data)


def name_ad(name: str) -> bytes:
    n = name.encode()[:27]
    return padded(bytes([0x02, 0x01, 0x06, len(n) + 1, 0x09]) + n)


class Status:
    def __init__(self, path: str):
        self.f = open(path, 'a', buffering=1)

    def write(self, line: str) -> None:
        self.f.write(line + '\n')
        self.f.flush()


class Quiet:
    """Host side of a sensor controller: reports failed commands."""

    def on_packet(self, packet: bytes) -> None:
        if len(packet) >= 7 and packet[0] == 0x04 and packet[1] == 0x0E and packet[6] != 0:
            print(f"sensor command failed: {packet.hex()}", file=sys.stderr, flush=True)


class Scanner(Controller):
    status: Status

    def on_hci_command_packet(self, cmd) -> None:
        raw = bytes(cmd)
        self.status.write(f"cmd {raw[1] | raw[2] << 8:04x} {raw[4:].hex()}")
        super().on_hci_command_packet(cmd)

    def on_hci_reset_command(self, command):
        self.le_scan_enable = False
        return super().on_hci_reset_command(command)


def advertiser(link: LocalLink, mac: str, data: bytes, interval_ms: int) -> Controller:
    c = Controller(f'ADV-{mac}', host_sink=Quiet(), link=link, public_address=mac)
    # LE Set Advertising Parameters (interval in Bumble's timer units = ms), ADV_IND, public.
    c.on_packet(command(0x2006, struct.pack('<HHBBB6sBB', interval_ms, interval_ms, 0, 0, 0, bytes(6), 0x07, 0)))
    c.on_packet(command(0x2008, data))
    c.on_packet(command(0x200A, bytes([1])))
    return c


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--address', required=True, help="the adapter's public address")
    ap.add_argument('--status', required=True)
    ap.add_argument('--control')
    ap.add_argument('--mac')
    ap.add_argument('--frame', action='append', default=[])
    ap.add_argument('--switch-every', type=float, default=0.5)
    ap.add_argument('--interval-ms', type=int, default=100)
    ap.add_argument('--device', default='/dev/vhci')
    args = ap.parse_args()
    status = Status(args.status)
    loop = asyncio.get_running_loop()

    transport = await open_transport(f'vhci:{args.device}')
    # Catch the kernel's answer to the vendor packet (ff 01 + the index, little-endian: vhci's
    # put_unaligned_le16; Bumble's own log line reads it big-endian), then hand it on.
    inner = transport.source.data_received

    def data_received(data: bytes) -> None:
        if len(data) == 4 and data[0] == 0xFF:
            status.write(f"index {data[2] | data[3] << 8}")
        inner(data)

    transport.source.data_received = data_received
    link = LocalLink()
    scanner = Scanner('SCANNER', host_source=transport.source, host_sink=transport.sink, link=link,
                      public_address=args.address)
    scanner.status = status

    sensor = None
    frames = [bytes.fromhex(f) for f in args.frame]
    if args.mac and frames:
        sensor = advertiser(link, args.mac, mibeacon_ad(frames[0]), args.interval_ms)
    others = []

    def control(line: str) -> None:
        words = line.split()
        if not words:
            return
        if words[0] == 'hw-error':
            transport.sink.on_packet(bytes([0x04, 0x10, 0x01, 0x00]))
        elif words[0] == 'controller-reset':
            scanner.le_scan_enable = False
            transport.sink.on_packet(bytes([0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00]))
        elif words[0] == 'advertise' and len(words) >= 2:
            others.append(advertiser(link, words[1], name_ad(words[2] if len(words) > 2 else 'kt-new'),
                                     args.interval_ms))
        elif words[0] == 'flood' and len(words) >= 3:
            # flood FILE RATE: the H4 events of FILE sent to the host at RATE events/s in 10 ms
            # slices, as a busy radio would (bench/kernel_syscalls.sh).
            loop.create_task(flood(words[1], int(words[2])))
        elif words[0] == 'quiet' and sensor is not None:
            sensor.on_packet(command(0x200A, bytes([0])))
        else:
            status.write(f"unknown {line.strip()}")
            return
        status.write(f"did {line.strip()}")

    async def flood(path: str, rate: int) -> None:
        data = open(path, 'rb').read()
        events, i = [], 0
        while i + 3 <= len(data) and data[i] == 0x04:
            end = i + 3 + data[i + 2]
            events.append(data[i:end])
            i = end
        per = max(1, rate // 100)
        t0 = loop.time()
        for k in range(0, len(events), per):
            for e in events[k:k + per]:
                transport.sink.on_packet(e)
            delay = t0 + (k + per) / rate - loop.time()
            await asyncio.sleep(max(0.0, delay))
        status.write(f"flooded {len(events)} in {loop.time() - t0:.1f} s")

    if args.control:
        if not os.path.exists(args.control):
            os.mkfifo(args.control)

        def reader() -> None:
            # O_RDWR: the FIFO never reports EOF when a writer closes it.
            with open(os.open(args.control, os.O_RDWR), 'r') as f:
                for line in f:
                    loop.call_soon_threadsafe(control, line)

        threading.Thread(target=reader, daemon=True).start()

    status.write("started")
    i = 0
    while True:
        await asyncio.sleep(args.switch_every)
        if sensor is not None and len(frames) > 1:
            i = (i + 1) % len(frames)
            sensor.on_packet(command(0x2008, mibeacon_ad(frames[i])))


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
