"""Plumbing shared by the differential tests in this directory (standard library only).

The scripts import it by their own directory (``sys.path`` holds it when one runs as
``python scripts/differential/X.py``). It offers:

* paths and constants: ``ROOT`` (the workspace), ``BIN`` (``target/release/hci2mqtt``),
  ``RSSI`` (-60 dBm, the RSSI of every generated report), ``STYLE_SSD``, ``STYLE_MSG``;
* addresses and UUIDs: ``mac_bytes``, ``mac_text``, ``numbered_mac``, ``full_uuid``;
* AD structures: ``ad_struct``, ``FLAGS``, ``name_ad``, ``uuid16_ad``, ``mfr_ad``,
  ``service_data_ad``, ``build_ad`` (name, UUID lists, service data, manufacturer data);
* the HCI event builder ``hci_event``: an LE Advertising Report (legacy ADV_IND), or an LE
  Extended Advertising Report when the AD data is over 31 bytes; ``Advert``, a case of
  name + UUID list + service and manufacturer data in one report (brands2.py, halibs2.py);
* the replay runner ``replay`` (``hci2mqtt replay FILE --all-frames`` on a hex-lines file,
  keys by ``--key`` or a ``--config`` file; returns the JSON readings) and ``by_mac``;
* the comparator: ``close`` (relative tolerance ``REL_TOL`` = 1e-6 of max(|a|, |b|, 1), as
  tests/support/compare.rs), ``same`` (compare.rs's rules for one expected value), ``is_num``,
  ``as_float``;
* key mapping ``our_key`` (library key -> ours: ``@device`` dropped, a table, else ``_`` ->
  space), and for ble_monitor's ``sensor_msg`` ``SENSOR_MSG_OURS`` / ``sensor_msg_same``;
* corpus vectors: ``vector_head`` (``id`` and ``source``) and ``write_vectors`` (JSON lines);
* the command line and summary of the ``Advert`` scripts: ``advert_main``,
  ``print_lib_summary``;
* ``rand_bytes`` and ``dist_version``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "hci2mqtt")
RSSI = -60
STYLE_SSD = "sensor-state-data SensorUpdate (entity key -> native_value)"
STYLE_MSG = "bleparser-sensor_msg"
BASE_UUID = "-0000-1000-8000-00805f9b34fb"


# ---------------------------------------------------------------------------- addresses
def mac_bytes(mac: str | bytes) -> bytes:
    """`AA:BB:CC:DD:EE:FF` as 6 bytes, most significant first (bytes are returned as they are)."""
    if isinstance(mac, (bytes, bytearray)):
        return bytes(mac)
    return bytes.fromhex(mac.replace(":", ""))


def mac_text(mac: str | bytes) -> str:
    """6 bytes (most significant first) as `AA:BB:CC:DD:EE:FF`."""
    return ":".join(f"{b:02X}" for b in mac_bytes(mac))


def numbered_mac(head: bytes, i: int, tail: bytes = b"") -> str:
    """`head`, then `i` (big-endian, modulo what fits), then `tail`: six bytes as text."""
    n = 6 - len(head) - len(tail)
    return mac_text(head + (i % (1 << (8 * n))).to_bytes(n, "big") + tail)


def full_uuid(u16: int) -> str:
    """A 16-bit UUID on the Bluetooth base UUID, lower case."""
    return f"0000{u16:04x}{BASE_UUID}"


# ---------------------------------------------------------------------------- AD structures
def ad_struct(t: int, body: bytes) -> bytes:
    return bytes([len(body) + 1, t]) + body


FLAGS = ad_struct(0x01, b"\x06")


def name_ad(name: str, complete: bool = True) -> bytes:
    return ad_struct(0x09 if complete else 0x08, name.encode())


def uuid16_ad(*uuids: int) -> bytes:
    return ad_struct(0x03, b"".join(struct.pack("<H", u) for u in uuids))


def mfr_ad(cid: int, data: bytes) -> bytes:
    return ad_struct(0xFF, struct.pack("<H", cid) + data)


def service_data_ad(uuid16: int, data: bytes) -> bytes:
    return ad_struct(0x16, struct.pack("<H", uuid16) + data)


def build_ad(name=None, uuids=(), sd=(), mfr=()) -> bytes:
    """Complete local name, the UUID list (16-bit ones, then 128-bit ones; full UUID texts),
    service data [(full 16-bit UUID text, data)], manufacturer data [(company id, data)]."""
    out = name_ad(name) if name else b""
    u16 = [u for u in uuids if u.endswith(BASE_UUID) and u.startswith("0000")]
    u128 = [u for u in uuids if u not in u16]
    if u16:
        out += uuid16_ad(*(int(u[4:8], 16) for u in u16))
    if u128:
        out += ad_struct(0x07, b"".join(bytes.fromhex(u.replace("-", ""))[::-1] for u in u128))
    for uuid, data in sd:
        out += service_data_ad(int(uuid[4:8], 16), data)
    for cid, data in mfr:
        out += mfr_ad(cid, data)
    return out


# ---------------------------------------------------------------------------- HCI events
LEGACY_MAX = 31


def hci_event(mac: str | bytes, ad: bytes, *, rssi: int = RSSI, addr_type: int = 0) -> bytes:
    """One H4 HCI LE Meta event with one report from `mac` (public address by default).

    AD data of up to 31 bytes: an LE Advertising Report, ADV_IND. Longer: an LE Extended
    Advertising Report (event type 0x0001: connectable, complete; 1M PHY, no secondary PHY,
    no SID, no TX power, no periodic interval, no direct address)."""
    addr = mac_bytes(mac)[::-1]
    if len(ad) <= LEGACY_MAX:
        rep = bytes([0x02, 1, 0x00, addr_type]) + addr + bytes([len(ad)]) + ad + bytes([rssi & 0xFF])
    else:
        rep = (bytes([0x0D, 1]) + struct.pack("<H", 0x0001) + bytes([addr_type]) + addr
               + bytes([1, 0, 0xFF, 0x7F, rssi & 0xFF]) + struct.pack("<H", 0) + bytes([0])
               + bytes(6) + bytes([len(ad)]) + ad)
    return bytes([0x04, 0x3E, len(rep)]) + rep


class Advert:
    """One generated advertisement for a library: local name, UUID list (full UUID texts),
    service data [(UUID text, data)] and manufacturer data [(company id, data)], all in one
    report (as the controller merges an ADV_IND and its scan response) from `addr`: fixed by
    the case, or numbered later."""

    def __init__(self, lib, branch, name, *, local_name="", uuids=(), sd=(), mfr=(), addr=None):
        self.lib, self.branch, self.name = lib, branch, name
        self.local_name, self.uuids, self.sd, self.mfr = local_name, list(uuids), list(sd), list(mfr)
        self.addr = addr
        self.fixed_addr = addr is not None

    def adv(self) -> bytes:
        return build_ad(self.local_name, self.uuids, self.sd, self.mfr)

    def event(self) -> bytes:
        return hci_event(self.addr, self.adv())

    def describe(self, uuid_chars=slice(4, 8)) -> str:
        """The data in hex, the name, the UUIDs (`uuid_chars` of each), for a report."""
        parts = ([f"mfr {cid:04x}:{d.hex()}" for cid, d in self.mfr]
                 + [f"sd {u[4:8]}:{d.hex()}" for u, d in self.sd])
        if self.local_name:
            parts.append(f"name {self.local_name!r}")
        if self.uuids:
            parts.append("uuids " + ",".join(u[uuid_chars] for u in self.uuids))
        return " ".join(parts)


# ---------------------------------------------------------------------------- replay
def replay(events, keys=None, *, config: bool = False, binary: str | None = None) -> list[dict]:
    """Our readings for `events` (HCI packets, bytes or hex text), in order.

    Runs `hci2mqtt replay FILE --all-frames` on a file with one hex packet per line; `keys`
    ({MAC text: key bytes or hex}) go as `--key MAC=HEX` arguments, or with `config` in a
    `--config` TOML file ([[sensor]] mac/key; for more keys than a command line holds).
    Exits when the replay fails; lines that are not JSON are skipped."""
    keys = {m: (k.hex() if isinstance(k, (bytes, bytearray)) else k) for m, k in (keys or {}).items()}
    paths = []
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            paths.append(f.name)
            for e in events:
                f.write((e.hex() if isinstance(e, (bytes, bytearray)) else e) + "\n")
        args = [binary or BIN, "replay", f.name, "--all-frames"]
        if config and keys:
            with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as cf:
                paths.append(cf.name)
                for m, k in keys.items():
                    cf.write(f'[[sensor]]\nmac = "{m}"\nkey = "{k}"\n\n')
            args += ["--config", cf.name]
        else:
            for m, k in keys.items():
                args += ["--key", f"{m}={k}"]
        p = subprocess.run(args, capture_output=True, text=True)
    finally:
        for path in paths:
            os.unlink(path)
    if p.returncode != 0:
        sys.exit(f"hci2mqtt replay failed ({p.returncode}): {p.stderr}")
    out = []
    for line in p.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def by_mac(readings, norm=str.upper) -> dict[str, list[dict]]:
    """Readings grouped by `norm(their mac)`, each list in order."""
    out: dict[str, list[dict]] = {}
    for j in readings:
        out.setdefault(norm(j.get("mac", "")), []).append(j)
    return out


# ---------------------------------------------------------------------------- comparison
REL_TOL = 1e-6


def close(a: float, b: float, rel: float = REL_TOL) -> bool:
    """Within `rel` of the larger magnitude (1 for values near zero), as tests/support/compare.rs."""
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


def is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def as_float(x) -> float | None:
    """A number (booleans as 0/1) as a float; None for anything else."""
    return float(x) if isinstance(x, (bool, int, float)) else None


def same(want, got) -> bool:
    """`got` (our value, None = absent) against a reference value, the rules of
    tests/support/compare.rs: None = absent; a boolean = 0/1; a number within `close` (NaN
    never matches); anything else equal."""
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, bool):
        return is_num(got) and got == int(want)
    if is_num(want):
        return is_num(got) and not (isinstance(want, float) and math.isnan(want)) and close(want, got)
    return want == got


# ---------------------------------------------------------------------------- key mapping
def our_key(k: str, key_map: dict, skip=()) -> str | None:
    """Our key for a library key: `@device` dropped, None when in `skip`, `key_map`'s entry, else
    `_` -> space."""
    k = k.split("@")[0]
    if k in skip:
        return None
    return key_map.get(k, k.replace("_", " "))


# sensor_msg keys (ble_monitor, bleparser) that stand for one of ours under another name or form.
SENSOR_MSG_OURS = {"type": "model", "firmware": "firmware", "mac": "mac", "packet": "packet"}


def sensor_msg_same(k: str, want, got: dict) -> bool:
    """Whether our reading `got` agrees with sensor_msg key `k` of SENSOR_MSG_OURS: `type` is
    our `model`, `mac` is without colons, `packet` "no packet id" is none."""
    g = got.get(SENSOR_MSG_OURS[k])
    if k == "mac":
        return (g or "").replace(":", "").upper() == str(want).upper()
    if k == "packet" and want == "no packet id":
        return g is None
    return g == want


# ---------------------------------------------------------------------------- corpus vectors
def vector_head(lib: str, name: str, ref: str, what: str) -> dict:
    """A vector's first fields: `id` differential:LIB:NAME, `source` naming the reference."""
    return {"id": f"differential:{lib}:{name}",
            "source": f"differential: {ref} on a generated advertisement ({what})"}


def write_vectors(vectors, path: str | None = None) -> None:
    """Vectors as JSON lines (UTF-8, not escaped) to `path`, or to stdout without one."""
    lines = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in vectors)
    if path is None:
        sys.stdout.write(lines)
    else:
        with open(path, "w") as f:
            f.write(lines)


# ---------------------------------------------------------------------------- Advert scripts
def advert_main(doc: str, generators: dict, curated, run_library, compare, vector, *,
                vector_mac: bytes, widths=(15, 35), describe=Advert.describe,
                star_detail: bool = False) -> None:
    """The command line of a script checking libraries on `Advert`s (brands2.py, halibs2.py):
    `[--seed N] [--n 300] [--only LIB] [-v]`, or `--vectors` to print the curated cases as
    corpus vectors (JSON lines on stdout; disagreements on stderr).

    `generators`: {lib: gen(random.Random, n) -> [Advert]}, run in that order, then
    `curated()`; addresses not fixed by a case are C0:FF:EE:nn:nn:nn (`vector_mac` + the
    index with --vectors); all go through one replay. `run_library(c)` -> (expected in the
    library's keys or None, units, model); `compare(c, expected, units, our readings, model)`
    -> [(key, why)] (a case whose address another case shares is not compared); `vector(c,
    expected, units, model)` -> dict. Classes of disagreement are (lib, key), with
    `star_detail` the start of the reason for key "*"."""
    logging.disable(logging.CRITICAL)
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=300, help="random cases per generator")
    ap.add_argument("--only", help="one library: " + ", ".join(generators))
    ap.add_argument("--vectors", action="store_true",
                    help="print the curated cases as corpus vectors (expected = the library's)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    r = random.Random(a.seed)
    if a.vectors:
        cases = curated()
    else:
        cases = []
        for lib, gen in generators.items():
            if not a.only or a.only == lib:
                cases += gen(r, a.n)
        cases += [c for c in curated() if not a.only or c.lib == a.only]
    for i, c in enumerate(cases):
        if not c.fixed_addr:
            c.addr = numbered_mac(vector_mac if a.vectors else b"\xC0\xFF\xEE", i)
    seen = Counter(c.addr for c in cases)
    ours = by_mac(replay([c.event() for c in cases]))
    per = defaultdict(lambda: [0, 0])
    classes = defaultdict(list)
    results = []
    for c in cases:
        exp, units, model = run_library(c)
        bad = compare(c, exp, units, ours.get(c.addr.upper(), []), model)
        if seen[c.addr] > 1:
            bad = []  # a repeated address: not comparable
        per[(c.lib, c.branch)][0] += 1
        if bad:
            per[(c.lib, c.branch)][1] += 1
            for k, why in bad:
                classes[(c.lib, "* " + why[:20] if star_detail and k == "*" else k)].append((c, why))
        results.append((c, exp, units, model, bad))
    if a.vectors:
        vecs = []
        for c, exp, units, model, bad in results:
            if bad:
                print(f"# {c.lib}:{c.name} disagrees: {bad}", file=sys.stderr)
            vecs.append(vector(c, exp, units, model))
        write_vectors(vecs)
        return
    print_lib_summary(per, classes, a.verbose, widths, describe)


# ---------------------------------------------------------------------------- summaries
def print_lib_summary(per, classes, verbose: bool, widths=(15, 35),
                      describe=Advert.describe) -> None:
    """Per library the inputs compared and disagreeing (per branch too with `verbose`), then
    each class of disagreement, largest first, with examples (`describe(case)`). `per`:
    {(lib, branch): [compared, disagreeing]}; `classes`: {(lib, key): [(Advert, why)]}."""
    libs: dict[str, list[int]] = {}
    for (lib, br), (n, b) in sorted(per.items()):
        t = libs.setdefault(lib, [0, 0])
        t[0] += n
        t[1] += b
        if verbose:
            print(f"{lib:{widths[0]}} {br:{widths[1]}} {n:4} compared, {b:3} disagree")
    for lib, (n, b) in libs.items():
        print(f"== {lib}: {n} compared, {b} disagree")
    for (lib, k), lst in sorted(classes.items(), key=lambda x: -len(x[1])):
        print(f"-- {lib} {k}: {len(lst)}")
        for c, why in lst[: 4 if verbose else 2]:
            print(f"   {c.lib}:{c.name} [{c.branch}] {describe(c)}: {why}")


# ---------------------------------------------------------------------------- misc
def rand_bytes(r, n: int) -> bytes:
    """`n` random bytes from the random.Random `r` (one getrandbits(8) each)."""
    return bytes(r.getrandbits(8) for _ in range(n))


def dist_version(dist: str) -> str:
    """The installed version of a distribution, "?" when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"
