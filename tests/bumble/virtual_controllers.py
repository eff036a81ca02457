#!/usr/bin/env python3
"""Two Bumble virtual controllers on one LocalLink, for hci2mqtt's end-to-end test.

* "SENSOR" advertises real MiBeacon v5 encrypted service data (0xFE95) from the test vectors,
  as the sensor's own public address, switching between the given frames so readings change.
  It is driven with raw HCI commands (LE Set Advertising Parameters / Data / Enable).
* "SCANNER" is exposed as an H4 stream on a TCP server (Bumble's tcp-server transport);
  hci2mqtt connects to it with `--adapter tcp:127.0.0.1:PORT` and does the whole scan setup.

Prints `READY <port>` on stdout once listening. Runs until killed.

Usage: virtual_controllers.py --port PORT --mac AA:BB:CC:DD:EE:FF --frame HEX [--frame HEX]...
       [--switch-every SECONDS] [--interval-ms MS] [--silence-after SECONDS]
"""

import argparse
import asyncio
import socket
import struct
import sys

from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport.tcp_server import open_tcp_server_transport_with_socket


class Events:
    """Host side of the sensor controller: checks every command completes with success."""

    def __init__(self):
        self.failures = []

    def on_packet(self, packet: bytes) -> None:
        # 04 0e plen ncmd opcode(2) status
        if len(packet) >= 7 and packet[0] == 0x04 and packet[1] == 0x0E and packet[6] != 0:
            self.failures.append(packet.hex())
            print(f"sensor command failed: {packet.hex()}", file=sys.stderr, flush=True)


def command(opcode: int, params: bytes) -> bytes:
    return bytes([0x01]) + struct.pack('<HB', opcode, len(params)) + params


def ad_data(service_data: bytes) -> bytes:
    flags = bytes([0x02, 0x01, 0x06])
    sd = bytes([len(service_data) + 3, 0x16, 0x95, 0xFE]) + service_data
    data = flags + sd
    if len(data) > 31:
        raise SystemExit(f"advertising data too long: {len(data)} bytes")
    return bytes([len(data)]) + data.ljust(31, b'\0')


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--mac', required=True)
    ap.add_argument('--frame', action='append', required=True, help='service data hex after the UUID')
    ap.add_argument('--switch-every', type=float, default=1.0)
    ap.add_argument('--interval-ms', type=int, default=100)
    ap.add_argument('--silence-after', type=float, default=None, help='stop advertising after SECONDS')
    args = ap.parse_args()

    link = LocalLink()

    # The controller hci2mqtt talks to, as H4 over TCP. SO_REUSEADDR: the test restarts us on
    # the same port right after killing us.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', args.port))
    transport = await open_tcp_server_transport_with_socket(sock)
    Controller('SCANNER', host_source=transport.source, host_sink=transport.sink, link=link)

    # The sensor: a controller with our own minimal host sending raw HCI commands.
    events = Events()
    sensor = Controller('SENSOR', host_sink=events, link=link, public_address=args.mac)
    frames = [bytes.fromhex(f) for f in args.frame]
    # LE Set Advertising Parameters: interval min/max (Bumble's timer uses the value as ms),
    # ADV_IND (the only type Bumble's legacy advertiser sends), own address public, peer 0, all channels, no filter.
    sensor.on_packet(
        command(0x2006, struct.pack('<HHBBB6sBB', args.interval_ms, args.interval_ms, 0x00, 0x00, 0x00, bytes(6), 0x07, 0x00))
    )
    sensor.on_packet(command(0x2008, ad_data(frames[0])))
    sensor.on_packet(command(0x200A, bytes([0x01])))

    print(f"READY {sock.getsockname()[1]}", flush=True)

    loop = asyncio.get_running_loop()
    if args.silence_after is not None:
        # LE Set Advertising Enable 0: the radio goes quiet (the watchdog test).
        loop.call_later(args.silence_after, lambda: sensor.on_packet(command(0x200A, bytes([0x00]))))
    i = 0
    while True:
        await asyncio.sleep(args.switch_every)
        i = (i + 1) % len(frames)
        sensor.on_packet(command(0x2008, ad_data(frames[i])))


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
