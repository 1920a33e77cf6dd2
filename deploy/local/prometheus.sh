#!/usr/bin/env bash
# Prometheus and promtool from Debian's `prometheus` package, unpacked for this user only:
# nothing is installed system-wide, no service is started, no user is created.
#
#   prometheus.sh fetch              download the .deb and unpack it into $GRIDWATCH_PROMETHEUS_HOME
#                                    (once; skipped when present), then say where promtool is
#   prometheus.sh promtool ARGS...   run the unpacked promtool (fetching it first if needed)
#   prometheus.sh prometheus ARGS... run the unpacked Prometheus server (fetching it first if needed)
#   prometheus.sh path               print the directory holding promtool and prometheus
#                                    (exit 3 when not fetched yet)
#
# Environment:
#   GRIDWATCH_PROMETHEUS_HOME   state dir (default $HOME/.cache/gridwatch/prometheus)
#
# Needs apt-get and dpkg-deb (Debian, Ubuntu). The package is Debian's own build of Prometheus
# (bookworm: 2.42.0+ds-5+deb12u1); tests use its HTTP API and promtool, not its web UI.
set -euo pipefail

PHOME="${GRIDWATCH_PROMETHEUS_HOME:-$HOME/.cache/gridwatch/prometheus}"
ROOTFS="$PHOME/root"
BIN="$ROOTFS/usr/bin"
VERSION_FILE="$PHOME/VERSION"
PACKAGE=prometheus

die() { echo "prometheus.sh: $*" >&2; exit 1; }
log() { echo "prometheus.sh: $*" >&2; }

fetched() {
  [[ -x "$BIN/promtool" && -x "$BIN/prometheus" && -s "$VERSION_FILE" ]]
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH: $2"
}

# apt-get download into the current directory; refresh the package lists once if the
# package is unknown (a fresh container often has none).
download() {
  if apt-get download "$PACKAGE" >download.log 2>&1; then
    return 0
  fi
  log "apt-get download $PACKAGE failed; running apt-get update once and retrying"
  apt-get update >>download.log 2>&1 \
    || { cat download.log >&2; die "apt-get update failed (root needed? repositories reachable?)"; }
  apt-get download "$PACKAGE" >>download.log 2>&1 \
    || { cat download.log >&2; die "apt-get download $PACKAGE failed after apt-get update"; }
}

cmd_fetch() {
  if fetched; then
    log "already unpacked: $(cat "$VERSION_FILE") in $ROOTFS"
    echo "prometheus.sh: promtool is $BIN/promtool"
    return 0
  fi
  need apt-get "this script takes promtool and prometheus from Debian's '$PACKAGE' package; on a system without apt, install them yourself"
  need dpkg-deb "dpkg-deb unpacks the downloaded package (Debian's dpkg)"
  mkdir -p "$PHOME"
  # Download and unpack in a scratch dir, then swap it in: an interrupted fetch never
  # leaves a half-unpacked tree that `fetched` would take for a good one.
  local deb version
  FETCH_TMP="$(mktemp -d "$PHOME/fetch.XXXXXX")"
  trap 'rm -rf "$FETCH_TMP"' EXIT
  local tmp="$FETCH_TMP"
  # apt's _apt sandbox user must be able to write the download dir (else a warning only).
  chmod 755 "$tmp"
  log "downloading Debian package '$PACKAGE' with apt-get ..."
  (cd "$tmp" && download)
  deb="$(compgen -G "$tmp/${PACKAGE}_*.deb" | head -n 1)" || true
  [[ -n "$deb" ]] || { cat "$tmp/download.log" >&2; die "apt-get reported success but left no .deb"; }
  version="$(dpkg-deb -f "$deb" Version)"
  dpkg-deb -x "$deb" "$tmp/root"
  [[ -x "$tmp/root/usr/bin/promtool" && -x "$tmp/root/usr/bin/prometheus" ]] \
    || die "$(basename "$deb") holds no usr/bin/promtool and usr/bin/prometheus"
  rm -rf "$ROOTFS"
  mv "$tmp/root" "$ROOTFS"
  echo "$PACKAGE $version" >"$VERSION_FILE"
  rm -rf "$tmp"
  log "unpacked $PACKAGE $version into $ROOTFS"
  echo "prometheus.sh: promtool is $BIN/promtool"
}

cmd_path() {
  fetched || { log "not fetched yet: run 'prometheus.sh fetch'"; return 3; }
  echo "$BIN"
}

run() {
  local tool="$1"
  shift
  fetched || cmd_fetch
  exec "$BIN/$tool" "$@"
}

usage() {
  # the header comment above, without the leading "# "
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
  fetch)      cmd_fetch ;;
  promtool)   shift; run promtool "$@" ;;
  prometheus) shift; run prometheus "$@" ;;
  path)       cmd_path ;;
  -h|--help|help) usage ;;
  *)          usage >&2; exit 2 ;;
esac
