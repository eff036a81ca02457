#!/bin/sh
# Installs hci2mqtt (run as root on the Pi; idempotent):
#   /usr/local/bin/hci2mqtt          the binary (0755), with file capabilities
#                                    cap_net_raw,cap_net_admin+ep (setcap) - see capabilities.md
#   /usr/local/bin/hci2mqtt-loop     restart wrapper for cron (0755)
#   /etc/hci2mqtt.toml               from hci2mqtt.example.toml, mode 0600, owner hci2mqtt;
#                                    an existing file is never overwritten
#   user/group hci2mqtt              system user the service runs as
#   one launcher (--with): systemd unit (default), supervisor program, or cron @reboot line
#   /usr/local/share/doc/hci2mqtt/   capabilities.md
#
#   install.sh [--root DIR] [--bin FILE] [--with systemd|supervisor|cron|none]
#     --root DIR   install into DIR instead of / (also: DESTDIR=DIR); no user is created, no
#                  ownership changed and no service manager touched there
#     --bin FILE   the binary (default: ./hci2mqtt beside this script, else the armv6 build
#                  target/arm-unknown-linux-musleabihf/release/hci2mqtt of this checkout)
set -eu

KIT=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$KIT/.." && pwd)
ROOT=${DESTDIR:-}
BIN=
WITH=systemd
USER_NAME=hci2mqtt

die() { echo "install.sh: error: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift ;;
    --root=*) ROOT=${1#--root=} ;;
    --bin) [ $# -ge 2 ] || die "--bin needs a file"; BIN=$2; shift ;;
    --bin=*) BIN=${1#--bin=} ;;
    --with) [ $# -ge 2 ] || die "--with needs systemd, supervisor, cron or none"; WITH=$2; shift ;;
    --with=*) WITH=${1#--with=} ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done
case "$WITH" in systemd | supervisor | cron | none) ;; *) die "--with $WITH: expected systemd, supervisor, cron or none" ;; esac
ROOT=${ROOT%/}
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" = / ] && ROOT=
fi
REAL=$([ -z "$ROOT" ] && echo 1 || echo 0)   # installing into the running system?
IS_ROOT=$([ "$(id -u)" -eq 0 ] && echo 1 || echo 0)
[ "$REAL" = 0 ] || [ "$IS_ROOT" = 1 ] || die "installing into / needs root (or use --root DIR)"

# --- the binary -------------------------------------------------------------------------------
if [ -z "$BIN" ]; then
  for c in "$KIT/hci2mqtt" "$REPO/target/arm-unknown-linux-musleabihf/release/hci2mqtt"; do
    if [ -f "$c" ]; then BIN=$c; break; fi
  done
  [ -n "$BIN" ] || die "no binary found; build it with scripts/build-armv6 or pass --bin FILE"
fi
[ -f "$BIN" ] || die "--bin $BIN: no such file"
if VERSION=$("$BIN" --version 2>/dev/null); then
  say "binary: $VERSION"
elif [ "$REAL" = 1 ]; then
  die "$BIN does not run on this machine (wrong architecture? the Pi Zero needs the armv6 build)"
else
  say "binary: $BIN (not runnable here; fine for a root that is meant for another machine)"
fi

EXAMPLE=
for c in "$KIT/hci2mqtt.example.toml" "$REPO/hci2mqtt.example.toml"; do
  if [ -f "$c" ]; then EXAMPLE=$c; break; fi
done
[ -n "$EXAMPLE" ] || die "hci2mqtt.example.toml not found beside $KIT"

install -d -m 0755 "$ROOT/usr/local/bin"
install -m 0755 "$BIN" "$ROOT/usr/local/bin/hci2mqtt"
install -m 0755 "$KIT/hci2mqtt-loop" "$ROOT/usr/local/bin/hci2mqtt-loop"
say "installed $ROOT/usr/local/bin/hci2mqtt and hci2mqtt-loop (0755)"

# --- capabilities -----------------------------------------------------------------------------
SETCAP_LINE="setcap cap_net_raw,cap_net_admin+ep /usr/local/bin/hci2mqtt"
if [ "$IS_ROOT" != 1 ]; then
  say "setcap skipped: not root. As root run: $SETCAP_LINE"
elif ! command -v setcap >/dev/null 2>&1; then
  say "setcap skipped: setcap not found (apt-get install libcap2-bin). Then run: $SETCAP_LINE"
elif setcap cap_net_raw,cap_net_admin+ep "$ROOT/usr/local/bin/hci2mqtt"; then
  say "file capabilities set: $(getcap "$ROOT/usr/local/bin/hci2mqtt" 2>/dev/null || echo cap_net_raw,cap_net_admin+ep)"
else
  say "setcap failed (a file system without extended attributes?). Run on the target: $SETCAP_LINE"
fi

# --- user -------------------------------------------------------------------------------------
HAVE_USER=0
if [ "$REAL" = 1 ]; then
  if id "$USER_NAME" >/dev/null 2>&1; then
    HAVE_USER=1
  elif command -v useradd >/dev/null 2>&1; then
    NOLOGIN=/usr/sbin/nologin
    [ -x "$NOLOGIN" ] || NOLOGIN=/bin/false
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell "$NOLOGIN" "$USER_NAME"
    HAVE_USER=1
    say "created system user $USER_NAME"
  else
    say "no useradd: create a system user $USER_NAME yourself (adduser --system --group $USER_NAME)"
  fi
else
  say "user $USER_NAME: not created in $ROOT (create it on the target: useradd --system --user-group $USER_NAME)"
fi

# --- config -----------------------------------------------------------------------------------
CONF=$ROOT/etc/hci2mqtt.toml
install -d -m 0755 "$ROOT/etc"
if [ -e "$CONF" ]; then
  say "kept existing $CONF"
  case "$(stat -c %a "$CONF")" in
    ?00) ;;
    *) say "warning: $CONF is readable by others (mode $(stat -c %a "$CONF")); it may hold keys: chmod 600 $CONF" ;;
  esac
else
  install -m 0600 "$EXAMPLE" "$CONF"
  say "created $CONF (0600) from $(basename "$EXAMPLE"): set [mqtt] and your [[sensor]] keys"
fi
if [ "$HAVE_USER" = 1 ]; then
  chown "$USER_NAME:$USER_NAME" "$CONF"
fi

DOC=$ROOT/usr/local/share/doc/hci2mqtt
install -d -m 0755 "$DOC"
for f in "$REPO/capabilities.md" "$KIT/capabilities.md"; do
  if [ -f "$f" ]; then install -m 0644 "$f" "$DOC/capabilities.md"; break; fi
done

# --- launcher ---------------------------------------------------------------------------------
case "$WITH" in
  systemd)
    install -d -m 0755 "$ROOT/etc/systemd/system"
    install -m 0644 "$KIT/hci2mqtt.service" "$ROOT/etc/systemd/system/hci2mqtt.service"
    say "installed $ROOT/etc/systemd/system/hci2mqtt.service"
    if [ "$REAL" = 1 ] && [ -d /run/systemd/system ]; then
      systemctl daemon-reload
      say "start it with: systemctl enable --now hci2mqtt"
    fi
    ;;
  supervisor)
    install -d -m 0755 "$ROOT/etc/supervisor/conf.d"
    install -m 0644 "$KIT/supervisor-hci2mqtt.conf" "$ROOT/etc/supervisor/conf.d/hci2mqtt.conf"
    install -d -m 0755 "$ROOT/var/log"
    say "installed $ROOT/etc/supervisor/conf.d/hci2mqtt.conf; start it with: supervisorctl reread && supervisorctl update"
    ;;
  cron)
    install -d -m 0755 "$ROOT/etc/cron.d"
    install -m 0644 "$KIT/hci2mqtt.cron" "$ROOT/etc/cron.d/hci2mqtt"
    install -d -m 0750 "$ROOT/var/log/hci2mqtt"
    [ "$HAVE_USER" = 1 ] && chown "$USER_NAME:$USER_NAME" "$ROOT/var/log/hci2mqtt"
    say "installed $ROOT/etc/cron.d/hci2mqtt (@reboot, via hci2mqtt-loop; log in /var/log/hci2mqtt/)"
    ;;
  none) ;;
esac
say "done"
