#!/usr/bin/env bash
# Sandboxes for the code verifiers: bubblewrap, plus a private Docker engine with one locally built image.
#   .ci/sandbox.sh setup     install bubblewrap/docker.io/debootstrap if missing, start dockerd, build the image
#   .ci/sandbox.sh teardown  stop the dockerd that setup started, never one that was already running
#                            (leaves no bridge or iptables rules)
# The engine listens on $MONKEYS_DOCKER_HOST (default unix:///run/monkeys-docker.sock), which is where the
# docker sandbox backend looks first. Images cannot be pulled here, so the image is a debootstrapped Debian
# root file system (python3 only) imported with `docker import`.
set -euo pipefail

STATE=${MONKEYS_DOCKER_STATE:-/var/lib/monkeys-docker}
RUN=${MONKEYS_DOCKER_RUN:-/run/monkeys-docker}
HOST=${MONKEYS_DOCKER_HOST:-unix://$RUN.sock}
IMAGE=${MONKEYS_SANDBOX_IMAGE:-monkeys-sandbox:bookworm}
SUITE=${MONKEYS_SANDBOX_SUITE:-bookworm}
# Who runs set-up and teardown (dev.sh passes its own PID): teardown stops only an engine its set-up started.
OWNER=${MONKEYS_SANDBOX_OWNER:-$PPID}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

docker_() { $SUDO docker -H "$HOST" "$@"; }

install_packages() {
  local missing=()
  command -v bwrap >/dev/null || missing+=(bubblewrap)
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ -x /usr/bin/chromium ] || missing+=(chromium)  # the report tests open pages in headless Chromium
  if [ ${#missing[@]} -gt 0 ]; then
    echo "sandbox: installing ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

start_dockerd() {
  if docker_ version >/dev/null 2>&1; then
    echo "sandbox: dockerd already answers on $HOST; reusing it (teardown will leave it running)"
    return
  fi
  $SUDO mkdir -p "$STATE" "$RUN"
  echo "sandbox: starting dockerd on $HOST"
  $SUDO sh -c "nohup dockerd --bridge=none --iptables=false --ip6tables=false --data-root '$STATE' \
    --exec-root '$RUN' --pidfile '$RUN.pid' -H '$HOST' >'$RUN.log' 2>&1 &"
  # The marker names who started the engine: only their teardown stops it.
  $SUDO sh -c "echo '$OWNER' >'$RUN.ours'"
  for _ in $(seq 1 60); do
    docker_ version >/dev/null 2>&1 && return
    sleep 1
  done
  echo "sandbox: dockerd did not start; last log lines:" >&2
  $SUDO tail -20 "$RUN.log" >&2
  exit 1
}

build_image() {
  if docker_ image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "sandbox: image $IMAGE present"
    return
  fi
  local root
  root=$(mktemp -d /var/tmp/monkeys-rootfs.XXXXXX)
  echo "sandbox: debootstrapping $SUITE into $root (about a minute)"
  $SUDO debootstrap --variant=minbase --include=python3 "$SUITE" "$root" >"$root.log" 2>&1 \
    || { tail -20 "$root.log" >&2; exit 1; }
  $SUDO tar -C "$root" -c . | docker_ import -c 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
  $SUDO rm -rf "$root" "$root.log"
  echo "sandbox: built image $IMAGE"
}

teardown() {
  if [ ! -f "$RUN.ours" ] || [ "$(cat "$RUN.ours")" != "$OWNER" ]; then
    echo "sandbox: leaving dockerd running (this set-up did not start it)"
    return
  fi
  $SUDO rm -f "$RUN.ours"
  if [ -f "$RUN.pid" ]; then
    local pid
    pid=$(cat "$RUN.pid")
    # containers the verifiers left behind (there should be none) go first
    ids=$(docker_ ps -aq --filter label=monkeys.sandbox=1 2>/dev/null || true)
    [ -z "$ids" ] || docker_ rm -f $ids >/dev/null 2>&1 || true
    echo "sandbox: stopping dockerd ($pid)"
    $SUDO kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
      $SUDO kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
  fi
}

case "${1:-}" in
  setup) install_packages; start_dockerd; build_image ;;
  teardown) teardown ;;
  *) echo "usage: $0 setup|teardown" >&2; exit 2 ;;
esac
