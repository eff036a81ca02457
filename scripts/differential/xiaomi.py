#!/usr/bin/env python3
"""Differential test of our MiBeacon decoder against xiaomi-ble (what Home Assistant shows).

Generates MiBeacon advertisements (service data 0xFE95) covering every branch of xiaomi-ble's
parser: every object id of its table (correct length with zero, max, negative and random
values, and wrong lengths), for every product id it knows; plain v2-v5 with and without the
MAC, with a capability byte (and its I/O byte), encrypted v4/v5 (AES-CCM, known key) and
legacy v2/v3 (24-hex key); plus malformed frames (truncation, bad MIC, wrong key, MAC
mismatch, mesh, old versions, overrunning objects, unknown product ids).

Each advertisement becomes an HCI LE (Extended) Advertising Report from its own MAC, all in
one hex-lines file (one per batch where cases reuse a MAC) run through
`target/release/hci2mqtt replay FILE --all-frames --config KEYS` (common.replay);
xiaomi-ble decodes the same service data (`XiaomiBluetoothDeviceData(bindkey).update(...)`,
a fresh device per case). The library's SensorUpdate (entity and binary entity values,
events) is then compared with our JSON line the way tests/vectors.rs (module `mibeacon`)
checks xiaomi-ble vectors: its key map, the keys we do not publish, events seen as text
values, numbers within a relative 1e-6. Discrepancies are printed grouped by class.

Run (not in CI):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install xiaomi-ble pycryptodomex
    cargo build --release
    /tmp/venv/bin/python scripts/differential/xiaomi.py [--seed N] [--show N]
        [--bin target/release/hci2mqtt] [--emit-vectors OUT.jsonl]

`--emit-vectors` writes one corpus vector (schema tests/support/vectors.rs) per selected
case (see `VECTOR_PICKS`), with the library's values as `expected`.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import struct
import sys
from collections import defaultdict

from common import (BIN, FLAGS, RSSI, STYLE_SSD, dist_version, hci_event, mac_bytes,
                    our_key as map_key, replay, same, service_data_ad, vector_head,
                    write_vectors)
from Cryptodome.Cipher import AES
from home_assistant_bluetooth import BluetoothServiceInfo
from xiaomi_ble import XiaomiBluetoothDeviceData
from xiaomi_ble import parser as xparser
from xiaomi_ble.devices import DEVICE_TYPES

LIB_VERSION = dist_version("xiaomi-ble")

UUID = "0000fe95-0000-1000-8000-00805f9b34fb"
KEY45 = bytes.fromhex("00112233445566778899aabbccddeeff")
KEY_LEGACY = bytes.fromhex("b853075158487ca39a5b5ea9")
LEGACY_FILL = bytes.fromhex("8d3d3c97")

# tests/vectors.rs, module mibeacon: SensorUpdate key -> our key, keys we do not publish.
SU_KEYS = {
    "signal_strength": "rssi",
    "mass": "weight",
    "lock_method": "method",
    "smoke": "smoke detector",
    "armed": "armed away",
}
NOT_PRODUCED = {
    "local_name",
    "stabilized",
    "impedance_high",
    "door_left_open",
    "pry_the_door",
    "device_forcibly_removed",
    "charging_state",
    "asleep",
    "key_id",
    "power",
}


def our_key(k: str) -> str:
    return map_key(k, SU_KEYS)


def norm(s: str) -> str:
    return "".join(c.lower() for c in str(s) if c.isascii() and c.isalnum())


# ---------------------------------------------------------------- frames


def frame(
    version: int,
    pid: int,
    counter: int,
    objects: bytes | None,
    mac: str,
    *,
    with_mac: bool,
    cap: bytes | None = None,
    enc: bool = False,
    key: bytes | None = None,
    extra_bits: int = 0,
    ext: bytes = b"\x01\x02\x03",
) -> bytes:
    """One MiBeacon frame (service data after the UUID); `cap` = capability byte(s)."""
    fc = (version << 12) | extra_bits
    if with_mac:
        fc |= 1 << 4
    if cap is not None:
        fc |= 1 << 5
    if objects is not None:
        fc |= 1 << 6
    if enc:
        fc |= 1 << 3
    head = struct.pack("<HHB", fc, pid, counter)
    mb = mac_bytes(mac)[::-1]
    body = head + (mb if with_mac else b"") + (cap or b"")
    if objects is None:
        return body
    if not enc:
        return body + objects
    if version >= 4:
        nonce = mb + head[2:5] + ext
        c = AES.new(key, AES.MODE_CCM, nonce=nonce, mac_len=4)
        c.update(b"\x11")
        ct, tag = c.encrypt_and_digest(objects)
        return body + ct + ext + tag
    # legacy: ciphertext, 3 nonce bytes, one trailing byte; key 12 bytes + filler
    k16 = key[:6] + LEGACY_FILL + key[6:]
    nonce = head[:5] + ext + mb[:5]
    c = AES.new(k16, AES.MODE_CCM, nonce=nonce, mac_len=4)
    c.update(b"\x11")
    ct = c.encrypt(objects)
    return body + ct + ext + b"\x00"


def obj(oid: int, data: bytes) -> bytes:
    return struct.pack("<HB", oid, len(data)) + data


def ad_of(sd: bytes) -> bytes:
    return FLAGS + service_data_ad(0xFE95, sd)


# ---------------------------------------------------------------- the library


def run_library(mac: str, sd: bytes, key: bytes | None, rssi: int = RSSI):
    dev = XiaomiBluetoothDeviceData(bindkey=key)
    si = BluetoothServiceInfo(
        name="Test",
        address=mac,
        rssi=rssi,
        manufacturer_data={},
        service_data={UUID: sd},
        service_uuids=[UUID],
        source="local",
    )
    try:
        u = dev.update(si)
    except Exception as e:  # a library crash: nothing to compare
        return {"raised": f"{type(e).__name__}: {e}"}
    values = {}
    for dk, v in u.entity_values.items():
        values[dk.key] = v.native_value
    for dk, v in u.binary_entity_values.items():
        values[dk.key] = v.native_value
    events = {
        dk.key: {"event_type": e.event_type, "event_properties": e.event_properties}
        for dk, e in u.events.items()
    }
    dev_info = u.devices.get(None)
    return {
        "values": values,
        "events": events,
        "sw_version": dev_info.sw_version if dev_info else None,
        "model": dev_info.model if dev_info else None,
    }


# ---------------------------------------------------------------- comparison


def event_seen(event_type: str, ours: dict) -> bool:
    want = norm(event_type)
    if want == "motiondetected":
        return ours.get("motion") == 1
    alts = {
        "press": ["press", "singlepress", "shortpress", "toggle"],
        "rotateleft": ["rotateleft", "left"],
        "rotateright": ["rotateright", "right"],
    }.get(want, [])
    for v in ours.values():
        if isinstance(v, str):
            t = norm(v)
            if t == want or t in alts:
                return True
    return False


HEADER = {"mac", "rssi", "format", "firmware", "model", "packet"}


def compare(lib, ours):
    """List of (class, detail) for one case; empty when we agree."""
    if "raised" in lib:
        return [("library raises", lib["raised"])]
    diffs = []
    got = {k: v for k, v in (ours or {}).items() if k not in HEADER}
    for k, e in lib["values"].items():
        if k in NOT_PRODUCED or k == "signal_strength":
            continue
        ok = "moisture detected" if k == "moisture" and isinstance(e, bool) else our_key(k)
        if not same(e, got.get(ok)):
            diffs.append((f"value {k}", f"lib {e!r} ours {got.get(ok)!r}"))
    for k, ev in lib["events"].items():
        if not event_seen(ev["event_type"], got):
            diffs.append((f"event {k}={ev['event_type']}", f"ours {got}"))
    lib_any = any(
        k not in ("signal_strength",) for k in lib["values"]
    ) or bool(lib["events"])
    if not lib_any and got:
        diffs.append(("extra (library gives nothing)", f"ours {got}"))
    return diffs


# ---------------------------------------------------------------- cases

# Expected object lengths in xiaomi-ble (None: any / first byte only).
LENGTHS = {
    0x0003: [1],
    0x0006: [5],
    0x0007: [1],
    0x0008: [1],
    0x0010: [1, 2],
    0x000A: [2],
    0x000B: [9],
    0x000F: [3],
    0x1001: [3],
    0x1004: [2],
    0x1005: [2],
    0x1006: [2],
    0x1007: [3],
    0x1008: [1],
    0x1009: [2],
    0x1010: [2],
    0x1012: [1],
    0x1013: [1],
    0x1014: [1],
    0x1015: [1],
    0x1017: [4],
    0x1018: [1],
    0x1019: [1],
    0x100A: [1],
    0x100D: [4],
    0x100E: [1],
    0x100F: [1],
    0x101B: [1, 4],
    0x2000: [5],
    0x3003: [5, 6],
    0x4801: [4],
    0x4802: [1],
    0x4803: [1],
    0x4804: [1],
    0x4805: [4],
    0x4806: [1],
    0x4808: [4],
    0x480C: [1],
    0x4818: [2],
    0x483C: [1],
    0x483D: [4],
    0x483E: [4],
    0x484E: [1],
    0x4851: [1],
    0x4852: [1],
    0x487B: [1],
    0x4A01: [1],
    0x4A08: [4],
    0x4A0C: [0, 1],
    0x4A0D: [0, 1],
    0x4A0E: [0, 1],
    0x4A0F: [1],
    0x4A12: [1],
    0x4A13: [1],
    0x4A1A: [1],
    0x4A68: [1],
    0x4C01: [4],
    0x4C02: [1],
    0x4C03: [1],
    0x4C08: [4],
    0x4C14: [1],
    0x4E01: [1],
    0x4E16: [9],
    0x4E1C: [1],
    0x4E0C: [0, 1],
    0x4E0D: [0, 1],
    0x4E0E: [0, 1],
    0x5003: [1],
    0x5413: [1],
    0x5414: [1],
    0x5422: [1],
    0x560C: [0, 1],
    0x560D: [0, 1],
    0x560E: [0, 1],
    0x5810: [1],
    0x6461: [1],
    0x6E16: [9],
}
FLOAT_OBJS = {0x4801, 0x4805, 0x4808, 0x4A08, 0x4C01, 0x4C08}
# Products whose model gates some object (the rest get a sample).
GATED = [
    "LYWSD03MMC", "MHO-C401", "MJYD02YL", "MCCGQ02HL", "HHCCJCY01", "GCLS002", "RTCGQ02LM",
    "CGPR1", "YLAI003", "JTYJGD03MI", "SJWS01LM", "XMMF01JQD", "YLYK01YL", "YLYK01YL-FANCL",
    "YLYK01YL-VENFAN", "YLYB01YL-BHFRC", "YLKG07YL/YLKG08YL", "K9B-1BTN", "K9B-2BTN",
    "K9B-3BTN", "DSL-C08", "ZNMS17LM", "ZNMS16LM", "LYWSDCGQ", "CGDK3", "loock.safe.v1",
    "SJWS02LM", "zhiee.flood.sj01", "XMOSB01XS", "XMWS01XS", "XMWXKG01YL", "K9BB-1BTN",
    "XMWXKG01LM", "ES5BB", "KS1", "KS1BP", "KS2BB", "AFWXKG220000", "MJTZC01YM", "MJTZC02YM",
    "MJTZC03YM", "ES3", "T700", "M1S-T500", "PS1BB", "MS1BB(MI)", "HS1BB(MI)", "M2456B1",
    "CGG1",
]


def pids_of(model: str) -> list[int]:
    return [p for p, d in DEVICE_TYPES.items() if d.model == model]


def values_for(oid: int, n: int, rng: random.Random) -> list[bytes]:
    out = []
    if n == 0:
        return [b""]
    out.append(bytes(n))
    out.append(b"\xff" * n)
    if oid in FLOAT_OBJS:
        for x in [rng.uniform(-40, 60), rng.uniform(0, 100), rng.uniform(0, 2000), -0.05, 23.45,
                  0.15, 1e-7, 123456.7, float("inf"), float("nan")]:
            out.append(struct.pack("<f", x))
        return out
    if n == 1:
        out += [bytes([v]) for v in [1, 2, 3, 4, 5, 6, 7, 8, 15, 100, 0x7F, 0x80]]
    elif n == 2:
        for v in [1, 100, 467, 999, 1000, 0x7FFF, 0x8000, 0xFF9C, rng.randrange(65536)]:
            out.append(struct.pack("<H", v))
    elif n == 3:
        for v in [1, 99, 100, 101, 256, 0x7FFFFF, 0x800000, rng.randrange(1 << 24)]:
            out.append(v.to_bytes(3, "little"))
    elif n == 4:
        for v in [1, 30, 31, 60, 0x7FFFFFFF, 0x80000000, rng.randrange(1 << 32)]:
            out.append(struct.pack("<I", v))
        if oid == 0x100D:
            out.append(struct.pack("<hH", -105, 655))
            out.append(struct.pack("<hH", 235, 1000))
    else:
        for _ in range(4):
            out.append(bytes(rng.randrange(256) for _ in range(n)))
    if oid == 0x000B:
        out = []
        for action in list(range(16)):
            for method in list(range(16)):
                kid = rng.choice([0, 0xFFFFFFFF, 0xDEADBEEF, 5, 0x7FFFFFFF, 0x80010002,
                                  0x80020003, 0x80030004, 0x80040005, 0x80050006, 0x80060007,
                                  0x80070008, 0x80080009, 0x80090001, 0xC0DE0003, 0xC0DE1001,
                                  0x800113A0])
                out.append(bytes([(method << 4) | action]) + struct.pack("<I", kid)
                           + struct.pack("<I", rng.randrange(1 << 32)))
        for kid in [0xC0DE0000 + i for i in range(0x11)] + [0xC0DE1000 + i for i in range(6)]:
            out.append(bytes([0x11]) + struct.pack("<I", kid) + b"\0\0\0\0")
    if oid == 0x0006:
        for kid in [b"\0\0\0\0", b"\xff\xff\xff\xff", b"\xde\xad\xbe\xef", b"\x05\0\0\0"]:
            for m in range(9):
                out.append(kid + bytes([m]))
    if oid == 0x1001:
        out = []
        for bt in list(range(10)) + [127, 128, 200, 255]:
            for press in range(8):
                out.append(bytes([bt, rng.choice([0, 1, 5, 127, 128, 200, 255]), press]))
    if oid == 0x2000:
        for t1, t2 in [(3600, 3500), (3700, 3600), (-100, 200), (5000, 4000)]:
            out.append(struct.pack("<hhB", t1, t2, rng.randrange(101)))
    if oid in (0x4E16, 0x6E16):
        for prof in [0, 1, 2]:
            for d in [0, 6225, 699 | (42 << 11) | (5432 << 18), 0x7FF, (4976 << 18), 747,
                      0x7FF | (4976 << 18), 127 << 11, rng.randrange(1 << 32)]:
                out.append(struct.pack("<BII", prof, d, rng.randrange(1 << 32)))
    if oid == 0x3003:
        out.append(bytes([0]) + struct.pack("<I", 1688035843) + (b"\x53" if n == 6 else b""))
        out.append(bytes([1]) + struct.pack("<I", 1688035843) + (b"\x53" if n == 6 else b""))
        out.append(bytes([2]) + struct.pack("<I", 1) + (b"\x01" if n == 6 else b""))
    return out


class Cases:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.items = []
        self.n = 0

    def next_mac(self) -> str:
        self.n += 1
        return "C0:%02X:%02X:%02X:%02X:%02X" % (
            (self.n >> 24) & 0xFF, (self.n >> 16) & 0xFF, (self.n >> 8) & 0xFF, self.n & 0xFF, 0x5A)

    def add(self, branch, name, sd_fn, key=None, mac=None, air_mac=None):
        mac = mac or self.next_mac()
        sd = sd_fn(mac)
        self.items.append({
            "branch": branch, "name": name, "mac": air_mac or mac, "sd": sd, "key": key,
        })

    def framed(self, branch_hint, name, pid, objects, *, style=None):
        """`objects` under a framing picked from the branches (or `style`)."""
        rng = self.rng
        style = style or rng.choice(
            ["plain", "plain", "plain-mac", "plain-cap", "plain-capio", "v45", "v45", "v45-mac",
             "v45-cap", "legacy", "legacy-mac"])
        counter = rng.randrange(256)
        extra = rng.choice([0, 0, 1 << 8, (1 << 8) | (2 << 10), 1 << 9, 1, (1 << 8) | (1 << 10)])
        cap = None
        if style.endswith("cap"):
            cap = bytes([rng.choice([0x01, 0x08, 0x18, 0x0F])])
        elif style.endswith("capio"):
            cap = bytes([0x28, 0x01])
        with_mac = "mac" in style or rng.random() < 0.3
        if style.startswith("plain"):
            ver = rng.choice([2, 3, 4, 5])
            br = "plain v%d%s%s" % (ver, " +mac" if with_mac else "", " +cap" if cap else "")
            self.add(br, name, lambda m: frame(ver, pid, counter, objects, m, with_mac=with_mac,
                                               cap=cap, extra_bits=extra))
        elif style.startswith("v45"):
            ver = rng.choice([4, 5])
            ext = bytes(rng.randrange(256) for _ in range(3))
            br = "encrypted v%d%s%s" % (ver, " +mac" if with_mac else "", " +cap" if cap else "")
            self.add(br, name, lambda m: frame(ver, pid, counter, objects, m, with_mac=with_mac,
                                               cap=cap, enc=True, key=KEY45, extra_bits=extra,
                                               ext=ext), key=KEY45)
        else:
            ver = rng.choice([2, 3])
            ext = bytes(rng.randrange(256) for _ in range(3))
            br = "legacy v%d%s" % (ver, " +mac" if with_mac else "")
            self.add(br, name, lambda m: frame(ver, pid, counter, objects, m, with_mac=with_mac,
                                               cap=cap, enc=True, key=KEY_LEGACY,
                                               extra_bits=extra, ext=ext), key=KEY_LEGACY)


def build(seed: int) -> Cases:
    c = Cases(seed)
    rng = c.rng
    all_pids = sorted(DEVICE_TYPES)
    gated_pids = sorted({p for m in GATED for p in pids_of(m)})
    for oid, lens in LENGTHS.items():
        for n in lens:
            vals = values_for(oid, n, rng)
            # every value on every gated product, one random value on every other product
            for pid in gated_pids:
                for v in vals:
                    c.framed("object", f"obj{oid:04x} {DEVICE_TYPES[pid].model} {v.hex()}",
                             pid, obj(oid, v))
            for pid in all_pids:
                if pid in gated_pids:
                    continue
                v = rng.choice(vals)
                c.framed("object", f"obj{oid:04x} {DEVICE_TYPES[pid].model} {v.hex()}", pid,
                         obj(oid, v))
        # wrong lengths
        for n in sorted({0, min(lens) - 1, max(lens) + 1, 3} - set(lens)):
            if n < 0:
                continue
            for pid in gated_pids[:: max(1, len(gated_pids) // 12)] + pids_of("SJWS02LM"):
                v = bytes(rng.randrange(1, 256) for _ in range(n))
                c.framed("wrong length", f"obj{oid:04x} len{n} {DEVICE_TYPES[pid].model}", pid,
                         obj(oid, v))
    # several objects in one frame, trailing bytes, overrun, unknown objects
    ids = list(LENGTHS)
    for _ in range(600):
        pid = rng.choice(all_pids)
        k = rng.randint(2, 4)
        objs = b""
        for _ in range(k):
            oid = rng.choice(ids)
            n = rng.choice(LENGTHS[oid])
            objs += obj(oid, rng.choice(values_for(oid, n, rng)))
        tail = rng.choice([b"", b"", b"\x01", b"\x01\x02", obj(0x1004, b"\x01\x02")[:4],
                           obj(0x7777, b"\x01\x02"), obj(0x1004, b"")])
        c.framed("multi-object", f"multi {DEVICE_TYPES[pid].model} {objs.hex()}+{tail.hex()}",
                 pid, objs + tail)
    # frames without objects, unknown product ids, mesh, old versions, new versions
    for pid in all_pids:
        c.add("no object", f"no object {DEVICE_TYPES[pid].model}",
              lambda m, pid=pid: frame(5, pid, 1, None, m, with_mac=True))
    for pid in [0x0000, 0xFFFF, 0x1234, 0x0B49]:
        c.framed("unknown product", f"unknown pid {pid:04x}", pid, obj(0x1004, b"\xea\x00"))
    for bits, nm in [(1 << 7, "mesh"), (0, "v0"), (0, "v1")]:
        ver = {"v0": 0, "v1": 1}.get(nm, 5)
        c.add("rejected header", nm, lambda m, b=bits, ver=ver: frame(
            ver, 0x055B, 1, obj(0x1004, b"\xea\x00"), m, with_mac=False, extra_bits=b))
    for ver in range(6, 16):
        c.add("version > 5", f"plain v{ver}", lambda m, ver=ver: frame(
            ver, 0x055B, 1, obj(0x1004, b"\xea\x00"), m, with_mac=False))
        c.add("version > 5", f"encrypted v{ver}", lambda m, ver=ver: frame(
            ver, 0x055B, 1, obj(0x1004, b"\xea\x00"), m, with_mac=False, enc=True, key=KEY45),
            key=KEY45)
    # MAC mismatch
    c.add("mac mismatch", "plain v5 other MAC", lambda m: frame(
        5, 0x055B, 1, obj(0x1004, b"\xea\x00"), "11:22:33:44:55:66", with_mac=True))
    # truncation of complete frames at every length
    for style, key in [("plain-mac", None), ("v45-mac", KEY45), ("legacy-mac", KEY_LEGACY),
                       ("plain-capio", None), ("v45-cap", KEY45)]:
        mac = c.next_mac()
        full = None
        cc = Cases(rng.randrange(1 << 30))
        cc.n = c.n
        cc.framed("", "", 0x055B, obj(0x100D, struct.pack("<hH", 235, 512)), style=style)
        full = cc.items[0]["sd"]
        c.n = cc.n
        for cut in range(len(full)):
            c.add("truncated", f"{style} cut {cut}", lambda m, f=full, cut=cut: f[:cut],
                  key=cc.items[0]["key"], mac=cc.items[0]["mac"])
    # bad MIC, wrong key
    for i in range(20):
        cc = Cases(rng.randrange(1 << 30))
        cc.n = c.n + 1000
        cc.framed("", "", 0x055B, obj(0x1004, struct.pack("<h", 235)),
                  style=rng.choice(["v45", "v45-mac", "legacy", "legacy-mac"]))
        it = cc.items[0]
        c.n = cc.n
        bad = bytearray(it["sd"])
        bad[-1 - rng.randrange(4)] ^= 1 << rng.randrange(8)
        c.add("bad MIC / trailer flip", "flip", lambda m, b=bytes(bad): b, key=it["key"],
              mac=it["mac"])
        wrong = bytearray(it["key"])
        wrong[0] ^= 1
        c.add("wrong key", "wrong key", lambda m, s=it["sd"]: s, key=bytes(wrong), mac=it["mac"])
        c.add("no key", "no key", lambda m, s=it["sd"]: s, key=None, mac=it["mac"])
    return c


# ---------------------------------------------------------------- running ours


def run_ours(binary: str, items) -> dict:
    """mac -> our last JSON object (macs are unique per case unless reused on purpose)."""
    out = {}
    # Cases sharing a MAC with different keys must run separately: group into batches where
    # each MAC has one key and appears once.
    batches = []
    for it in items:
        for b in batches:
            if it["mac"] not in b["macs"]:
                b["macs"].add(it["mac"])
                b["items"].append(it)
                break
        else:
            batches.append({"macs": {it["mac"]}, "items": [it]})
    results = {}
    for b in batches:
        events = [hci_event(it["mac"], ad_of(it["sd"])) for it in b["items"]]
        keys = {it["mac"]: it["key"] for it in b["items"] if it["key"] is not None}
        # Keys in a config file: thousands of them would overflow a command line.
        for j in replay(events, keys, config=True, binary=binary):
            results[j["mac"]] = j
        for it in b["items"]:
            out[id(it)] = results.pop(it["mac"], None)
    return out


# ---------------------------------------------------------------- corpus vectors

MAC_V = "A4:C1:38:D1:FF:01"


def f32(x: float) -> bytes:
    return struct.pack("<f", x)


# (short name, branch, product id, objects, style): one vector each. Style: "plain", "plain-mac",
# "plain-capio" (capability byte with its I/O byte), "v4", "v5", "v5-mac", "legacy" (v3).
VECTOR_PICKS = [
    ("capability-io-byte", 0x055B, obj(0x100D, struct.pack("<hH", 235, 512)), "plain-capio"),
    ("obj4801-rounded", 0x3F4C, obj(0x4801, f32(23.45)), "v5"),
    ("obj4c01-rounded", 0x4F59, obj(0x4C01, f32(43.81074)), "v5"),
    ("obj4808-rounded", 0x4F59, obj(0x4808, f32(51.25)), "v5"),
    ("obj4c08-as-read", 0x4F59, obj(0x4C08, f32(45.5)), "v5"),
    ("legacy-trailing-byte", 0x03B6, obj(0x1001, bytes([0, 1, 3])) + b"\x01", "legacy"),
    ("legacy-overrun-after-object", 0x03B6, obj(0x1001, bytes([0, 0xFF, 4])) + b"\x04\x10\x02\x01", "legacy"),
    ("loock-safe-door", 0x09B0, obj(0x100F, b"\x01"), "v5"),
    ("zhiee-flood-bottom", 0x7712, obj(0x4806, b"\x01"), "v5"),
    ("afwxkg220000-press", 0x78A3, obj(0x560C, b""), "v5"),
    ("mjtzc01ym-4fc2", 0x4FC2, obj(0x6E16, struct.pack("<BII", 1, 699 | (42 << 11) | (5432 << 18), 0)), "v5"),
    ("obj0003-value-0", 0x03DD, obj(0x0003, b"\x00"), "plain"),
    ("obj0007-knock", 0x0E39, obj(0x0007, b"\x03"), "v5"),
    ("obj0007-stuck", 0x0E39, obj(0x0007, b"\x05"), "v5"),
    ("obj0008-armed-ff", 0x0380, obj(0x0008, b"\xff"), "plain"),
    ("obj000f-motion-any-model", 0x2AEB, obj(0x000F, b"\x10\x00\x00"), "v5"),
    ("obj000b-locked-key", 0x069E, obj(0x000B, bytes([0x31]) + struct.pack("<I", 0x80030004) + bytes(4)), "plain"),
    ("obj000b-release-antilock", 0x069F, obj(0x000B, bytes([0x03]) + struct.pack("<I", 5) + bytes(4)), "plain"),
    ("obj000b-nfc-child-lock", 0x069F, obj(0x000B, bytes([0x56]) + struct.pack("<I", 0x80040005) + bytes(4)), "plain"),
    ("obj1006-mho-c401-truncated", 0x0387, obj(0x1006, struct.pack("<H", 467)), "plain"),
    ("obj1007-plant-lux", 0x0098, obj(0x1007, (12345).to_bytes(3, "little")), "plain"),
    ("obj1014-moisture-ff", 0x0863, obj(0x1014, b"\xff"), "plain"),
    ("obj1015-smoke-2", 0x0997, obj(0x1015, b"\x02"), "v5"),
    ("obj1017-30s-is-motion", 0x0A8D, obj(0x1017, struct.pack("<I", 30)), "v5"),
    ("obj1018-light-2", 0x098B, obj(0x1018, b"\x02"), "v5"),
    ("obj100e-dsl-c08", 0x0380, obj(0x100E, b"\x64"), "plain"),
    ("obj101b-one-byte", 0x0A8D, obj(0x101B, b"\x01"), "v5"),
    ("obj4802-two-bytes", 0x5968, obj(0x4802, b"\x37\x00"), "v5"),
    ("obj480c-open", 0x098B, obj(0x480C, b"\x00"), "v5"),
    ("obj4818-10s-is-motion", 0x2AEB, obj(0x4818, struct.pack("<H", 10)), "v5"),
    ("obj483c-occupancy", 0x3F4C, obj(0x483C, b"\x01"), "v5"),
    ("obj484e-xmosb01xs-2-clear", 0x4683, obj(0x484E, b"\x02"), "v5"),
    ("obj484e-occupancy-any-model", 0x3531, obj(0x484E, b"\x01"), "v5"),
    ("obj4851-four-bytes", 0x6A0F, obj(0x4851, struct.pack("<I", 5)), "v5"),
    ("obj4a0c-xmwxkg01lm", 0x2387, obj(0x4A0C, b""), "v5"),
    ("obj4a0d-xmws01xs-right", 0x5968, obj(0x4A0D, b"\x01"), "v5"),
    ("obj4e16-heavy-u32", 0x45C9, obj(0x4E16, struct.pack("<BII", 2, 70000, 0)), "v5"),
    ("obj6e16-s400-pro-no-mass", 0x4B05, obj(0x6E16, struct.pack("<BII", 1, 0x7FF | (4976 << 18), 0)), "v5"),
    ("obj6e16-heart-rate-only", 0x48CF, obj(0x6E16, struct.pack("<BII", 1, (42 << 11) | (5000 << 18), 0)), "v5"),
    ("obj560c-ks1-no-button", 0x3A61, obj(0x560C, b"\x00"), "v5"),
    ("obj4a01-low-battery", 0x1889, obj(0x4A01, b"\x01"), "v5"),
    # agreeing cases for objects and products the corpus did not cover
    ("obj2000-body", 0x00DB, obj(0x2000, struct.pack("<hhB", 3700, 3600, 77)), "plain"),
    ("obj3003-t700-start", 0x1790, obj(0x3003, bytes([0]) + struct.pack("<I", 1688035843)), "v5"),
    ("obj5413-es5bb", 0x6A0F, obj(0x5413, b"\x01"), "v5"),
    ("obj4a13-ms1bb", 0x1889, obj(0x4A13, b"\x01"), "v5"),
    ("obj4a0f-forced", 0x1889, obj(0x4A0F, b"\x01"), "v5"),
    ("obj1001-dimmer-rotate", 0x03B6, obj(0x1001, bytes([0, 0xFE, 4])), "plain"),
    ("obj1001-bathroom-heat", 0x03BF, obj(0x1001, bytes([8, 0, 1])), "plain"),
    ("obj1005-kettle", 0x0083, obj(0x1005, bytes([1, 63])), "plain"),
    ("obj1010-formaldehyde", 0x02DF, obj(0x1010, struct.pack("<H", 7)), "plain-mac"),
    ("obj100a-cgdk3-voltage", 0x4F59, obj(0x100A, b"\x50"), "v5"),
    ("obj000a-body-negative", 0x0391, obj(0x000A, struct.pack("<h", -150)), "plain"),
    ("obj0010-score", 0x0489, obj(0x0010, b"\x01\x5a"), "plain"),
    ("obj4c02-4c03", 0x520B, obj(0x4C02, b"\x3c") + obj(0x4C03, b"\x5a"), "v5"),
    ("obj4805-lux", 0x50FB, obj(0x4805, f32(120.0)), "v5"),
    ("obj4e0c-k9bb-long", 0x1C10, obj(0x4E0C, b"\x08"), "v5"),
    ("obj4e0d-xmwxkg01yl-both", 0x1949, obj(0x4E0D, b"\x03"), "v5"),
    ("obj4a68-top-splash", 0x6375, obj(0x4A68, b"\x02"), "v5"),
    ("version-4-plain", 0x0A83, obj(0x000F, (250).to_bytes(3, "little")), "plain-v4"),
    ("version-4-encrypted", 0x0A83, obj(0x4818, struct.pack("<H", 120)), "v4"),
]

# (short name, the positive it derives from, mutation, expect_error, how)
NEGATIVE_PICKS = [
    ("bad-mic", "obj4801-rounded", "bad MIC: last MIC byte xor 0x01", "bad MIC"),
    ("wrong-key", "obj1015-smoke-2", "wrong key: first key byte xor 0x01", "wrong key"),
    ("no-key", "obj1018-light-2", "no key: encrypted frame with no key configured", "no key"),
    ("truncated", "obj483c-occupancy", "truncated: MIC removed", "truncated"),
    ("mac-mismatch", "capability-io-byte", "MAC in the frame differs from the advertiser", "MAC mismatch"),
    ("mesh", "obj0003-value-0", "frame control mesh bit set", "mesh frame"),
    ("version-1", "obj0003-value-0", "frame control version 1", "old version"),
    ("unknown-product", "obj0003-value-0", "product id 0x1234 (in no device table)", "unknown product"),
]


def pick_frame(pid, objects, style, mac, counter=0x42):
    ext = b"\x00\x01\x02"
    if style == "plain":
        return 3, frame(3, pid, counter, objects, mac, with_mac=False), None
    if style == "plain-v4":
        return 4, frame(4, pid, counter, objects, mac, with_mac=False), None
    if style == "plain-mac":
        return 2, frame(2, pid, counter, objects, mac, with_mac=True), None
    if style == "plain-capio":
        return 5, frame(5, pid, counter, objects, mac, with_mac=True, cap=b"\x28\x01"), None
    if style in ("v4", "v5", "v5-mac"):
        v = 4 if style == "v4" else 5
        return v, frame(v, pid, counter, objects, mac, with_mac=style == "v5-mac", enc=True,
                        key=KEY45, ext=ext), KEY45
    if style == "legacy":
        return 3, frame(3, pid, counter, objects, mac, with_mac=False, enc=True,
                        key=KEY_LEGACY, ext=ext), KEY_LEGACY
    raise ValueError(style)


def emit_vectors(path: str):
    src = f"xiaomi-ble=={LIB_VERSION}"
    out = []
    pos = {}
    for name, pid, objects, style in VECTOR_PICKS:
        ver, sd, key = pick_frame(pid, objects, style, MAC_V)
        lib = run_library(MAC_V, sd, key)
        if "raised" in lib:
            sys.exit(f"{name}: library raised {lib['raised']}")
        enc = key is not None
        v = {
            **vector_head("xiaomi-ble", name, src,
                          f"{'encrypted ' if enc else 'plain '}v{ver}, {style}"),
            "format": f"mibeacon-v{ver}{'-encrypted' if enc else ''}",
            "device_type": DEVICE_TYPES[pid].model,
            "mac": MAC_V,
            "rssi": RSSI,
            "service_uuid": "fe95",
            "service_data_hex": sd.hex(),
            "key_hex": key.hex() if key else None,
            "expected": {**lib["values"], "signal_strength": RSSI},
            "expect_error": None,
            "expected_style": STYLE_SSD,
            "checks": {src: "match"},
        }
        if lib["events"]:
            v["expected_events"] = lib["events"]
        pos[name] = (v, pid, objects, style)
        out.append(v)
    for name, base, mutation, err in NEGATIVE_PICKS:
        bv, pid, objects, style = pos[base]
        sd = bytes.fromhex(bv["service_data_hex"])
        key = bytes.fromhex(bv["key_hex"]) if bv["key_hex"] else None
        mac = MAC_V
        if name == "bad-mic":
            sd = sd[:-1] + bytes([sd[-1] ^ 1])
        elif name == "wrong-key":
            key = bytes([key[0] ^ 1]) + key[1:]
        elif name == "no-key":
            key = None
        elif name == "truncated":
            sd = sd[:-4]
        elif name == "mac-mismatch":
            mac = "A4:C1:38:D1:FF:02"
        elif name == "mesh":
            sd = bytes([sd[0] | 0x80]) + sd[1:]
        elif name == "version-1":
            sd = sd[:1] + bytes([(sd[1] & 0x0F) | 0x10]) + sd[2:]
        elif name == "unknown-product":
            sd = sd[:2] + b"\x34\x12" + sd[4:]
        lib = run_library(mac, sd, key)
        got = {k: x for k, x in lib.get("values", {}).items() if k != "signal_strength"}
        if got or lib.get("events"):
            sys.exit(f"{name}: the library decodes {got} {lib.get('events')}")
        out.append({
            "id": f"differential:xiaomi-ble:{name}",
            "derived_from": bv["id"],
            "mutation": mutation,
            "source": f"differential: {src} on a generated advertisement ({mutation}); "
                      "the library gives no value",
            "format": bv["format"],
            "device_type": bv["device_type"],
            "mac": mac,
            "rssi": RSSI,
            "service_uuid": "fe95",
            "service_data_hex": sd.hex(),
            "key_hex": key.hex() if key else None,
            "expect_error": err,
            "expected": {},
            "checks": {src: "no values"},
        })
    write_vectors(out, path)
    print(f"{len(out)} vectors written to {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default=BIN)
    ap.add_argument("--show", type=int, default=3, help="examples per discrepancy class")
    ap.add_argument("--json", help="write every discrepancy as JSON lines here")
    ap.add_argument("--emit-vectors", help="write the VECTOR_PICKS corpus vectors here and stop")
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    if args.emit_vectors:
        emit_vectors(args.emit_vectors)
        return
    cases = build(args.seed)
    items = cases.items
    ours = run_ours(args.bin, items)
    by_branch = defaultdict(int)
    classes = defaultdict(list)
    raised = 0
    for it in items:
        by_branch[it["branch"]] += 1
        lib = run_library(it["mac"], it["sd"], it["key"])
        it["lib"] = lib
        o = ours[id(it)]
        for cls, detail in compare(lib, o):
            oid = it["name"].split(" ")[0]
            model = it["name"].split(" ")[1] if it["name"].startswith("obj") else ""
            classes[(cls, oid if oid.startswith("obj") else it["branch"])].append(
                (it, detail, model))
    print(f"xiaomi-ble {LIB_VERSION}: {len(items)} inputs compared")
    for b, n in sorted(by_branch.items()):
        print(f"  {n:6d}  {b}")
    print(f"{len(classes)} discrepancy classes")
    jf = open(args.json, "w") if args.json else None
    for (cls, where), lst in sorted(classes.items(), key=lambda kv: kv[0]):
        models = sorted({m for _, _, m in lst if m})
        print(f"\n== {where}: {cls}: {len(lst)} cases; models {models[:12]}")
        for it, detail, _ in lst[: args.show]:
            print(f"   {it['branch']:28s} {it['name'][:60]:60s} sd={it['sd'].hex()} {detail[:200]}")
        if jf:
            for it, detail, _ in lst:
                jf.write(json.dumps({"class": cls, "where": where, "branch": it["branch"],
                                     "name": it["name"], "mac": it["mac"],
                                     "sd": it["sd"].hex(),
                                     "key": it["key"].hex() if it["key"] else None,
                                     "detail": detail}) + "\n")


if __name__ == "__main__":
    main()
