#!/usr/bin/env python3
"""Differential test: 14 brand decoders against ble_monitor's own parser (and bleparser 3.7.3).

Dev tool, not run by CI. Formats: acconeer, airmentor, almendo, amazfit (scale and Mi Band),
atc (ATC1441, pvvx and their encrypted forms), beckett, blustream, bparasite, chefiq,
grundfos, hhcc, holyiot, hormann, ibeacon (iBeacon and AltBeacon).

It generates advertisements for every branch of ble_monitor's ``ble_parser`` modules (each
model / length / flag with random, zero, maximum and negative values, plus malformed ones),
builds each into a complete HCI LE Advertising Report (legacy; extended when the AD data is
over 31 bytes), feeds the same bytes to ``BleParser(...).parse_raw_data`` (a fresh parser per
advert, ``filter_duplicates=False``) and, as one hex-text capture, to
``hci2mqtt replay FILE --all-frames [--key MAC=HEX]``, and compares every key of ble_monitor's
``sensor_msg`` with our JSON line (bleparser's key names; ``type`` = our ``model``, ``mac``
without colons, ``packet`` "no packet id" = none, ``None`` = absent, booleans = 0/1; numbers
within a relative 1e-6 as tests/support/compare.rs). Keys ble_monitor has that we deliberately
do not publish (``local_name``, ``manufacturer``, ``tracker_id``, ``cypress *``, the
payload-hex ``packet`` of Acconeer/HHCC, HolyIOT's pascal ``pressure`` that we publish in hPa:
see DEVIATIONS in tests/vectors.rs) are skipped; keys we publish beyond ble_monitor are
discrepancies. ble_monitor raising on an advert is reported separately (we must then publish
nothing).

Set up (ble_monitor at the commit the vectors name; never commit its source)::

    mkdir -p /work/venvs/blemon-a/src
    git -C /work/.mirror/custom-components+ble_monitor/repo archive HEAD \\
        custom_components/ble_monitor/ble_parser | tar -x -C /work/venvs/blemon-a/src
    python3 -m venv /work/venvs/blemon-a
    /work/venvs/blemon-a/bin/pip install pycryptodomex bleparser==3.7.3
    mkdir -p /work/venvs/blemon-a/stub/homeassistant/util   # xiaomi.py imports it
    touch /work/venvs/blemon-a/stub/homeassistant/__init__.py
    echo 'from datetime import datetime' > /work/venvs/blemon-a/stub/homeassistant/util/__init__.py

Run (from the workspace root, after ``cargo build --release``)::

    /work/venvs/blemon-a/bin/python scripts/differential/blemonitor_a.py [--n 200] [--seed 1]
        [--brand atc] [--show 3] [--vectors OUT.jsonl]

``BLEMON_SRC`` / ``BLEMON_STUB`` override the two paths above. It prints, per brand and
branch, how many inputs were compared and how many disagreed, with examples (HCI hex, ours,
ble_monitor). ``--vectors`` writes the curated cases (``curated()``) in the corpus vector
schema with ble_monitor's ``sensor_msg`` as ``expected`` (tests/data/vectors/diff-blemon-a.jsonl
was written so).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import os
import random
import struct
import sys

from common import (FLAGS, RSSI, SENSOR_MSG_OURS, STYLE_MSG, ad_struct, by_mac, close,
                    hci_event, mac_bytes, mac_text, mfr_ad as mfr, numbered_mac, rand_bytes,
                    replay, same, sensor_msg_same, service_data_ad as svc, vector_head,
                    write_vectors)

BLEMON_SRC = os.environ.get(
    "BLEMON_SRC", "/work/venvs/blemon-a/src/custom_components/ble_monitor")
BLEMON_STUB = os.environ.get("BLEMON_STUB", "/work/venvs/blemon-a/stub")
sys.path[:0] = [BLEMON_STUB, BLEMON_SRC]

import logging  # noqa: E402

logging.disable(logging.CRITICAL)

import ble_parser  # noqa: E402  (ble_monitor's)
from Cryptodome.Cipher import AES  # noqa: E402

try:
    import bleparser  # noqa: E402
except ImportError:  # pragma: no cover
    bleparser = None

BLEMON_COMMIT = "5690220"
R = random.Random(1)

# Brands bleparser 3.7.3 has no module for.
NO_BLEPARSER = {"beckett", "blustream", "chefiq", "grundfos", "holyiot", "hormann"}
# ble_monitor keys we never compare (see the module doc).
SKIP_KEYS = {"local_name", "manufacturer", "tracker_id", "uuid", "data", "rssi",
             "cypress temperature", "cypress humidity"}


class Case:
    """One advertisement: its AD data and the address the reading should carry."""

    def __init__(self, brand, branch, ad, key=None, out_mac=None, fmt=None, inframe_mac=None):
        self.brand, self.branch, self.ad = brand, branch, bytes(ad)
        self.key = key  # 16-byte bindkey for the advertiser
        self.out_mac = out_mac  # reading address when not the advertiser's (ATC in-frame MAC)
        self.fmt = fmt
        self.inframe_mac = inframe_mac
        self.mac = b""
        self.hci = b""


def rb(n: int) -> bytes:
    return rand_bytes(R, n)


def u16v() -> int:
    return R.choice([0, 1, 0x7FFF, 0x8000, 0xFFFF, R.getrandbits(16), R.getrandbits(16)])


def u8v() -> int:
    return R.choice([0, 1, 0x7F, 0x80, 0xFF, R.getrandbits(8), R.getrandbits(8)])


# ---------------------------------------------------------------------------- generators
def acconeer(n):
    out = []
    for _ in range(n):
        dev = R.choice([0x80, 0x90, 0x91, 0x80, 0x90, 0x91, R.getrandbits(8)])
        body = bytes([dev]) + struct.pack("<HHH", u16v(), u16v(), u16v()) + rb(8)
        out.append(Case("acconeer", f"dev-{dev:02x}" if dev in (0x80, 0x90, 0x91) else "dev-other",
                        FLAGS + mfr(0xACC0, body)))
        ln = R.choice([13, 14, 16, 17])
        out.append(Case("acconeer", "bad-length", FLAGS + mfr(0xACC0, bytes([R.choice([0x80, 0x90])]) + rb(ln))))
    return out


def airmentor(n):
    out = []
    pro2, s2 = [0x2111, 0x2112, 0x2121, 0x2122], [0x5112, 0x5122, 0x6111, 0x6121]
    for _ in range(n):
        cid = R.choice(pro2)
        body = struct.pack(">HHBBH", u16v(), u16v(), u8v() % 256, u8v(), u16v())
        out.append(Case("airmentor", f"pro2-{cid:04x}", FLAGS + mfr(cid, body)))
        # realistic climate values
        t = R.randint(3000, 8000)
        body = struct.pack(">HHBBH", R.randint(0, 2000), t, R.randint(0, 60), R.randint(0, 100),
                           R.choice([R.randint(0, 300), 50, 51, 100, 101, 150, 151, 200, 201, 250, 251]))
        out.append(Case("airmentor", f"pro2-{cid:04x}-real", FLAGS + mfr(cid, body)))
        cid = R.choice(s2)
        body = struct.pack(">HHBBHHH", u16v(), u16v(), u8v(), u8v(), u16v(), u16v(), u16v())
        out.append(Case("airmentor", f"2s-{cid:04x}", FLAGS + mfr(cid, body)))
        # wrong length for the model's ids
        cid = R.choice(pro2 + s2)
        out.append(Case("airmentor", "bad-length", FLAGS + mfr(cid, rb(R.choice([7, 9, 10, 11, 13])))))
    return out


def almendo(n):
    out = []
    for _ in range(n):
        ver = R.choice([1, 1, 1, 0, 2])
        model = R.choice([0x0A, 0x0A, 0x0A, 0x0B])
        tail = struct.pack("<BhHHHB", u8v(), R.choice([-4000, 0, 2150, R.randint(-32768, 32767)]),
                           u16v(), u16v(), u16v(), u8v())
        body = bytes([ver, R.getrandbits(8), model, R.getrandbits(8), R.getrandbits(8), R.getrandbits(8)]) + tail
        br = "v1" if ver == 1 and model == 0x0A else "other-version-model"
        out.append(Case("almendo", br, FLAGS + mfr(0x06E8, body)))
        extra = rb(R.randint(1, 8))
        out.append(Case("almendo", br + "-longer", FLAGS + mfr(0x06E8, body + extra)))
    return out


def amazfit(n):
    out = []
    for _ in range(n):
        stable = R.random() < 0.6
        d = rb(5) + struct.pack("<HH", u16v(), u16v())
        d += (bytes([R.getrandbits(8) | 1]) + rb(2)) if stable else b"\x00\x00\x00"
        d += bytes([u8v()]) + rb(7)
        out.append(Case("amazfit", "scale-stable" if stable else "scale-unstable",
                        FLAGS + ad_struct(0x03, b"\xe0\xfe") + svc(0xFEE0, d)))
        out.append(Case("amazfit", "scale-bad-length", FLAGS + svc(0xFEE0, rb(R.choice([19, 21])))))
        hr = R.choice([0xFF, 0, 84, R.getrandbits(8)])
        band = bytes([0x02, 0x01, 0x54, hr]) + b"\xff" * 13 + b"\x03" + rb(6)
        band = band[:2] + bytes([R.getrandbits(8)]) + band[3:]
        m = mfr(0x0157, band)
        out.append(Case("amazfit", "band-hr" if hr != 0xFF else "band-no-hr", FLAGS + m))
        steps = R.choice([0, 11, 0xFFFFFFFF, R.getrandbits(32)])
        out.append(Case("amazfit", "band-steps" + ("" if hr != 0xFF else "-no-hr"),
                        FLAGS + m + ad_struct(0x03, b"\xe0\xfe") + svc(0xFEE0, struct.pack("<I", steps))))
        out.append(Case("amazfit", "band-bad-length", FLAGS + mfr(0x0157, band[:R.choice([22, 23])] if R.random() < 0.5 else band + rb(1))))
    return out


def atc_encrypt(key, mac, counter, plain, n):
    nonce = mac[::-1] + bytes([n + 3, 0x16, 0x1A, 0x18, counter])
    c = AES.new(key, AES.MODE_CCM, nonce=nonce, mac_len=4)
    c.update(b"\x11")
    ct, tag = c.encrypt_and_digest(plain)
    return bytes([counter]) + ct + tag


ATC_SEQ = [0]


def atc_mac():
    ATC_SEQ[0] += 1
    i = ATC_SEQ[0]
    return bytes([0xA4, 0xC1, 0x38, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])


def atc(n):
    out = []
    for _ in range(n):
        m = atc_mac()
        temp = R.choice([-400, 0, 215, R.randint(-32768, 32767)])
        d = m + struct.pack(">hBBHB", temp, u8v(), u8v(), u16v(), u8v())
        out.append(Case("atc", "atc1441", FLAGS + svc(0x181A, d), out_mac=m, fmt="atc1441"))
        m = atc_mac()
        d = m[::-1] + struct.pack("<hHHBBB", R.choice([-1234, 0, R.randint(-32768, 32767)]), u16v(), u16v(),
                                  u8v(), u8v(), u8v())
        out.append(Case("atc", "pvvx", FLAGS + svc(0x181A, d), out_mac=m, fmt="pvvx"))
        key = rb(16)
        plain = struct.pack("<hHBB", R.randint(-32768, 32767), u16v(), R.choice([50, 100, 101, 255]), u8v())
        cnt = R.getrandbits(8)
        m = atc_mac()
        out.append(Case("atc", "pvvx-encrypted", FLAGS + svc(0x181A, atc_encrypt(key, m, cnt, plain, 11)),
                        key=key, fmt="pvvx-encrypted", inframe_mac=m))
        plain = bytes([u8v(), u8v(), R.choice([0x64, 0xE4, 0x7F, 0xFF, R.getrandbits(8)])])
        m = atc_mac()
        out.append(Case("atc", "atc1441-encrypted", FLAGS + svc(0x181A, atc_encrypt(key, m, cnt, plain, 8)),
                        key=key, fmt="atc1441-encrypted", inframe_mac=m))
        # wrong key / no key
        m = atc_mac()
        out.append(Case("atc", "pvvx-encrypted-wrong-key",
                        FLAGS + svc(0x181A, atc_encrypt(key, m, cnt, plain + b"\x00\x00\x00", 11)),
                        key=rb(16), fmt="pvvx-encrypted", inframe_mac=m))
        m = atc_mac()
        out.append(Case("atc", "atc1441-encrypted-no-key",
                        FLAGS + svc(0x181A, atc_encrypt(key, m, cnt, plain, 8)), fmt="atc1441-encrypted",
                        inframe_mac=m))
        out.append(Case("atc", "other-length", FLAGS + svc(0x181A, rb(R.choice([5, 7, 9, 10, 12, 14, 17, 19])))))
    return out


def beckett_wrap(b: bytes, u: int, o: int) -> bytes:
    """Inverse of ble_monitor's unwrap: payload (company id first) whose unwrapped bytes are b."""
    out = bytearray(b"\x1a\x06" + bytes([u, o]))
    for i, x in enumerate(b):
        idx = i + 4
        v = (x ^ ((u + (idx - 2)) & 0xFF) ^ o) & 0xFF
        out.append(v)
        u, o = o, v
    return bytes(out)


def beckett(n):
    out = []
    for _ in range(n):
        prod = R.choice([0, 1, 2, 3, 3, 3, 4, 5, 6])
        if R.random() < 0.2:
            prod |= 0x8000
        dev = R.choice([0, 64, 96, 128, 0, 1])
        ln = R.choice([20, 20, 21, 22, 23, 24, 25, 26, 27, 10, 11, 16, 19]
                      + ([2, 3, 4, 5, 6, 7, 8, 9] if R.random() < 0.3 else []))
        b = bytearray(struct.pack(">HH", prod, dev) + struct.pack(
            ">HHH", R.choice([0, 1, 2, 6, 9, 12, 13, R.randint(1, 12)]), u16v(), u16v()) + rb(30))
        b = b[:ln]
        if ln >= 2:
            b[-1] = R.choice([1, 1, 0, 2])
            b[-2] = R.choice([0, 0, 1, 0xFF])
        pay = beckett_wrap(bytes(b), R.getrandbits(8), R.getrandbits(8))
        br = f"product-{prod & 0x7FFF}" if (prod & 0x7FFF) <= 5 else "product-other"
        if ln < 10:
            br = "short"
        out.append(Case("beckett", br, FLAGS + ad_struct(0xFF, pay)))
    return out


def blustream(n):
    out = []
    for _ in range(n):
        body = rb(4) + struct.pack(">BHh", u8v(), u16v(), R.choice([-500, 0, 2150, R.randint(-32768, 32767)]))
        out.append(Case("blustream", "blustream", FLAGS + mfr(0x0194, body)))
        out.append(Case("blustream", "bad-length", FLAGS + mfr(0x0194, rb(R.choice([8, 10])))))
    return out


def bparasite(n):
    out = []
    for _ in range(n):
        proto = R.choice([0x20, 0x21, 0x10, 0x00, R.getrandbits(8)])
        core = struct.pack(">BBHhHH", proto, R.getrandbits(8), u16v(), R.randint(-32768, 32767), u16v(), u16v()) + rb(6)
        out.append(Case("bparasite", "v1.0", FLAGS + svc(0x181A, core)))
        out.append(Case("bparasite", "v1.1-light", FLAGS + svc(0x181A, core + struct.pack(">H", u16v()))))
    return out


def chefiq(n):
    out = []
    for _ in range(n):
        def t():
            return R.choice([0, 215, 0x7FEF, 0x7FF0, 0x7FFF, 0xFFFF, R.getrandbits(16), R.randint(0, 3000)])
        body = rb(2) + struct.pack("<BBHHHHHHh", u8v(), R.choice([0, 25, 0xFD, 0xFE, 0xFF, R.getrandbits(8)]),
                                   u16v(), t(), t(), t(), t(), t(), R.randint(-32768, 32767))
        out.append(Case("chefiq", "cq60", FLAGS + mfr(0x05CD, body)))
    return out


def grundfos(n):
    out = []
    for _ in range(n):
        mode = R.choice(list(range(10)) + [10, 255])
        body = rb(2) + struct.pack("<BBHHhxBB", R.getrandbits(8), u8v(), u16v(), u16v(),
                                   R.randint(-32768, 32767), mode, u8v()) + rb(6)
        out.append(Case("grundfos", "mode-known" if mode < 10 else "mode-unknown", FLAGS + mfr(0xF214, body)))
    return out


def hhcc(n):
    out = []
    for _ in range(n):
        body = struct.pack(">BH", u8v(), u16v()) + rb(3) + struct.pack(">BH", u8v(), u16v())
        out.append(Case("hhcc", "hhccjcy10", FLAGS + svc(0xFD50, body)))
        out.append(Case("hhcc", "bad-length", FLAGS + svc(0xFD50, rb(R.choice([8, 10])))))
    return out


HOLY_SEQ = [0]


def holyiot(n):
    out = []
    for _ in range(n):
        mtype = R.choice([0, 1, 1, 2, 2, 3, 4, 5, 6, 6, 7])
        val = R.choice([bytes([0x80, 0x32]), bytes([0xFF, 0x05]), bytes([0x00, 0x63]), rb(2), b"\x01\x00"])
        HOLY_SEQ[0] += 1
        m = bytes([0xE0, 0x10, 0, 0, (HOLY_SEQ[0] >> 8) & 0xFF, HOLY_SEQ[0] & 0xFF])
        d = bytes([R.getrandbits(8), u8v()]) + m + rb(2) + bytes([mtype]) + val
        c = Case("holyiot", f"type-{mtype}", FLAGS + svc(0x5242, d), inframe_mac=m)
        out.append(c)
        d2 = bytes([R.getrandbits(8), u8v()]) + rb(6) + rb(2) + bytes([3]) + val
        out.append(Case("holyiot", "foreign-mac", FLAGS + svc(0x5242, d2)))
    return out


def hormann(n):
    out = []
    first = mfr(0x07B4, bytes([0x01, 0x02, 0x2D, 0x20, 0x00, 0x00]))
    for _ in range(n):
        pos = R.choice([0, 1, 0x3E, 200, 201, 0xFF, R.getrandbits(8)])
        second = mfr(0x07B4, bytes([R.getrandbits(8), pos]) + rb(15))
        uuid = ad_struct(0x07, rb(16))
        br = "pos<=200" if pos <= 200 else "pos>200"
        out.append(Case("hormann", br, FLAGS + uuid + first + second))
        out.append(Case("hormann", "single-" + br, FLAGS + second))
        out.append(Case("hormann", "short-second", FLAGS + first + mfr(0x07B4, bytes([1, pos]) + rb(14))))
    return out


def ibeacon(n):
    out = []
    for _ in range(n):
        body = b"\x02\x15" + rb(16) + struct.pack(">HHb", u16v(), u16v(), R.randint(-128, 127))
        out.append(Case("ibeacon", "ibeacon", FLAGS + mfr(0x004C, body)))
        out.append(Case("ibeacon", "ibeacon-longer", FLAGS + mfr(0x004C, body + rb(R.randint(1, 3)))))
        out.append(Case("ibeacon", "ibeacon-short", FLAGS + mfr(0x004C, body[:R.randint(19, 22)])))
        out.append(Case("ibeacon", "ibeacon-not-15", FLAGS + mfr(0x004C, b"\x02\x16" + body[2:])))
        cid = R.choice([0x0118, 0xFFFF, 0x0059, R.getrandbits(16)])
        ab = b"\xbe\xac" + rb(16) + struct.pack(">HHb", u16v(), u16v(), R.randint(-128, 127)) + rb(1)
        out.append(Case("ibeacon", "altbeacon", FLAGS + mfr(cid, ab)))
        out.append(Case("ibeacon", "altbeacon-longer", mfr(cid, ab + rb(1))))
        out.append(Case("ibeacon", "ibeacon+other-mfr", FLAGS + mfr(0x004C, body) + mfr(0x1234, rb(2))))
    return out


GENS = {
    "acconeer": acconeer, "airmentor": airmentor, "almendo": almendo, "amazfit": amazfit,
    "atc": atc, "beckett": beckett, "blustream": blustream, "bparasite": bparasite,
    "chefiq": chefiq, "grundfos": grundfos, "hhcc": hhcc, "holyiot": holyiot,
    "hormann": hormann, "ibeacon": ibeacon,
}


# ---------------------------------------------------------------------------- running
def jsonable(d):
    if d is None:
        return None
    out = {}
    for k, v in d.items():
        if isinstance(v, (bytes, bytearray)):
            continue
        out[k] = v
    return out


def run_ref(mod, c: Case):
    """(sensor_msg or None, error text or None) of one parser on the case's HCI event."""
    keys = {c.mac: c.key} if c.key else {}
    p = mod.BleParser(filter_duplicates=False, aeskeys=keys)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # hhcc.py prints
            s, _t = p.parse_raw_data(c.hci)
    except Exception as e:  # noqa: BLE001
        return None, f"{type(e).__name__}: {e}"
    return jsonable(s), None


def assign(cases):
    for i, c in enumerate(cases):
        if c.inframe_mac is not None:
            c.mac = c.inframe_mac
        else:
            c.mac = mac_bytes(numbered_mac(b"\xC0\x11", i, b"\x01"))
        c.hci = hci_event(c.mac, c.ad)


def run_ours(cases):
    """Reading MAC -> our readings."""
    return by_mac(replay([c.hci for c in cases], {mac_text(c.mac): c.key for c in cases if c.key}))


def compare(c: Case, ours: list[dict], ref, err) -> list[str]:
    """Discrepancies between our last reading for the case and ble_monitor's sensor_msg."""
    got = ours[-1] if ours else None
    if err:
        return [f"ble_monitor raised ({err}); ours {got}"] if got else []
    if ref is None or ref.get("data") is False:
        return [f"ble_monitor: none; ours {got}"] if got else []
    if got is None:
        return [f"ours: none; ble_monitor {ref}"]
    bad = []
    seen = {"mac", "rssi", "format", "firmware", "model", "packet"}
    for k, e in ref.items():
        if k in SKIP_KEYS:
            continue
        if k == "status" and c.brand == "atc":
            continue  # bleparser's constant "opened": not published (atc.rs)
        if k == "packet" and c.brand in ("acconeer", "hhcc") and isinstance(e, str) \
                and e != "no packet id":
            continue  # PACKET_HEX deviation
        if k in SENSOR_MSG_OURS:
            if not sensor_msg_same(k, e, got):
                bad.append(f"{k}: ours {got.get(SENSOR_MSG_OURS[k])!r} vs {e!r}")
            continue
        if c.brand == "holyiot" and k == "pressure":
            seen.add(k)
            g = got.get(k)
            if g is None or not close(g * 100, e):
                bad.append(f"pressure: ours {g} hPa vs {e} Pa")
            continue
        seen.add(k)
        g = got.get(k)
        if e is None:
            if g is not None:
                bad.append(f"{k}: ours {g!r} vs absent")
            continue
        if isinstance(e, bool):
            e = int(e)
        if not same(e, g):
            bad.append(f"{k}: ours {g!r} vs {e!r}")
    for k, g in got.items():
        if k not in seen:
            bad.append(f"{k}: ours {g!r}, ble_monitor has no such key")
    return bad


def same_msg(a, b) -> bool:
    """bleparser vs ble_monitor sensor_msg (rssi/local_name/data aside)."""
    if a is None or b is None:
        return a is None and b is None
    ka = {k: v for k, v in a.items() if k not in ("local_name",)}
    kb = {k: v for k, v in b.items() if k not in ("local_name",)}
    if set(ka) != set(kb):
        return False
    for k in ka:
        x, y = ka[k], kb[k]
        if isinstance(x, float) or isinstance(y, float):
            if not (isinstance(x, (int, float)) and isinstance(y, (int, float)) and close(x, y)):
                return False
        elif x != y:
            return False
    return True


# ---------------------------------------------------------------------------- vectors
def curated() -> list[tuple[str, Case]]:
    """The cases kept as tests/data/vectors/diff-blemon-a.jsonl (short id, case)."""
    C = []

    def add(short, c):
        C.append((short, c))

    add("acconeer-xm126-presence-neg-temp",
        Case("acconeer", "dev-91", FLAGS + mfr(0xACC0, bytes([0x91]) + struct.pack("<HhH", 87, -12, 3) + bytes(8))))
    add("airmentor-pro2-climate-hazardous",
        Case("airmentor", "pro2-2112", FLAGS + mfr(0x2112, struct.pack(">HHBBH", 412, 6150, 32, 45, 260))))
    add("airmentor-2s-particles-formaldehyde",
        Case("airmentor", "2s-6111", FLAGS + mfr(0x6111, struct.pack(">HHHHHH", 812, 35, 48, 0, 73, 0))))
    add("airmentor-2s-climate",
        Case("airmentor", "2s-5122", FLAGS + mfr(0x5122, struct.pack(">HHBBHHH", 300, 2500, 15, 62, 51, 0, 0))))
    add("almendo-v1-longer-frame",
        Case("almendo", "v1-longer", FLAGS + mfr(0x06E8, bytes([1, 2, 0x0A, 1, 0, 0]) +
                                                   struct.pack("<BhHHHB", 0, -1525, 4550, 612, 125, 42) + b"\x00\x07")))
    add("almendo-v1-negative",
        Case("almendo", "v1", FLAGS + mfr(0x06E8, bytes([1, 2, 0x0A, 1, 0, 0]) +
                                           struct.pack("<BhHHHB", 0, -32768, 65535, 65535, 0, 255))))
    add("amazfit-scale-unstable",
        Case("amazfit", "scale-unstable", FLAGS + ad_struct(0x03, b"\xe0\xfe") + svc(
            0xFEE0, bytes(5) + struct.pack("<HH", 5172, 17060) + bytes(3) + bytes([72]) + bytes(7))))
    band = bytes([0x02, 0x01, 0x02, 0xFF]) + b"\xff" * 13 + b"\x03" + bytes.fromhex("fffdff3b6145")
    add("miband-steps-no-heart-rate",
        Case("amazfit", "band-steps-no-hr", FLAGS + mfr(0x0157, band) + ad_struct(0x03, b"\xe0\xfe")
             + svc(0xFEE0, struct.pack("<I", 123456))))
    add("miband-no-heart-rate-no-steps", Case("amazfit", "band-no-hr", FLAGS + mfr(0x0157, band)))
    m = bytes.fromhex("A4C138112233")
    add("atc1441-negative", Case("atc", "atc1441", FLAGS + svc(0x181A, m + struct.pack(">hBBHB", -123, 99, 0, 2950, 7)),
                                 out_mac=m, fmt="atc1441"))
    m = bytes.fromhex("A4C138445566")
    add("pvvx-flags-3", Case("atc", "pvvx", FLAGS + svc(0x181A, m[::-1] + struct.pack("<hHHBBB", -2050, 10000, 3100, 100, 200, 3)),
                             out_mac=m, fmt="pvvx"))
    key = bytes.fromhex("b9ea895fac7eea6d30532432a516f3a3")
    m = bytes.fromhex("A4C138778899")
    add("pvvx-encrypted-battery-over-100",
        Case("atc", "pvvx-encrypted", FLAGS + svc(0x181A, atc_encrypt(key, m, 0x55, struct.pack("<hHBB", -505, 4321, 150, 2), 11)),
             key=key, fmt="pvvx-encrypted", inframe_mac=m))
    m = bytes.fromhex("A4C1387788AA")
    add("atc1441-encrypted-battery-127",
        Case("atc", "atc1441-encrypted", FLAGS + svc(0x181A, atc_encrypt(key, m, 0x10, bytes([30, 101, 0xFF]), 8)),
             key=key, fmt="atc1441-encrypted", inframe_mac=m))

    def bk(b, u=0x11, o=0x22):
        return FLAGS + ad_struct(0xFF, beckett_wrap(b, u, o))
    add("beckett-genisysgas-bootloader",
        Case("beckett", "product-5", bk(bytes([0x80, 0x05, 0x00, 0x60]) + bytes(12) + bytes.fromhex("00abcdef") + b"\x00\x01")))
    add("beckett-genisys-lockout-fallback-end-cause",
        Case("beckett", "product-3", bk(bytes([0x00, 0x03, 0x00, 0x80, 0x00, 0x09, 0x00, 0x1B, 0x12, 0x34]) + bytes(10) + b"\x01\x02")))
    add("beckett-iot7652-version-2",
        Case("beckett", "product-4", bk(bytes([0x00, 0x04, 0x00, 0x40]) + bytes(18) + b"\x00\x02")))
    add("beckett-short-5",
        Case("beckett", "short", bk(bytes([0x00, 0x03, 0x00, 0x00, 0x05]))))
    add("beckett-short-8",
        Case("beckett", "short", bk(bytes([0x00, 0x03, 0x00, 0x00, 0x00, 0x06, 0x02, 0x01]))))
    add("blustream-negative",
        Case("blustream", "blustream", FLAGS + mfr(0x0194, bytes(4) + struct.pack(">BHh", 255, 9999, -1234))))
    add("bparasite-v1.0-protocol-1",
        Case("bparasite", "v1.0", FLAGS + svc(0x181A, struct.pack(">BBHhHH", 0x10, 5, 2900, -1500, 30000, 65535) + bytes(6))))
    add("bparasite-v1.1-protocol-2",
        Case("bparasite", "v1.1-light", FLAGS + svc(0x181A, struct.pack(">BBHhHH", 0x21, 200, 3000, 2150, 0, 12345) + bytes(6) + b"\xff\xff")))
    add("chefiq-sentinels",
        Case("chefiq", "cq60", FLAGS + mfr(0x05CD, bytes(2) + struct.pack("<BBHHHHHHh", 77, 0xFE, 0, 0x7FF0, 0xFFFF, 0x7FEF, 215, 0, -1))))
    add("chefiq-probe3-253",
        Case("chefiq", "cq60", FLAGS + mfr(0x05CD, bytes(2) + struct.pack("<BBHHHHHHh", 100, 0xFD, 0, 651, 652, 0, 1, 2000, 0))))
    add("grundfos-mode-9-negative-pressure",
        Case("grundfos", "mode-known", FLAGS + mfr(0xF214, bytes(2) + struct.pack("<BBHHhxBB", 200, 3, 0xBEEF, 65535, -32768, 9, 255) + bytes(6))))
    add("hhcc-max", Case("hhcc", "hhccjcy10", FLAGS + svc(0xFD50, bytes.fromhex("ffffffffffffffffff"))))
    hm = bytes.fromhex("E01000000001")
    add("holyiot-negative-temperature",
        Case("holyiot", "type-1", FLAGS + svc(0x5242, bytes([0, 88]) + hm + bytes(2) + bytes([1, 0xFB, 0x19])), inframe_mac=hm))
    hm = bytes.fromhex("E01000000002")
    add("holyiot-vibration-5",
        Case("holyiot", "type-4", FLAGS + svc(0x5242, bytes([0, 50]) + hm + bytes(2) + bytes([4, 5, 0])), inframe_mac=hm))
    hm = bytes.fromhex("E01000000003")
    add("holyiot-side", Case("holyiot", "type-5", FLAGS + svc(0x5242, bytes([0, 50]) + hm + bytes(2) + bytes([5, 3, 0])), inframe_mac=hm))
    hm = bytes.fromhex("E01000000004")
    add("holyiot-button-no-press",
        Case("holyiot", "type-6", FLAGS + svc(0x5242, bytes([0, 50]) + hm + bytes(2) + bytes([6, 2, 0])), inframe_mac=hm))
    first = mfr(0x07B4, bytes([0x01, 0x02, 0x2D, 0x20, 0x00, 0x00]))
    add("hormann-position-over-200",
        Case("hormann", "pos>200", FLAGS + first + mfr(0x07B4, bytes([0x13, 0xF0]) + bytes(15))))
    add("hormann-single-structure",
        Case("hormann", "single-pos<=200", FLAGS + mfr(0x07B4, bytes([0x13, 0x65]) + bytes(15))))
    add("ibeacon-longer-negative-power",
        Case("ibeacon", "ibeacon-longer", FLAGS + mfr(0x004C, b"\x02\x15" + bytes(range(16)) + struct.pack(">HHb", 65535, 0, -128) + b"\x00")))
    add("altbeacon-longer",
        Case("ibeacon", "altbeacon-longer", mfr(0x0118, b"\xbe\xac" + bytes(range(16, 32)) + struct.pack(">HHb", 1, 2, -70) + b"\x00\x00")))
    add("altbeacon-company-0059",
        Case("ibeacon", "altbeacon", FLAGS + mfr(0x0059, b"\xbe\xac" + bytes(range(16, 32)) + struct.pack(">HHb", 300, 65535, 127) + b"\x55")))
    return C


FMT = {"acconeer": "acconeer", "airmentor": "air-mentor", "almendo": "almendo-v1",
       "blustream": "blustream", "bparasite": "b-parasite", "chefiq": "chef-iq",
       "grundfos": "grundfos", "hhcc": "hhcc", "holyiot": "holyiot", "hormann": "hormann",
       "beckett": "beckett"}


def vector(short: str, c: Case, ref, bp, bp_err, ours) -> dict:
    if c.fmt:
        fmt = c.fmt
    elif c.brand == "amazfit":
        fmt = "mi-band" if c.branch.startswith("band") else "amazfit"
    elif c.brand == "ibeacon":
        fmt = "altbeacon" if "alt" in c.branch else "ibeacon"
    else:
        fmt = FMT[c.brand]
    if c.brand in NO_BLEPARSER:
        bpcheck = "no module"
    else:
        bpcheck = "match" if (bp_err is None and same_msg(bp, ref)) else "differs"
    exp = dict(ref) if ref else {}
    v = {
        **vector_head("ble_monitor", short, f"ble_monitor {BLEMON_COMMIT} ble_parser", c.branch),
        "format": fmt,
        "device_type": (ref or {}).get("type"),
        "hci_event_hex": c.hci.hex(),
        "adv_data_hex": c.ad.hex(),
        "mac": mac_text(c.mac),
        "rssi": RSSI,
        "key_hex": c.key.hex() if c.key else None,
        "expected": exp,
        "expect_error": None if ref and ref.get("data") is not False else "ble_monitor returns no sensor_msg",
        "expected_style": STYLE_MSG,
        "expected_is_complete": False,
        "checks": {f"ble_monitor@{BLEMON_COMMIT}": "match", "bleparser==3.7.3": bpcheck},
    }
    return v


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200, help="rounds per brand")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--brand", choices=list(GENS), action="append")
    ap.add_argument("--show", type=int, default=3, help="examples per disagreeing branch")
    ap.add_argument("--vectors", help="write the curated cases as corpus vectors here")
    a = ap.parse_args()
    if a.vectors:
        cs = curated()
        assign([c for _, c in cs])
        ours = run_ours([c for _, c in cs])
        bad = 0
        vecs = []
        for short, c in cs:
            ref, err = run_ref(ble_parser, c)
            bp, bp_err = run_ref(bleparser, c) if bleparser else (None, "no bleparser")
            om = mac_text(c.out_mac or c.mac)
            problems = compare(c, ours.get(om, []), ref, err)
            bad += bool(problems)
            print(f"{short}: {'; '.join(problems) or 'agree'}")
            if err:
                print(f"    ble_monitor raised {err}: skipped")
                continue
            vecs.append(vector(short, c, ref, bp, bp_err, ours))
        write_vectors(vecs, a.vectors)
        return 1 if bad else 0
    R.seed(a.seed)
    brands = a.brand or list(GENS)
    cases = [c for b in brands for c in GENS[b](a.n)]
    assign(cases)
    ours = run_ours(cases)
    stats = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    shown = collections.Counter()
    for c in cases:
        ref, err = run_ref(ble_parser, c)
        om = mac_text(c.out_mac or c.mac)
        problems = compare(c, ours.get(om, []), ref, err)
        st = stats[(c.brand, c.branch)]
        st[0] += 1
        st[4] += bool(ref and ref.get("data") is not False)
        if err:
            st[2] += 1
        if bleparser and c.brand not in NO_BLEPARSER:
            bp, bp_err = run_ref(bleparser, c)
            if not (err is None and bp_err is None and same_msg(bp, ref)) and not (err and bp_err):
                st[3] += 1
        if problems:
            st[1] += 1
            if shown[(c.brand, c.branch)] < a.show:
                shown[(c.brand, c.branch)] += 1
                print(f"[{c.brand} / {c.branch}] hci={c.hci.hex()}" + (f" key={c.key.hex()}" if c.key else ""))
                for p in problems:
                    print("    " + p)
    print(f"\nble_monitor {BLEMON_COMMIT}; columns: compared, disagree, ble_monitor raised, "
          "bleparser 3.7.3 differs from ble_monitor, ble_monitor published a reading")
    for (b, br), (n, bad, raised, bpd, pub) in sorted(stats.items()):
        print(f"    {b:10} {br:32} {n:6} {bad:5} {raised:5} {bpd:5} {pub:5}")
    return 1 if any(s[1] for s in stats.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
