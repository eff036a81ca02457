#!/usr/bin/env python3
"""Differential test of hci2mqtt's BTHome decoder against the PyPI library `bthome-ble`.

What it does: generates BTHome advertisements covering every branch of bthome-ble's parser
(every object id of v2 and v1 with zero / max / min / random values, several objects, repeated
objects, text / raw / command / timestamp / device-information objects, button and dimmer
events, the device-info flags, MAC-included frames, v2 and v1 encryption with a known key) and
malformed ones (truncated objects, bad lengths, unknown ids mid-payload, wrong version, bad
MIC, short ciphertext). Each one becomes an HCI LE Advertising Report (service data 0xFCD2,
0x181C or 0x181E; legacy report, or extended when it does not fit) from its own MAC. All go
into one hex-text capture that `hci2mqtt replay FILE --all-frames --key MAC=HEX...` decodes;
bthome-ble decodes the same service data through `BTHomeBluetoothDeviceData(bindkey).update()`
(a fresh device object per input, as its tests do). The two results are compared value by
value after the key mapping tests/vectors.rs applies to bthome-ble vectors (SensorUpdate
keys → ours, binary sensors and events included), numbers within a relative 1e-6.

Discrepancies are printed grouped by class (branch, key, kind) with one example each; the
known, deliberate ones (tests/vectors.rs deviation table) are counted separately.

Run (CI does not):
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install bthome-ble
    cargo build --release
    /tmp/venv/bin/python scripts/differential/bthome.py [--bin target/release/hci2mqtt]
        [--seed N] [--random N] [--show N] [--vectors OUT.jsonl --pick NAME,NAME...]

`--vectors` writes the named cases (see `--list`) as corpus vectors in the schema of
tests/data/vectors/*.jsonl with the library's values as the expectation.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys
import time
from collections import defaultdict
from datetime import datetime

from common import (BIN, RSSI, STYLE_SSD, by_mac, dist_version, full_uuid, hci_event, mac_bytes,
                    replay, same, service_data_ad, vector_head, write_vectors)
from bthome_ble import BTHomeBluetoothDeviceData
from bthome_ble.const import MEAS_TYPES
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from habluetooth import BluetoothServiceInfoBleak

KEY = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
UUID = {0xFCD2: "fcd2", 0x181C: "181c", 0x181E: "181e"}
LIB = f"bthome-ble=={dist_version('bthome-ble')}"

# ------------------------------------------------------------------------------------------
# Cases


class Case:
    def __init__(self, name, branch, uuid, data, key=None, mac_in_frame=False):
        self.name = name
        self.branch = branch
        self.uuid = uuid
        self.data = bytes(data)
        self.key = key
        self.mac_in_frame = mac_in_frame
        self.mac = ""  # assigned later (unique per case)


def v2_plain(objs: bytes, info=0x40) -> bytes:
    return bytes([info]) + objs


def v2_encrypt(objs: bytes, mac: str, info=0x41, counter=0x33221100, frame_mac=None) -> bytes:
    """frame_mac: the MAC carried in the frame (info bit 1); the nonce uses it."""
    nmac = frame_mac or mac
    c = struct.pack("<I", counter)
    nonce = mac_bytes(nmac) + b"\xd2\xfc" + bytes([info]) + c
    ct = AESCCM(KEY, tag_length=4).encrypt(nonce, objs, None)
    head = bytes([info]) + (mac_bytes(frame_mac)[::-1] if frame_mac else b"")
    return head + ct[:-4] + c + ct[-4:]


def v1_encrypt(objs: bytes, mac: str, counter=0x33221100) -> bytes:
    c = struct.pack("<I", counter)
    nonce = mac_bytes(mac) + b"\x1e\x18" + c
    ct = AESCCM(KEY, tag_length=4).encrypt(nonce, objs, b"\x11")
    return ct[:-4] + c + ct[-4:]


def values_for(length: int, fmt: str, rng: random.Random):
    """(label, bytes) samples for an object of `length` bytes."""
    out = [("zero", bytes(length)), ("max", b"\xff" * length)]
    if fmt == "signed_integer":
        out.append(("min", b"\x00" * (length - 1) + b"\x80"))
        out.append(("maxpos", b"\xff" * (length - 1) + b"\x7f"))
        out.append(("neg", int(-rng.randrange(1, 2 ** (8 * length - 1))).to_bytes(length, "little", signed=True)))
    out.append(("rand", rng.randbytes(length)))
    out.append(("rand2", rng.randbytes(length)))
    return out


def v2_object(mid: int, rng: random.Random) -> bytes:
    """One random valid v2 object with id `mid`."""
    m = MEAS_TYPES[mid]
    if m.data_format in ("string", "raw"):
        n = rng.randrange(1, 5)
        body = bytes(rng.choice(b"abcxyz") for _ in range(n)) if m.data_format == "string" else rng.randbytes(n)
        return bytes([mid, n]) + body
    if m.data_format == "command":
        n = rng.randrange(0, 3)
        return bytes([mid, n, rng.randrange(0, 6)]) + rng.randbytes(n)
    if mid == 0x3A:
        return bytes([mid, rng.choice([1, 2, 3, 4, 5, 6, 0x80, 0x81])])
    if mid == 0x3C:
        return bytes([mid, rng.choice([1, 2]), rng.randrange(256)])
    if mid == 0x50:
        return bytes([mid]) + struct.pack("<I", rng.randrange(2**31))
    if m.meas_format is not None and "Binary" in type(m.meas_format).__name__:
        return bytes([mid, rng.choice([0, 1])])
    return bytes([mid]) + rng.randbytes(m.data_length)


SENSOR_IDS = sorted(k for k, m in MEAS_TYPES.items() if k < 0xF0)


def generate(seed: int, n_random: int) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    add = cases.append

    # --- v2, every object id alone, several values
    for mid, m in sorted(MEAS_TYPES.items()):
        if m.data_format in ("string", "raw"):
            for label, body in [("empty", b""), ("ascii", b"hello"), ("utf8", "µ°".encode()),
                                ("badutf8", b"\xff\xfe"), ("bytes", b"\x00\x01\xab")]:
                add(Case(f"v2-{mid:02x}-{label}", f"v2 {m.data_format}", 0xFCD2,
                         v2_plain(bytes([mid, len(body)]) + body)))
            continue
        if m.data_format == "command":
            for op in range(0, 7):
                for args in (b"", b"\xaa", b"\x01\x02\x03"):
                    add(Case(f"v2-3b-op{op}-args{len(args)}", "v2 command", 0xFCD2,
                             v2_plain(bytes([mid, len(args), op]) + args)))
            add(Case("v2-3b-reserved-bits", "v2 command", 0xFCD2, v2_plain(bytes([mid, 0xE1, 1, 0xAA]))))
            add(Case("v2-3b-truncated", "v2 command", 0xFCD2, v2_plain(bytes([mid, 3, 1, 0xAA]))))
            add(Case("v2-3b-then-objects", "v2 command", 0xFCD2, v2_plain(b"\x3a\x01\x3b\x01\x02\xaa\x45\xfa\x00")))
            continue
        if mid == 0x3A:
            for code in list(range(0, 9)) + [0x7F, 0x80, 0x81, 0x82, 0xFE, 0xFF]:
                add(Case(f"v2-3a-{code:02x}", "v2 button", 0xFCD2, v2_plain(bytes([mid, code]))))
            continue
        if mid == 0x3C:
            for code in range(0, 4):
                for steps in (0, 1, 3, 127, 128, 255):
                    add(Case(f"v2-3c-{code}-{steps}", "v2 dimmer", 0xFCD2, v2_plain(bytes([mid, code, steps]))))
            continue
        for label, body in values_for(m.data_length, m.data_format, rng):
            branch = "v2 device info" if mid >= 0xF0 else "v2 timestamp" if mid == 0x50 else "v2 numeric"
            add(Case(f"v2-{mid:02x}-{label}", branch, 0xFCD2, v2_plain(bytes([mid]) + body)))
        if m.data_length == 1 and mid not in (0x00,):
            for b in (1, 2, 0x7F):
                add(Case(f"v2-{mid:02x}-b{b}", "v2 numeric", 0xFCD2, v2_plain(bytes([mid, b]))))

    # --- v2 device-info flags (trigger-based, reserved bits), MAC included
    for info in (0x40, 0x44, 0x48, 0x50, 0x5C):
        add(Case(f"v2-info{info:02x}", "v2 flags", 0xFCD2, v2_plain(b"\x02\xca\x09\x03\xbf\x13", info)))
    for info in (0x42, 0x46):
        c = Case(f"v2-mac-info{info:02x}", "v2 mac included", 0xFCD2, b"", mac_in_frame=True)
        c.objs = b"\x02\xca\x09\x01\x5d"
        c.info = info
        add(c)
    add(Case("v2-mac-short", "v2 mac included", 0xFCD2, bytes([0x42, 1, 2, 3, 4])))
    for ver in (0, 1, 3, 4, 5, 6, 7):
        add(Case(f"v2-version{ver}", "v2 version", 0xFCD2, bytes([ver << 5]) + b"\x02\xca\x09"))
    add(Case("v2-empty", "v2 malformed", 0xFCD2, b""))
    add(Case("v2-info-only", "v2 malformed", 0xFCD2, b"\x40"))

    # --- v2 malformed / ordering
    add(Case("v2-truncated-last", "v2 malformed", 0xFCD2, v2_plain(b"\x02\xca\x09\x03\xbf")))
    add(Case("v2-truncated-only", "v2 malformed", 0xFCD2, v2_plain(b"\x04\x01\x02")))
    for unk in (0x30, 0x39, 0x66, 0x70, 0xEF, 0xF3, 0xFF):
        add(Case(f"v2-unknown-{unk:02x}-mid", "v2 unknown id", 0xFCD2, v2_plain(b"\x02\xca\x09" + bytes([unk]) + b"\x03\xbf\x13")))
        add(Case(f"v2-unknown-{unk:02x}-first", "v2 unknown id", 0xFCD2, v2_plain(bytes([unk]) + b"\x02\xca\x09")))
    add(Case("v2-text-no-len", "v2 malformed", 0xFCD2, v2_plain(b"\x02\xca\x09\x53")))
    add(Case("v2-text-len-too-long", "v2 malformed", 0xFCD2, v2_plain(b"\x02\xca\x09\x53\x09ab")))
    add(Case("v2-text-empty-then", "v2 text", 0xFCD2, v2_plain(b"\x53\x00\x02\xca\x09")))
    add(Case("v2-raw-empty-then", "v2 raw", 0xFCD2, v2_plain(b"\x54\x00\x02\xca\x09")))
    add(Case("v2-out-of-order", "v2 multi", 0xFCD2, v2_plain(b"\x03\xbf\x13\x02\xca\x09\x01\x5d")))
    add(Case("v2-packet-only", "v2 numeric", 0xFCD2, v2_plain(b"\x00\x09")))
    add(Case("v2-two-packet-ids", "v2 multi", 0xFCD2, v2_plain(b"\x00\x09\x00\x0a\x02\xca\x09")))
    add(Case("v2-devinfo-then-temp", "v2 device info", 0xFCD2, v2_plain(b"\x02\xca\x09\xf0\x01\x00\xf1\x00\x01\x02\x04\xf2\x00\x01\x06")))

    # --- v2 repeated objects (same id, and ids sharing one description or one key)
    for mid in [0x02, 0x03, 0x0C, 0x2E, 0x3A, 0x3C, 0x3D, 0x45, 0x0F, 0x21, 0x53]:
        for n in (2, 3, 9):
            objs = b"".join(v2_object(mid, rng) for _ in range(n))
            add(Case(f"v2-rep-{mid:02x}x{n}", "v2 repeated", 0xFCD2, v2_plain(objs)))
    for ids in [(0x02, 0x45), (0x02, 0x57, 0x58), (0x03, 0x2E), (0x0C, 0x4A), (0x06, 0x07),
                (0x40, 0x41), (0x47, 0x48), (0x47, 0x4E), (0x14, 0x2F), (0x09, 0x3D, 0x3E),
                (0x59, 0x5A, 0x5B), (0x0B, 0x5C), (0x43, 0x5D), (0x4B, 0x4C), (0x0A, 0x4D),
                (0x44, 0x62), (0x51, 0x63), (0x01, 0x15), (0x0B, 0x10), (0x14, 0x20), (0x08, 0x02),
                (0x4F, 0x4E), (0x53, 0x54)]:
        objs = b"".join(v2_object(i, rng) for i in ids)
        add(Case("v2-mix-" + "-".join(f"{i:02x}" for i in ids), "v2 repeated", 0xFCD2, v2_plain(objs)))

    # --- v2 random multi-object frames
    for i in range(n_random):
        ids = sorted(rng.sample(SENSOR_IDS, rng.randrange(2, 6)))
        objs = b"".join(v2_object(j, rng) for j in ids)
        if len(objs) > 200:
            continue
        add(Case(f"v2-random-{i}", "v2 multi", 0xFCD2, v2_plain(objs)))

    # --- v2 encrypted
    enc_objs = [b"\x02\xca\x09\x03\xbf\x13", b"\x3a\x01", b"\x01\x5d", b"\x00\x09\x02\xca\x09",
                b"\x53\x02hi", b"\x3c\x02\x80", b"\x3b\x01\x01\xaa", b"\x65\x07",
                b"\x02\xca\x09\x02\x00\x01"]
    for i, objs in enumerate(enc_objs):
        c = Case(f"v2-enc-{i}", "v2 encrypted", 0xFCD2, b"", key=KEY)
        c.objs, c.info = objs, 0x41
        add(c)
    for i, objs in enumerate(b"".join(v2_object(j, rng) for j in sorted(rng.sample(SENSOR_IDS, 3)))
                             for _ in range(n_random // 10)):
        c = Case(f"v2-enc-random-{i}", "v2 encrypted", 0xFCD2, b"", key=KEY)
        c.objs, c.info = objs, 0x41
        add(c)
    for info in (0x43, 0x45, 0x47):
        c = Case(f"v2-enc-info{info:02x}", "v2 encrypted", 0xFCD2, b"", key=KEY, mac_in_frame=bool(info & 2))
        c.objs, c.info = b"\x02\xca\x09", info
        add(c)
    for label, objs in [("ct1", b"\x01"), ("ct2", b"\x01\x5d"), ("ct0", b"")]:
        c = Case(f"v2-enc-{label}", "v2 encrypted short", 0xFCD2, b"", key=KEY)
        c.objs, c.info = objs, 0x41
        add(c)
    c = Case("v2-enc-badmic", "v2 encrypted bad mic", 0xFCD2, b"", key=KEY)
    c.objs, c.info, c.flip = b"\x02\xca\x09", 0x41, True
    add(c)
    c = Case("v2-enc-nokey", "v2 encrypted no key", 0xFCD2, b"", key=None)
    c.objs, c.info, c.enc_anyway = b"\x02\xca\x09", 0x41, True
    add(c)
    add(Case("v2-enc-too-short", "v2 encrypted short", 0xFCD2, bytes([0x41, 1, 2, 3, 4, 5, 6, 7]), key=KEY))

    # --- v1 plain: every id with its natural format, then other formats
    for mid, m in sorted(MEAS_TYPES.items()):
        if mid >= 0xF0 or m.data_format == "command":
            continue
        fmt = {"unsigned_integer": 0, "signed_integer": 1, "string": 3, "raw": 4, "timestamp": 5}[m.data_format]
        for label, body in values_for(m.data_length, m.data_format, rng)[:4]:
            if fmt in (3, 4):
                body = b"ab"
            add(Case(f"v1-{mid:02x}-{label}", "v1 numeric", 0x181C, bytes([(fmt << 5) | (len(body) + 1), mid]) + body))
    for mid in (0x02, 0x03, 0x0C, 0x01, 0x3A, 0x45, 0x0F):
        for label, body in [("f16", struct.pack("<e", 21.5)), ("f32", struct.pack("<f", -12.34)),
                            ("f64", struct.pack("<d", 1234.5678)), ("f3", b"\x00\x00\x01"),
                            ("f16nan", b"\x00\x7e"), ("f32inf", struct.pack("<f", float("inf")))]:
            add(Case(f"v1-{mid:02x}-{label}", "v1 float", 0x181C, bytes([0x40 | (len(body) + 1), mid]) + body))
        for fmt in (0, 1, 3, 4, 5, 6, 7):
            add(Case(f"v1-{mid:02x}-fmt{fmt}", "v1 format", 0x181C, bytes([(fmt << 5) | 3, mid, 0x10, 0x80])))
        add(Case(f"v1-{mid:02x}-wide", "v1 format", 0x181C, bytes([0x05, mid, 1, 2, 3, 4])))
    for code in (0, 1, 2, 6, 0x80, 0x81, 0xFE):
        add(Case(f"v1-3a-{code:02x}", "v1 button", 0x181C, bytes([0x02, 0x3A, code])))
    for code, steps in ((1, 3), (2, 200), (0, 5), (3, 1)):
        add(Case(f"v1-3c-{code}-{steps}", "v1 dimmer", 0x181C, bytes([0x03, 0x3C, code, steps])))
    add(Case("v1-3b-command", "v1 command", 0x181C, bytes([0x03, 0x3B, 0x01, 0xAA])))
    add(Case("v1-multi", "v1 multi", 0x181C, b"\x23\x02\xca\x09\x03\x03\xbf\x13\x02\x01\x5d\x02\x00\x07"))
    add(Case("v1-repeat", "v1 repeated", 0x181C, b"\x23\x02\xca\x09\x23\x02\x00\x01\x02\x01\x5d"))
    add(Case("v1-unknown-mid", "v1 unknown id", 0x181C, b"\x23\x02\xca\x09\x03\x70\x01\x02\x02\x01\x5d"))
    add(Case("v1-ctrl-len0", "v1 malformed", 0x181C, b"\x00\x02\x01\x5d"))
    add(Case("v1-ctrl-len0-mid", "v1 malformed", 0x181C, b"\x23\x02\xca\x09\x00\x02\x01\x5d"))
    add(Case("v1-ctrl-len1", "v1 malformed", 0x181C, b"\x01\x02\x02\x01\x5d"))
    add(Case("v1-truncated", "v1 malformed", 0x181C, b"\x23\x02\xca\x09\x03\x03\xbf"))
    add(Case("v1-one-byte", "v1 malformed", 0x181C, b"\x02"))
    add(Case("v1-trailing-byte", "v1 malformed", 0x181C, b"\x02\x01\x5d\x02"))
    add(Case("v1-devinfo", "v1 device info", 0x181C, b"\x03\xf0\x01\x00\x02\x01\x5d"))
    add(Case("v1-string", "v1 text", 0x181C, b"\x64\x53abc"))
    add(Case("v1-raw", "v1 raw", 0x181C, b"\x84\x54abc"))
    add(Case("v1-timestamp", "v1 timestamp", 0x181C, b"\xa5\x50\x5d\x39\x61\x64"))
    for i in range(n_random // 2):
        ids = sorted(rng.sample([k for k in SENSOR_IDS if MEAS_TYPES[k].data_format in ("unsigned_integer", "signed_integer")], 3))
        body = b""
        for j in ids:
            o = v2_object(j, rng)[1:]
            fmt = 1 if MEAS_TYPES[j].data_format == "signed_integer" else 0
            body += bytes([(fmt << 5) | (len(o) + 1), j]) + o
        add(Case(f"v1-random-{i}", "v1 multi", 0x181C, body))

    # --- v1 encrypted
    for i, objs in enumerate([b"\x23\x02\xca\x09\x03\x03\xbf\x13", b"\x02\x01\x5d\x02\x01\x5d",
                              b"\x02\x3a\x01\x00", b"\x02\x01\x5d", b"\x02\x01", b"\x02\x00\x09\x02\x01\x5d"]):
        c = Case(f"v1-enc-{i}", "v1 encrypted", 0x181E, b"", key=KEY)
        c.objs = objs
        add(c)
    c = Case("v1-enc-badmic", "v1 encrypted bad mic", 0x181E, b"", key=KEY)
    c.objs, c.flip = b"\x23\x02\xca\x09", True
    add(c)
    c = Case("v1-enc-nokey", "v1 encrypted no key", 0x181E, b"", key=None)
    c.objs, c.enc_anyway = b"\x23\x02\xca\x09", True
    add(c)

    # Unique MACs; encrypt where needed (the nonce depends on the MAC).
    for i, c in enumerate(cases):
        c.mac = "A4:C1:%02X:%02X:%02X:%02X" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
        frame_mac = "B4:C1:%02X:%02X:%02X:%02X" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
        if not hasattr(c, "objs"):
            continue
        if c.uuid == 0xFCD2:
            if c.info & 1:
                c.data = v2_encrypt(c.objs, c.mac, c.info, frame_mac=frame_mac if c.mac_in_frame else None)
            else:
                c.data = bytes([c.info]) + mac_bytes(frame_mac)[::-1] + c.objs
        else:
            c.data = v1_encrypt(c.objs, c.mac)
        if getattr(c, "flip", False):
            c.data = c.data[:-1] + bytes([c.data[-1] ^ 1])
    return cases


# ------------------------------------------------------------------------------------------
# The library


def run_library(c: Case) -> dict:
    uuid = full_uuid(c.uuid)
    si = BluetoothServiceInfoBleak(
        name="TEST DEVICE", address=c.mac, rssi=RSSI, manufacturer_data={},
        service_data={uuid: c.data}, service_uuids=[uuid], source="local", device=None,
        advertisement=None, connectable=False, time=time.monotonic(), tx_power=None)
    try:
        u = BTHomeBluetoothDeviceData(bindkey=c.key).update(si)
    except Exception as e:  # noqa: BLE001 - a library crash is a result too
        return {"exception": repr(e)}
    sensors = {}
    for k, v in u.entity_values.items():
        if k.key == "signal_strength":
            continue
        val = v.native_value
        if isinstance(val, datetime):
            val = val.isoformat()
        sensors[k.key] = val
    binary = {k.key: v.native_value for k, v in u.binary_entity_values.items()}
    events = {k.key: {"event_type": v.event_type, "event_properties": v.event_properties}
              for k, v in u.events.items()}
    return {"sensors": sensors, "binary": binary, "events": events}


# Library key → our candidate keys (sensors), as tests/vectors.rs `map_key`.
SENSOR_KEYS = {
    "carbon_dioxide": ["co2"], "volatile_organic_compounds": ["tvoc"], "pm25": ["pm2.5"],
    "dew_point": ["dewpoint"], "mass": ["weight"], "uv_index": ["uv index"],
    "volume_flow_rate": ["volume flow rate"], "distance": ["distance", "distance mm"],
    "volume": ["volume", "volume mL"], "volume_storage": ["volume storage"],
    "rotational_speed": ["rotational speed"], "light_level": ["light level"],
    "settings_revision": ["settings revision"], "packet_id": ["packet"],
}
BINARY_KEYS = {
    "generic": ["binary"], "power": ["switch"], "battery": ["battery low"],
    "battery_charging": ["battery charging"], "carbon_monoxide": ["carbon monoxide"],
    "garage_door": ["garage door"], "gas": ["gas detected"], "moisture": ["moisture detected"],
    "smoke": ["smoke detector"],
}


def candidates(key: str, table: dict) -> list[str]:
    base, _, n = key.rpartition("_")
    if base and n.isdigit():
        return [f"{c}_{n}" for c in candidates(base, table)]
    return table.get(key, [key.replace("_", " ")])


HEADER = {"mac", "rssi", "format", "firmware", "model", "packet", "weight unit", "encrypted"}


def compare(lib: dict, ours: dict | None) -> list[tuple[str, str, str]]:
    """(key, kind, detail) differences."""
    if "exception" in lib:
        return [("*", "library exception", lib["exception"])] if ours else []
    lib_empty = not (lib["sensors"] or lib["binary"] or lib["events"])
    if lib_empty and ours is None:
        return []
    if ours is None:
        return [("*", "we publish nothing", json.dumps(lib, default=str))]
    if lib_empty:
        extra = {k: v for k, v in ours.items() if k not in HEADER}
        if not extra and "packet" in ours:
            return [("packet", "library nothing, ours packet only", "")]
        return [("*", "library publishes nothing", json.dumps(extra))]
    diffs = []
    seen = set()
    for group, table in (("sensors", SENSOR_KEYS), ("binary", BINARY_KEYS)):
        for k, want in lib[group].items():
            cands = candidates(k, table)
            hit = next((c for c in cands if c in ours), None)
            if hit:
                seen.add(hit)
            got = ours.get(hit) if hit else None
            if hit is None:
                diffs.append((k, "missing in ours", f"want {want!r}"))
            elif not same(want, got):
                diffs.append((k, "value differs", f"want {want!r} got {got!r}"))
    for k, e in lib["events"].items():
        et = (e["event_type"] or "").replace("_", " ")
        if ours.get(k) != et:
            diffs.append((k, "event differs", f"want {et!r} got {ours.get(k)!r}"))
        seen.add(k)
        n = k.rpartition("_")[2]
        for pk, pv in (e["event_properties"] or {}).items():
            ok = pk if pk in ours or not n.isdigit() else f"{pk}_{n}"
            seen.add(ok)
            if not same(pv, ours.get(ok)):
                diffs.append((f"{k}.{pk}", "event property differs", f"want {pv!r} got {ours.get(ok)!r}"))
    for k, v in ours.items():
        if k not in HEADER and k not in seen:
            diffs.append((k, "extra in ours", f"{v!r}"))
    return diffs


# Deliberate differences (tests/vectors.rs deviation table, module docs of bthome.rs): counted,
# not listed as failures. Returns the reason, or None for a real discrepancy.
def known(case: Case, lib: dict, key: str, kind: str, detail: str) -> str | None:
    base = key.split(".")[0].rstrip("0123456789").rstrip("_")
    if kind == "library exception":
        return "library crashes (v1 device-information object: AssertionError)"
    if base == "timestamp" and kind == "value differs":
        return "timestamp published as Unix seconds (library: ISO text)"
    if key.endswith(".args"):
        return "command arguments (hex text) not published"
    if base in ("text", "raw") and kind == "missing in ours":
        return "text/raw objects are not published"
    if key == "*" and kind == "we publish nothing":
        rest = {k for k in lib.get("sensors", {}) if k.rstrip("0123456789").rstrip("_")
                not in ("text", "raw", "packet_id")}
        if not rest and not lib.get("binary") and not lib.get("events"):
            return "frame with only text/raw/packet id: NoData"
        vals = list(lib.get("sensors", {}).values()) + list(lib.get("binary", {}).values())
        if case.uuid == 0x181C and any(isinstance(v, str) or (isinstance(v, float) and v != v)
                                       or v in (float("inf"), float("-inf")) for v in vals):
            return "v1 numeric object in string/raw/timestamp format, or NaN/inf float: nothing published"
        if case.uuid == 0x181C and lib.get("binary") and case.branch in ("v1 float", "v1 format"):
            return "v1 binary object in float/string/raw/timestamp format: nothing published"
    if case.name == "v1-ctrl-len1":
        return "v1 object with no data byte: nothing (library publishes 0)"
    if base in ("mass", "distance", "volume", "weight", "distance mm", "volume mL"):
        return "kg/lb, mm/m, L/mL objects keep their own keys (library: last one wins)"
    if base == "packet_id" or base == "packet":
        return "two packet ids: packet is the last (library: packet_id_1, packet_id_2)"
    return None


# ------------------------------------------------------------------------------------------
# Ours


def run_ours(binary: str, cases: list[Case]) -> dict[str, dict]:
    """MAC -> our last reading; the service data alone in each advertisement."""
    events = [hci_event(c.mac, service_data_ad(c.uuid, c.data)) for c in cases]
    got = replay(events, {c.mac: c.key for c in cases if c.key}, binary=binary)
    return {mac: js[-1] for mac, js in by_mac(got).items()}


def our_mac(c: Case, i_frame: bool) -> str:
    return ("B4" + c.mac[2:]) if i_frame else c.mac


# Why the library gives no reading (the vector's `expect_error`; tests/vectors.rs maps the words).
NEGATIVE = {
    "v2-version3": "version 3 in the device-info byte",
    "v2-enc-badmic": "bad MIC",
    "v1-enc-3": "too short: 3 ciphertext bytes (bthome-ble needs 4)",
    "v2-enc-ct1": "too short: 1 ciphertext byte",
    "v2-enc-nokey": "no key",
}


def vector(c: Case, lib: dict) -> dict:
    sensors = dict(lib.get("sensors", {}))
    packet = sensors.pop("packet_id", None)
    expected = {"signal_strength": RSSI, **sensors, **lib.get("binary", {})}
    if packet is not None:
        expected["packet_id"] = packet
    v = {
        **vector_head("bthome-ble", c.name, LIB, c.branch),
        "format": {0xFCD2: "bthome-v2" + ("-encrypted" if c.data and c.data[0] & 1 else ""),
                   0x181C: "bthome-v1", 0x181E: "bthome-v1-encrypted"}[c.uuid],
        "device_type": "BTHome sensor",
        "hci_event_hex": None,
        "mac": c.mac,
        "service_uuid": UUID[c.uuid],
        "service_data_hex": c.data.hex(),
        "adv_data_hex": None,
        "rssi": RSSI,
        "key_hex": c.key.hex() if c.key else None,
        "expected": expected,
        "expect_error": None,
        "local_name": "TEST DEVICE",
        "expected_style": STYLE_SSD,
        "expected_is_complete": True,
        "checks": {LIB: "match"},
    }
    if lib.get("events"):
        v["expected_events"] = lib["events"]
    if c.name in NEGATIVE:
        assert len(expected) == 1 and not lib.get("events"), c.name
        v["expected"], v["expect_error"] = {}, NEGATIVE[c.name]
        del v["expected_is_complete"]
    return v


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=BIN)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--random", type=int, default=300, help="random multi-object frames")
    ap.add_argument("--show", type=int, default=1, help="examples per discrepancy class")
    ap.add_argument("--list", action="store_true", help="list case names and exit")
    ap.add_argument("--vectors", help="write the --pick cases as corpus vectors here")
    ap.add_argument("--pick", default="")
    a = ap.parse_args()

    cases = generate(a.seed, a.random)
    if a.list:
        for c in cases:
            print(c.name, c.branch, c.data.hex())
        return 0
    ours = run_ours(a.bin, cases)
    by_branch = defaultdict(int)
    classes = defaultdict(list)
    known_counts = defaultdict(int)
    results = {}
    for c in cases:
        by_branch[c.branch] += 1
        lib = run_library(c)
        results[c.name] = (c, lib)
        o = ours.get(our_mac(c, c.mac_in_frame).upper())
        for key, kind, detail in compare(lib, o):
            why = known(c, lib, key, kind, detail)
            if why:
                known_counts[why] += 1
                continue
            base = key.rstrip("0123456789").rstrip("_") if key != "*" else key
            classes[(c.branch, base, kind)].append((c, detail, o))
    print(f"{LIB}: {len(cases)} inputs compared")
    for b, n in sorted(by_branch.items()):
        print(f"  {b:>24}: {n}")
    for why, n in sorted(known_counts.items()):
        print(f"known deviation ({n}x): {why}")
    print(f"{len(classes)} discrepancy classes")
    for (b, k, kind), items in sorted(classes.items()):
        print(f"[{b}] {k}: {kind} ({len(items)}x)")
        for c, detail, o in items[: a.show]:
            print(f"    {c.name} {UUID[c.uuid]} {c.data.hex()}: {detail}")
            print(f"      ours: {json.dumps({k: v for k, v in (o or {}).items() if k not in ('rssi', 'model', 'firmware')})}")
    if a.vectors:
        write_vectors([vector(*results[n]) for n in a.pick.split(",") if n], a.vectors)
    return 1 if classes else 0


if __name__ == "__main__":
    sys.exit(main())
