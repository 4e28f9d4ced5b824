#!/usr/bin/env bash
# Installs and starts what the tests need beyond Python: Chromium for the browser tests, Mosquitto
# for door controllers, osmium-tool and tilemaker for `shelterwatch basemap build`, nginx for the
# tests of the nodes behind deploy/nginx/ (the tests run their own nginx; the system service is
# never started here), and (with --postgres) a PostgreSQL server on 127.0.0.1:5432.
# Safe to run repeatedly; it only acts on what is missing.
set -euo pipefail

want_pg=0
[ "${1:-}" = "--postgres" ] && want_pg=1
want_venv=0
[ "${1:-}" = "--venv" ] && want_venv=1

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

if [ "$want_venv" = 1 ]; then
  # Debian and Ubuntu ship venv (and ensurepip) apart from python3; nothing else is needed to run.
  py=$(python3 -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}-venv")')
  echo "system-deps: installing python3-venv $py"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv "$py" >/dev/null \
    || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
  exit 0
fi

if [ "${1:-}" = "--npm" ]; then
  # npm installs the pinned front-end packages at set-up (axe-core for the accessibility tests).
  echo "system-deps: installing npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
  exit 0
fi

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v osmium >/dev/null 2>&1 || missing+=(osmium-tool)
command -v tilemaker >/dev/null 2>&1 || missing+=(tilemaker)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "$want_pg" = 1 ] && ! command -v pg_ctlcluster >/dev/null 2>&1; then
  missing+=(postgresql)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "system-deps: please install: ${missing[*]} (no root, no sudo)" >&2
  else
    echo "system-deps: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    if [[ " ${missing[*]} " == *" nginx "* ]]; then
      # Debian starts the packaged service on port 80; the tests need only the binary
      $SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop \
        >/dev/null 2>&1 || true
    fi
  fi
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! listening 1883; then
  mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  if [ -x "$mosquitto_bin" ]; then
    echo "system-deps: starting mosquitto on 127.0.0.1:1883"
    $SUDO "$mosquitto_bin" -d -p 1883 2>/dev/null || $SUDO "$mosquitto_bin" -d
    sleep 0.5
  fi
fi

if [ "$want_pg" = 1 ] && ! listening 5432; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -n "$version" ]; then
    echo "system-deps: starting PostgreSQL $version"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do listening 5432 && break; sleep 0.5; done
    # Tests connect as postgres over TCP without a password, as on the CI machine.
    hba=/etc/postgresql/$version/main/pg_hba.conf
    if ! grep -q "shelterwatch-tests" "$hba" 2>/dev/null; then
      $SUDO sed -i '1i host all all 127.0.0.1/32 trust # shelterwatch-tests' "$hba"
      $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    fi
  fi
fi
exit 0
