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
                async with s.ws_connect(f"{base}/api/websocket") as ws:
                    await ws.receive_json()
                    await ws.send_json({"type": "auth", "access_token": token})
                    await ws.receive_json()
                    await ws.send_json({"id": 1, "type": "config/entity_registry/list"})
                    ents = (await ws.receive_json())["result"]
                    await ws.send_json({"id": 2, "type": "config/device_registry/list"})
                    devs = {d["id"]: d for d in (await ws.receive_json())["result"]}
                reg = {e["unique_id"]: e for e in ents if e["platform"] == "mqtt"}
                async with s.get(f"{base}/api/states", headers=h) as r:
                    states = {st["entity_id"]: st for st in await r.json()}
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
            by_ident = {}
            for d in devs.values():
                for dom, ident in d.get("identifiers", []):
                    by_ident[ident] = d
            gw = by_ident.get("hci2mqtt_gw1")
            check(gw is not None, "gateway device hci2mqtt_gw1 exists")
            for m12, model, manuf in [("a4c138000001", "LYWSD03MMC", "ATC"), ("c47c8d000002", "RTCGQ02LM", "Xiaomi"),
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
