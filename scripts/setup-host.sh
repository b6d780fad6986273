#!/usr/bin/env bash
# Prepare a Debian/Ubuntu host (as root) for vipdrill: system packages, a running Docker engine,
# and KVM/TCG-capable qemu for the VM engine. Idempotent; safe to run on every CI run.
set -euo pipefail

# chromium: Debian's browser renders report.pdf and runs the report's browser tests (Playwright downloads no browser)
# also: shellcheck (npm run check lints the lab's shell), python3 (the agent's tests run it on the host) and
# poppler-utils (pdftoppm: the browser tests look at report.pdf's pages)
PACKAGES=(docker.io debootstrap qemu-system-x86 qemu-utils e2fsprogs nftables iproute2 tar ca-certificates chromium fonts-dejavu-core shellcheck python3 poppler-utils)

need=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-host: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# a Docker engine: start dockerd if nothing answers on the socket
if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "setup-host: starting dockerd"
  mkdir -p /var/log
  (setsid dockerd > /var/log/vipdrill-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker version --format 'setup-host: dockerd {{.Server.Version}} is up' || { tail -20 /var/log/vipdrill-dockerd.log; exit 1; }
fi
