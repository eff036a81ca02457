#!/usr/bin/env python3
"""A real Home Assistant (2024.3.3, headless, offline) consumes hci2mqtt's MQTT discovery.

Run through scripts/ha-check (which prepares the venv and builds examples/mqtt_feed).
Starts its own Mosquitto and Home Assistant on free loopback ports, onboards HA through the
REST API, adds the MQTT broker through the config flow, feeds readings (JSON lines, the format
`hci2mqtt replay` prints) through examples/mqtt_feed -> the MQTT service, then asserts via
/api/states and the websocket registries that every entity appears with the right state,
unit, device_class, entity_category and device, and that HA's log has no MQTT/sensor warning.
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

# unique_id -> (state, unit, device_class, entity_category)
EXPECT = {
    "a4c138000001_temperature": ("21.5", "°C", "temperature", None),
    "a4c138000001_humidity": ("48.2", "%", "humidity", None),
    "a4c138000001_battery": ("87", "%", "battery", None),
    "a4c138000001_voltage": ("2.951", "V", "voltage", "diagnostic"),
    "a4c138000001_rssi": ("-62", "dBm", "signal_strength", "diagnostic"),
    "a4c138000001_rssi_gw1": ("-62", "dBm", "signal_strength", "diagnostic"),
    "c47c8d000002_motion": ("on", None, "motion", None),
    "c47c8d000002_illuminance": ("120", "lx", "illuminance", None),
    "c47c8d000002_button": ("single press", None, None, None),
    "582d34000003_temperature": ("22.1", "°C", "temperature", None),
    "582d34000003_humidity": ("40.0", "%", "humidity", None),
    "582d34000003_pm2_5": ("12", "µg/m³", "pm25", None),
    "582d34000003_pm10": ("20", "µg/m³", "pm10", None),
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
    print("== phase 2: hci2mqtt run --adapter replay:demo/flat.btsnoop")
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

    # It exited: its last message is `offline` on hci2mqtt/status, so every entity exists but is
    # unavailable.
    def all_there(reg, devs, states, want_state=None):
        for uid, (v, _) in expect.items():
            e = reg.get(uid)
            if e is None or e["entity_id"] not in states:
                return False
            st = states[e["entity_id"]]["state"]
            if want_state is not None and st != want_state(v):
                return False
        return True

    # The gateway's own Status entity reads hci2mqtt/status without availability: "off" proves
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
                    "-t", "hci2mqtt/status", "-m", "online"], check=True, timeout=30)
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
        check(gw is not None and d.get("via_device_id") == gw["id"], f"{m12}: via_device = gateway gw2")
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


async def main():
    work = tempfile.mkdtemp(prefix="hci2mqtt-ha-")
    mport, hport = free_port(), free_port()
    with open(f"{work}/mosquitto.conf", "w") as f:
        f.write(f"listener {mport} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        if os.geteuid() == 0:
            f.write("user root\n")
    procs = []
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
            for _ in range(600):
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
            async with s.post(f"{base}/api/config/config_entries/flow", json={"handler": "mqtt"}, headers=h) as r:
                flow = await r.json()
            async with s.post(f"{base}/api/config/config_entries/flow/{flow['flow_id']}",
                              json={"broker": "127.0.0.1", "port": mport}, headers=h) as r:
                res = await r.json()
            check(res.get("type") == "create_entry", f"MQTT config entry created ({res.get('type')})")

            # Our publisher: gateway gw1, a tracker that is never seen (timeout 2 s → not_home).
            with open(f"{work}/hci2mqtt.toml", "w") as f:
                f.write(f"""[mqtt]
host = "127.0.0.1"
port = {mport}
gateway = "gw1"

[[tracker]]
mac = "C4:7C:8D:00:00:09"
name = "Keys"
timeout = 2
""")
            feed = subprocess.Popen([FEED, f"{work}/hci2mqtt.toml", "--linger", "600"],
                                    stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(feed)
            feed.stdin.write("".join(json.dumps(r) + "\n" for r in READINGS))
            feed.stdin.close()
            # Configs are retained: HA picks them up whenever its MQTT client subscribes.
            states = {}
            reg = {}
            devs = {}
            t0 = time.monotonic()
            while time.monotonic() - t0 < 60:
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
            # Devices: one per sensor, with MAC connection, model, manufacturer, via the gateway.
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
                check(gw is not None and d.get("via_device_id") == gw["id"], f"{m12}: via_device = gateway")
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
            # HA restart: retained configs and states bring every entity back, and HA's birth
            # message makes the gateway re-send its configs.
            hass_proc = procs[1]
            hass_proc.terminate()
            hass_proc.wait(timeout=30)
            t_restart = time.monotonic()
            procs[1] = subprocess.Popen([hass, "-c", cfgdir, "--skip-pip", "--log-file", f"{cfgdir}/ha2.log"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            back = False
            while time.monotonic() - t_restart < 60 and not back:
                await asyncio.sleep(0.5)
                try:
                    async with s.get(f"{base}/api/states", headers=h) as r:
                        if r.status != 200:
                            continue
                        now_states = {st["entity_id"]: st for st in await r.json()}
                except aiohttp.ClientError:
                    continue
                back = all(now_states.get(reg[u]["entity_id"], {}).get("state") == exp[0]
                           for u, exp in EXPECT.items() if u in reg)
            check(back, f"after an HA restart every entity is back with its state "
                        f"({time.monotonic() - t_restart:.1f} s)")
            # Availability: feeder killed → entities unavailable (LWT offline).
            feed.kill()
            feed.wait()
            uid = "a4c138000001_temperature"
            ok = False
            for _ in range(50):
                await asyncio.sleep(0.1)
                async with s.get(f"{base}/api/states/{reg[uid]['entity_id']}", headers=h) as r:
                    if (await r.json()).get("state") == "unavailable":
                        ok = True
                        break
            check(ok, "kill -9 of the publisher → entities unavailable (LWT)")
            # Phase 2: the real binary decodes the demo capture and publishes.
            await demo_phase(s, base, token, work, mport)
        log = []
        for name in ("ha.log", "ha2.log"):
            if os.path.exists(f"{cfgdir}/{name}"):
                log += open(f"{cfgdir}/{name}", encoding="utf-8", errors="replace").read().splitlines()
        bad = [l for l in log if (" WARNING " in l or " ERROR " in l)
               and ("components.mqtt" in l or "components.sensor" in l or "components.binary_sensor" in l
                    or "components.device_tracker" in l or "helpers.template" in l)]
        for l in bad:
            print("     HA log:", l)
        check(not bad, f"no MQTT/sensor warning or error in HA's log ({len(bad)} found)")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
