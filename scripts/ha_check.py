#!/usr/bin/env python3
"""A real Home Assistant (headless, offline) consumes hci2mqtt's MQTT discovery.

Run through scripts/ha-check (which prepares a venv per release, 2024.3.3 and 2026.11.0, and
builds examples/mqtt_feed); runs with the venv's python, so it checks the release installed
there. Starts its own Mosquitto and Home Assistant on free loopback ports, onboards HA through
the REST API, adds the MQTT broker through the config flow, feeds readings (JSON lines, the
format `hci2mqtt replay` prints) through examples/mqtt_feed -> the MQTT service, then asserts
via /api/states and the websocket registries that every entity appears with the right state,
unit, device_class, entity_category and device. Then, as a flat with two gateways lives:
HA restarts, a gateway restart that hears less (no partial state may reach HA), a second
gateway, HA restarting with both up, SIGKILL of one gateway (no shared entity may turn
unavailable, watched through HA's state_changed events), SIGKILL of both (all unavailable),
and the real binary replaying demo/flat.btsnoop. Finally HA's log must hold no warning or
error about MQTT, our entities or templates.
Exit code 0 = all checks passed.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import aiohttp
import homeassistant.const

HA_VERSION = homeassistant.const.__version__

FEED = sys.argv[1]  # path to the mqtt_feed binary
MOSQUITTO = "/usr/sbin/mosquitto"

READINGS = [
    {"mac": "A4:C1:38:00:00:01", "rssi": -60, "format": "atc1441", "firmware": "ATC (Custom)",
     "model": "LYWSD03MMC", "temperature": 21.5, "battery": 87},
    {"mac": "A4:C1:38:00:00:01", "rssi": -62, "format": "atc1441", "firmware": "ATC (Custom)",
     "model": "LYWSD03MMC", "humidity": 48.2, "voltage": 2.951},
    {"mac": "C4:7C:8D:00:00:02", "rssi": -70, "format": "mibeacon-v5-encrypted",
     "firmware": "Xiaomi (MiBeacon V5 encrypted)", "model": "RTCGQ02LM", "motion": 1,
     "illuminance": 120, "button": "single press"},
    {"mac": "58:2D:34:00:00:03", "rssi": -55, "format": "qingping", "firmware": "Qingping",
     "model": "CGS1", "temperature": 22.1, "humidity": 40.0, "pm2.5": 12, "pm10": 20,
     "co2": 600},
]

# We announce µg/m³ with the micro sign (U+00B5); HA ≥ 2025 shows it with the Greek mu (U+03BC),
# as it does µS/cm.
MICRO = "µ" if int(HA_VERSION.split(".")[0]) < 2025 else "μ"
# unique_id -> (state, unit, device_class, entity_category)
EXPECT = {
    "a4c138000001_temperature": ("21.5", "°C", "temperature", None),
    "a4c138000001_humidity": ("48.2", "%", "humidity", None),
    "a4c138000001_battery": ("87", "%", "battery", None),
    "a4c138000001_voltage": ("2.951", "V", "voltage", "diagnostic"),
    "a4c138000001_rssi_gw1": ("-62", "dBm", "signal_strength", "diagnostic"),
    "c47c8d000002_motion": ("on", None, "motion", None),
    "c47c8d000002_illuminance": ("120", "lx", "illuminance", None),
    "c47c8d000002_button": ("single press", None, None, None),
    "582d34000003_temperature": ("22.1", "°C", "temperature", None),
    "582d34000003_humidity": ("40.0", "%", "humidity", None),
    "582d34000003_pm2_5": ("12", MICRO + "g/m³", "pm25", None),
    "582d34000003_pm10": ("20", MICRO + "g/m³", "pm10", None),
    "582d34000003_co2": ("600", "ppm", "carbon_dioxide", None),
    "c47c8d000009_tracker": ("not_home", None, None, None),
    "hci2mqtt_gw1_status": ("on", None, "connectivity", "diagnostic"),
}


async def snapshot(s, base, token):
    """HA's MQTT entity registry (unique_id -> entry), device registry (id -> device) and
    states (entity_id -> state) at one moment."""
    async with s.ws_connect(f"{base}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        await ws.receive_json()
        await ws.send_json({"id": 1, "type": "config/entity_registry/list"})
        ents = (await ws.receive_json())["result"]
        await ws.send_json({"id": 2, "type": "config/device_registry/list"})
        devs = {d["id"]: d for d in (await ws.receive_json())["result"]}
    reg = {e["unique_id"]: e for e in ents if e["platform"] == "mqtt"}
    async with s.get(f"{base}/api/states", headers={"Authorization": f"Bearer {token}"}) as r:
        states = {st["entity_id"]: st for st in await r.json()}
    return reg, devs, states


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_NEIGHBOUR = "A4:C1:38:99:10:42"  # MHO-C401 whose key is not in demo/flat.toml
# Model per demo MAC (examples/gen_demo.rs simulates these devices; all Xiaomi).
DEMO_MODELS = {
    "A4:C1:38:1E:52:7B": "LYWSD03MMC",
    "A4:C1:38:5C:04:D1": "LYWSD03MMC",
    "E4:AA:EC:61:22:0C": "LYWSD02MMC",
    "58:2D:34:10:5A:3C": "LYWSDCGQ",
    "C4:7C:8D:6A:3E:7A": "HHCCJCY01",
}
# field -> (unit, device_class, state_class, entity_category) as HA 2024.3.3 must show them.
# conductivity has no device_class: HA 2024.3 has none for it (it came with 2024.7). Its unit is
# written with the Greek mu (U+03BC), as HA ≥ 2025 rewrites the micro sign to.
DEMO_FIELDS = {
    "temperature": ("°C", "temperature", "measurement", None),
    "humidity": ("%", "humidity", "measurement", None),
    "battery": ("%", "battery", "measurement", None),
    "moisture": ("%", "moisture", "measurement", None),
    "illuminance": ("lx", "illuminance", "measurement", None),
    "conductivity": ("μS/cm", None, "measurement", None),
}


def devices_by_identifier(devs):
    """Device registry entries keyed by each of their identifiers."""
    return {ident: d for d in devs.values() for _dom, ident in d.get("identifiers", [])}


def m12_of(mac):
    return mac.replace(":", "").lower()


async def wait_for(pred, timeout, s, base, token, step=0.5):
    """Polls snapshot() until pred(reg, devs, states) holds or timeout; returns the last
    snapshot and whether pred held."""
    t0 = time.monotonic()
    while True:
        snap = await snapshot(s, base, token)
        if pred(*snap):
            return snap, True, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return snap, False, time.monotonic() - t0
        await asyncio.sleep(step)


async def demo_phase(s, base, token, work, mport):
    """`hci2mqtt run --adapter replay:demo/flat.btsnoop` (the real binary, gateway gw2, default
    topics) against the broker HA listens to; every configured demo sensor must appear in HA
    with the generator's last value of each field (demo/flat.truth.jsonl)."""
    import tomllib
    print("== phase 8: hci2mqtt run --adapter replay:demo/flat.btsnoop")
    with open(f"{ROOT}/demo/flat.toml", "rb") as f:
        sensors = tomllib.load(f)["sensor"]
    toml = f'[mqtt]\nhost = "127.0.0.1"\nport = {mport}\ngateway = "gw2"\n'
    for sen in sensors:
        toml += "\n[[sensor]]\n" + "".join(f"{k} = {json.dumps(sen[k])}\n"
                                           for k in ("mac", "name", "key") if k in sen)
    cfg = f"{work}/demo.toml"
    fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds keys
    with os.fdopen(fd, "w") as f:
        f.write(toml)
    # The generator's truth: last value of every field per MAC.
    truth = {}
    with open(f"{ROOT}/demo/flat.truth.jsonl") as f:
        for line in f:
            rec = json.loads(line)
            last = truth.setdefault(rec["mac"].upper(), {})
            for k, v in rec.items():
                if k not in ("mac", "packet", "t", "needs_key"):
                    last[k] = v
    configured = {sen["mac"].upper(): sen["name"] for sen in sensors}
    check(DEMO_NEIGHBOUR in truth and DEMO_NEIGHBOUR not in configured,
          f"demo: {DEMO_NEIGHBOUR} is in the capture but has no configured key")
    expect = {}  # unique_id -> (truth value, field)
    for mac, name in configured.items():
        check(mac in truth, f"demo: {name} ({mac}) has truth records")
        for k, v in truth.get(mac, {}).items():
            check(k in DEMO_FIELDS, f"demo: truth field {k!r} of {name} is covered by the check")
            if k in DEMO_FIELDS:
                expect[f"{m12_of(mac)}_{k}"] = (v, k)
    binary = os.environ.get("HCI2MQTT_BIN", f"{ROOT}/target/debug/hci2mqtt")
    t_run = time.monotonic()
    run = subprocess.run([binary, "run", "--adapter", f"replay:{ROOT}/demo/flat.btsnoop", "--config", cfg],
                         capture_output=True, text=True, timeout=120)
    print(f"     hci2mqtt run took {time.monotonic() - t_run:.2f} s, exit {run.returncode}")
    for l in run.stderr.splitlines():
        print("     hci2mqtt:", l)
    check(run.returncode == 0, f"hci2mqtt run --adapter replay: exits 0 ({run.returncode})")
    check("warning" not in run.stderr, "hci2mqtt run printed no warning")

    # It exited: its last message is `offline` on hci2mqtt/gw2/status, and gw1 was killed, so
    # every entity exists but is unavailable.
    def all_there(reg, devs, states, want_state=None):
        for uid, (v, _) in expect.items():
            e = reg.get(uid)
            if e is None or e["entity_id"] not in states:
                return False
            st = states[e["entity_id"]]["state"]
            if want_state is not None and st != want_state(v):
                return False
        return True

    # The gateway's own Status entity reads hci2mqtt/gw2/status without availability: "off" proves
    # HA received the `offline` (an entity that never got any availability is unavailable too).
    def gw_status(reg, states):
        e = reg.get("hci2mqtt_gw2_status")
        return states.get(e["entity_id"], {}).get("state") if e else None

    (reg, devs, states), ok, dt = await wait_for(
        lambda r, d, st: all_there(r, d, st, lambda v: "unavailable") and gw_status(r, st) == "off",
        60, s, base, token)
    print(f"     entities present and unavailable after {dt:.1f} s")
    check(gw_status(reg, states) == "off", f"gateway gw2 Status after exit: {gw_status(reg, states)!r} == 'off'")
    for uid in expect:
        e = reg.get(uid)
        st = states.get(e["entity_id"], {}).get("state") if e else None
        check(st == "unavailable", f"{uid}: after the publisher exited (status offline): {st!r} == 'unavailable'")

    # A gateway that is up: retained `online` on the status topic.
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mport), "-r", "-q", "1",
                    "-t", "hci2mqtt/gw2/status", "-m", "online"], check=True, timeout=30)
    (reg, devs, states), ok, dt = await wait_for(
        lambda r, d, st: all_there(r, d, st, lambda v: str(v)), 60, s, base, token)
    print(f"     states settled {dt:.1f} s after `online` ({'all' if ok else 'NOT all'} as expected)")
    check(gw_status(reg, states) == "on", f"gateway gw2 Status after `online`: {gw_status(reg, states)!r} == 'on'")
    for uid, (v, k) in expect.items():
        e = reg.get(uid)
        if e is None:
            check(False, f"{uid}: entity exists")
            continue
        st = states.get(e["entity_id"], {})
        a = st.get("attributes", {})
        unit, dclass, sclass, cat = DEMO_FIELDS[k]
        check(st.get("state") == str(v), f"{uid} ({e['entity_id']}): state {st.get('state')!r} == truth {str(v)!r}")
        check(a.get("unit_of_measurement") == unit, f"{uid}: unit {a.get('unit_of_measurement')!r} == {unit!r}")
        check(a.get("device_class") == dclass, f"{uid}: device_class {a.get('device_class')!r} == {dclass!r}")
        check(a.get("state_class") == sclass, f"{uid}: state_class {a.get('state_class')!r} == {sclass!r}")
        check(e.get("entity_category") == cat, f"{uid}: entity_category {e.get('entity_category')!r} == {cat!r}")

    by_ident = devices_by_identifier(devs)
    gw = by_ident.get("hci2mqtt_gw2")
    check(gw is not None, "gateway device hci2mqtt_gw2 exists")
    for mac, name in configured.items():
        m12 = m12_of(mac)
        d = by_ident.get(f"hci2mqtt_{m12}")
        if d is None:
            check(False, f"{name}: device hci2mqtt_{m12} exists")
            continue
        check(d.get("name") == name, f"{m12}: device name {d.get('name')!r} == {name!r}")
        model = DEMO_MODELS.get(mac)
        check(d.get("model") == model and d.get("manufacturer") == "Xiaomi",
              f"{m12}: model/manufacturer {d.get('model')}/{d.get('manufacturer')} == {model}/Xiaomi")
        check(bool(d.get("sw_version")), f"{m12}: firmware (sw_version) {d.get('sw_version')!r} shown")
        check(["mac", mac.lower()] in [list(c) for c in d.get("connections", [])], f"{m12}: connection mac {mac.lower()}")
        check(d.get("via_device_id") is None, f"{m12}: no via_device (several gateways hear it)")
        mine = [e for e in reg.values() if e["device_id"] == d["id"]]
        classes = [states.get(e["entity_id"], {}).get("attributes", {}).get("device_class") for e in mine]
        check(classes.count("temperature") == 1 and classes.count("humidity") <= 1
              and (classes.count("humidity") == 1) == ("humidity" in truth.get(mac, {})),
              f"{m12}: exactly one temperature entity and one humidity entity if it measures humidity "
              f"(Domoticz Temp+Hum) ({classes})")
        # Numbers as a person would write them: no binary float noise (2.7760000000000002).
        for e in mine:
            sv = states.get(e["entity_id"], {}).get("state", "")
            try:
                float(sv)
            except ValueError:
                continue
            decimals = len(sv.split(".", 1)[1]) if "." in sv and "e" not in sv.lower() else 0
            check(decimals <= 6, f"{e['unique_id']}: state {sv!r} has at most 6 decimals")
        print(f"     {m12} ({name}): {len(mine)} entities")
    nb = m12_of(DEMO_NEIGHBOUR)
    stray = [u for u in reg if u.startswith(nb)]
    check(not stray and f"hci2mqtt_{nb}" not in by_ident,
          f"{DEMO_NEIGHBOUR} (no key configured) has no entities and no device ({stray})")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


# Readings of a gateway restarted where it hears less: one field of each sensor (its states
# must still carry every other field: merged from the retained states).
RESTART_READINGS = [
    {"mac": "A4:C1:38:00:00:01", "rssi": -62, "format": "atc1441", "firmware": "ATC (Custom)",
     "model": "LYWSD03MMC", "humidity": 48.2},
    {"mac": "C4:7C:8D:00:00:02", "rssi": -70, "format": "mibeacon-v5-encrypted",
     "firmware": "Xiaomi (MiBeacon V5 encrypted)", "model": "RTCGQ02LM", "motion": 1},
    {"mac": "58:2D:34:00:00:03", "rssi": -55, "format": "qingping", "firmware": "Qingping",
     "model": "CGS1", "co2": 600},
]
# A second gateway in another room: hears D1 (temperature only, weaker) and nothing else.
GW2_READINGS = [
    {"mac": "A4:C1:38:00:00:01", "rssi": -75, "format": "atc1441", "firmware": "ATC (Custom)",
     "model": "LYWSD03MMC", "temperature": 21.5},
]
# Shared entities (every gateway announces the same config): must stay available while any
# gateway runs. The per-gateway RSSI and Status entities are not shared.
SHARED = [u for u in EXPECT if "_rssi_" not in u and not u.startswith("hci2mqtt_")]


def feeder_config(work, mport, gw):
    path = f"{work}/{gw}.toml"
    with open(path, "w") as f:
        f.write(f"""[mqtt]
host = "127.0.0.1"
port = {mport}
gateway = "{gw}"
client_id = "check-{gw}"

[[tracker]]
mac = "C4:7C:8D:00:00:09"
name = "Keys"
timeout = 2
""")
    return path


def start_feeder(work, mport, gw, readings):
    """examples/mqtt_feed as gateway `gw`, fed `readings`; waits until it has published them."""
    p = subprocess.Popen([FEED, feeder_config(work, mport, gw), "--linger", "600"],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdin.write("".join(json.dumps(r) + "\n" for r in readings))
    p.stdin.close()
    for line in p.stderr:
        if "published" in line:
            break
    return p


async def states_now(s, base, h):
    try:
        async with s.get(f"{base}/api/states", headers=h) as r:
            if r.status != 200:
                return None
            return {st["entity_id"]: st for st in await r.json()}
    except aiohttp.ClientError:
        return None


async def wait_states(s, base, h, reg, want, timeout):
    """Polls /api/states until want(uid -> state) holds for every uid in `want`."""
    t0 = time.monotonic()
    now = {}
    while time.monotonic() - t0 < timeout:
        now = await states_now(s, base, h) or {}
        if all(u in reg and now.get(reg[u]["entity_id"], {}).get("state") == v for u, v in want.items()):
            return True, time.monotonic() - t0, now
        await asyncio.sleep(0.3)
    return False, time.monotonic() - t0, now


class StateWatch:
    """HA's state_changed events (websocket subscribe_events), collected in the background."""

    def __init__(self, s, base, token):
        self.s, self.base, self.token = s, base, token
        self.events = []
        self.task = None
        self.ready = asyncio.Event()

    async def run(self):
        async with self.s.ws_connect(f"{self.base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            await ws.receive_json()
            await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
            await ws.receive_json()
            self.ready.set()
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                ev = json.loads(msg.data).get("event", {}).get("data", {})
                new = ev.get("new_state") or {}
                self.events.append((time.monotonic(), ev.get("entity_id"), new.get("state")))

    async def __aenter__(self):
        self.task = asyncio.create_task(self.run())
        await asyncio.wait_for(self.ready.wait(), 30)
        return self

    async def __aexit__(self, *exc):
        self.task.cancel()
        try:
            await self.task
        except (asyncio.CancelledError, Exception):
            pass


async def restart_ha(procs, hass, cfgdir, logname):
    hass_proc = procs[1]
    hass_proc.terminate()
    hass_proc.wait(timeout=60)
    procs[1] = subprocess.Popen([hass, "-c", cfgdir, "--skip-pip", "--log-file", f"{cfgdir}/{logname}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def mqtt_entry(s, base, h, mport):
    """The MQTT config entry through the config flow (2026.x wants an `other_settings`
    section; the 2024.3 form has no such key)."""
    # HA 2026 answers "Invalid handler specified" until it has loaded the config flows.
    for _ in range(120):
        async with s.post(f"{base}/api/config/config_entries/flow", json={"handler": "mqtt"}, headers=h) as r:
            flow = await r.json()
        if "flow_id" in flow:
            break
        await asyncio.sleep(0.5)
    if "flow_id" not in flow:
        raise SystemExit(f"MQTT config flow did not start: {flow}")
    form = {"broker": "127.0.0.1", "port": mport}
    names = [f.get("name") for f in flow.get("data_schema", [])]
    if "other_settings" in names:
        form["other_settings"] = {"set_client_cert": False, "set_ca_cert": "off", "transport": "tcp"}
    async with s.post(f"{base}/api/config/config_entries/flow/{flow['flow_id']}", json=form, headers=h) as r:
        res = await r.json()
    check(res.get("type") == "create_entry", f"MQTT config entry created ({res.get('type')}: {res.get('errors')})")


async def main():
    print(f"== Home Assistant {HA_VERSION} (Python {sys.version.split()[0]})")
    t_all = time.monotonic()
    work = tempfile.mkdtemp(prefix="hci2mqtt-ha-")
    mport, hport = free_port(), free_port()
    with open(f"{work}/mosquitto.conf", "w") as f:
        f.write(f"listener {mport} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        if os.geteuid() == 0:
            f.write("user root\n")
    procs = []
    feeders = {}
    try:
        procs.append(subprocess.Popen([MOSQUITTO, "-c", f"{work}/mosquitto.conf"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        cfgdir = f"{work}/ha"
        os.makedirs(cfgdir)
        with open(f"{cfgdir}/configuration.yaml", "w") as f:
            f.write(f"""homeassistant:
  name: hci2mqtt-check
  latitude: 52.5
  longitude: 13.4
  elevation: 30
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: DE
  internal_url: "http://127.0.0.1:{hport}"
http:
  server_host: 127.0.0.1
  server_port: {hport}
api:
logger:
  default: info
""")
        hass = os.path.join(os.path.dirname(sys.executable), "hass")
        t_start = time.monotonic()
        procs.append(subprocess.Popen([hass, "-c", cfgdir, "--skip-pip", "--log-file", f"{cfgdir}/ha.log"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{hport}"
        client_id = f"{base}/"
        async with aiohttp.ClientSession() as s:
            for _ in range(1200):
                try:
                    async with s.get(f"{base}/api/onboarding") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("HA HTTP API never came up")
            print(f"HA API up after {time.monotonic() - t_start:.1f} s")
            async with s.post(f"{base}/api/onboarding/users", json={
                    "client_id": client_id, "name": "Check", "username": "check",
                    "password": "check-pass-1", "language": "en"}) as r:
                code = (await r.json())["auth_code"]
            async with s.post(f"{base}/auth/token", data={
                    "grant_type": "authorization_code", "code": code, "client_id": client_id}) as r:
                token = (await r.json())["access_token"]
            h = {"Authorization": f"Bearer {token}"}
            await mqtt_entry(s, base, h, mport)

            # Our publisher: gateway gw1, a tracker that is never seen (timeout 2 s → not_home).
            print("== phase 1: gateway gw1 (examples/mqtt_feed)")
            t0 = time.monotonic()
            feeders["gw1"] = start_feeder(work, mport, "gw1", READINGS)
            # Configs are retained: HA picks them up whenever its MQTT client subscribes.
            states = {}
            reg = {}
            devs = {}
            while time.monotonic() - t0 < 90:
                await asyncio.sleep(1)
                reg, devs, states = await snapshot(s, base, token)
                ready = all(u in reg and reg[u]["entity_id"] in states
                            and states[reg[u]["entity_id"]]["state"] == exp[0]
                            for u, exp in EXPECT.items())
                if ready:
                    break
            print(f"entities settled {time.monotonic() - t0:.1f} s after the feeder started")
            for uid, (state, unit, dclass, cat) in EXPECT.items():
                e = reg.get(uid)
                if e is None:
                    check(False, f"{uid}: entity exists")
                    continue
                st = states.get(e["entity_id"], {})
                a = st.get("attributes", {})
                check(st.get("state") == state, f"{uid} ({e['entity_id']}): state {st.get('state')!r} == {state!r}")
                check(a.get("unit_of_measurement") == unit, f"{uid}: unit {a.get('unit_of_measurement')!r} == {unit!r}")
                check(a.get("device_class") == dclass, f"{uid}: device_class {a.get('device_class')!r} == {dclass!r}")
                check(e.get("entity_category") == cat, f"{uid}: entity_category {e.get('entity_category')!r} == {cat!r}")
            # Devices: one per sensor, with MAC connection, model, manufacturer; no via_device
            # (several gateways hear one sensor; the config is the same from each).
            by_ident = devices_by_identifier(devs)
            gw = by_ident.get("hci2mqtt_gw1")
            check(gw is not None, "gateway device hci2mqtt_gw1 exists")
            for m12, model, manuf in [("a4c138000001", "LYWSD03MMC", "Xiaomi"), ("c47c8d000002", "RTCGQ02LM", "Xiaomi"),
                                      ("582d34000003", "CGS1", "Qingping")]:
                d = by_ident.get(f"hci2mqtt_{m12}")
                if d is None:
                    check(False, f"device hci2mqtt_{m12} exists")
                    continue
                mac = ":".join(m12[i:i + 2] for i in range(0, 12, 2))
                check(["mac", mac] in [list(c) for c in d.get("connections", [])], f"{m12}: connection mac {mac}")
                check(d.get("model") == model and d.get("manufacturer") == manuf, f"{m12}: model/manufacturer {d.get('model')}/{d.get('manufacturer')}")
                check(d.get("via_device_id") is None, f"{m12}: no via_device")
                n_ent = sum(1 for e in reg.values() if e["device_id"] == d["id"])
                print(f"     {m12}: {n_ent} entities on one device")
            # Temp+Hum: exactly one temperature and one humidity entity per device.
            for m12 in ["a4c138000001", "582d34000003"]:
                d = by_ident.get(f"hci2mqtt_{m12}")
                if not d:
                    continue
                classes = [states.get(e["entity_id"], {}).get("attributes", {}).get("device_class")
                           for e in reg.values() if e["device_id"] == d["id"]]
                check(classes.count("temperature") == 1 and classes.count("humidity") == 1,
                      f"{m12}: one temperature + one humidity entity ({classes})")
            want = {u: exp[0] for u, exp in EXPECT.items()}

            # HA restart: retained configs and states bring every entity back, and HA's birth
            # message makes the gateway re-send its configs and states.
            print("== phase 2: HA restart")
            t_restart = time.monotonic()
            await restart_ha(procs, hass, cfgdir, "ha2.log")
            ok, dt, _ = await wait_states(s, base, h, reg, want, 90)
            check(ok, f"after an HA restart every entity is back with its state ({dt:.1f} s)")

            # Gateway restart where it hears less: no partial state may reach HA.
            print("== phase 3: gateway gw1 restarts and hears one field of each sensor")
            feeders["gw1"].terminate()
            feeders["gw1"].wait(timeout=30)
            feeders["gw1"] = start_feeder(work, mport, "gw1", RESTART_READINGS)
            ok, dt, now = await wait_states(s, base, h, reg, want, 60)
            check(ok, f"after a gateway restart every entity has its full state again ({dt:.1f} s)")

            # A second gateway that hears D1 only.
            print("== phase 4: a second gateway gw2")
            feeders["gw2"] = start_feeder(work, mport, "gw2", GW2_READINGS)
            want2 = dict(want, a4c138000001_rssi_gw2="-75", hci2mqtt_gw2_status="on")
            t0 = time.monotonic()
            ok = False
            while time.monotonic() - t0 < 60 and not ok:
                await asyncio.sleep(0.5)
                reg, devs, states = await snapshot(s, base, token)
                ok = all(u in reg and states.get(reg[u]["entity_id"], {}).get("state") == v for u, v in want2.items())
            check(ok, f"second gateway: its RSSI and Status entities appear, every state unchanged ({time.monotonic() - t0:.1f} s)")
            for u, v in want2.items():
                st = states.get(reg[u]["entity_id"], {}).get("state") if u in reg else None
                if st != v:
                    check(False, f"{u}: {st!r} == {v!r}")
            d1 = devices_by_identifier(devs).get("hci2mqtt_a4c138000001")
            if d1:
                rssi = sorted(e["unique_id"] for e in reg.values() if e["device_id"] == d1["id"] and "rssi" in e["unique_id"])
                check(rssi == ["a4c138000001_rssi_gw1", "a4c138000001_rssi_gw2"],
                      f"one RSSI entity per gateway, no shared one ({rssi})")
                check(d1.get("via_device_id") is None, "D1 heard by two gateways: no via_device")

            # HA restarts while both gateways run (the issue: every sensor was unavailable).
            print("== phase 5: HA restart with two gateways")
            await restart_ha(procs, hass, cfgdir, "ha3.log")
            ok, dt, now = await wait_states(s, base, h, reg, want2, 90)
            check(ok, f"HA restart with two gateways: every entity back, available, with its state ({dt:.1f} s)")
            if not ok:
                for u, v in want2.items():
                    st = now.get(reg[u]["entity_id"], {}).get("state") if u in reg else None
                    if st != v:
                        print(f"     {u}: {st!r} != {v!r}")
            await asyncio.sleep(3)  # both gateways' re-sent configs and states are processed
            ok, dt, now = await wait_states(s, base, h, reg, want2, 10)
            check(ok, "…and still so after both gateways answered HA's online")

            # SIGKILL of gw1: gw2 runs on, so no shared entity may blink unavailable.
            print("== phase 6: SIGKILL gw1")
            ids = {reg[u]["entity_id"]: u for u in SHARED if u in reg}
            async with StateWatch(s, base, token) as watch:
                t_kill = time.monotonic()
                feeders["gw1"].kill()
                feeders["gw1"].wait()
                ok, dt, now = await wait_states(s, base, h, reg, {"hci2mqtt_gw1_status": "off"}, 30)
                check(ok, f"gw1's Status turns off after SIGKILL ({dt:.1f} s, its will)")
                await asyncio.sleep(3)
            blinks = [(round(t - t_kill, 2), ids[e], st) for t, e, st in watch.events if e in ids and st == "unavailable"]
            check(not blinks, f"no shared entity unavailable while gw2 runs ({len(watch.events)} state changes seen, blinks: {blinks})")
            now = await states_now(s, base, h) or {}
            for u in SHARED:
                if u in reg:
                    st = now.get(reg[u]["entity_id"], {}).get("state")
                    check(st == want[u], f"{u} after gw1's SIGKILL: {st!r} == {want[u]!r}")
            st = now.get(reg["a4c138000001_rssi_gw1"]["entity_id"], {}).get("state")
            check(st == "unavailable", f"gw1's own RSSI entity unavailable with gw1 dead ({st!r})")

            # SIGKILL of gw2 too: nothing hears the sensors any more.
            print("== phase 7: SIGKILL gw2")
            feeders["gw2"].kill()
            feeders["gw2"].wait()
            ok, dt, now = await wait_states(s, base, h, reg, {u: "unavailable" for u in SHARED}, 30)
            check(ok, f"both gateways dead: every shared entity unavailable ({dt:.1f} s)")

            # Phase 8: the real binary decodes the demo capture and publishes.
            await demo_phase(s, base, token, work, mport)
        log = []
        for name in ("ha.log", "ha2.log", "ha3.log"):
            if os.path.exists(f"{cfgdir}/{name}"):
                log += open(f"{cfgdir}/{name}", encoding="utf-8", errors="replace").read().splitlines()
        ours = ("hci2mqtt_", "hci2mqtt/", "a4c138", "c47c8d", "582d34", "A4:C1:38", "value_json")
        bad = [l for l in log if (" WARNING " in l or " ERROR " in l)
               and ("components.mqtt" in l or "components.sensor" in l or "components.binary_sensor" in l
                    or "components.device_tracker" in l or "helpers.template" in l
                    or any(o in l for o in ours))]
        for l in bad:
            print("     HA log:", l)
        check(not bad, f"no MQTT/sensor/template warning or error about our entities in HA's log ({len(bad)} found)")
    finally:
        for p in list(feeders.values()) + list(reversed(procs)):
            p.terminate()
        for p in list(feeders.values()) + procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    print(f"HA {HA_VERSION}: {len(failures)} failure(s), {time.monotonic() - t_all:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
