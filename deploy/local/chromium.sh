#!/usr/bin/env bash
# Debian's Chromium, and a Chinese font, for the headless browser test of the command-center
# page (tests/integration/test_live_page.py). Nothing is downloaded from a browser CDN.
#
#   chromium.sh          use `chromium` when it is on PATH, else install Debian's package
#                        (apt-get, as root); install a CJK font when fontconfig has none
#                        (without one every Chinese label renders as boxes); print the version
#
# Environment:
#   GRIDWATCH_CHROMIUM   a browser binary to use instead (checked, never installed)
#
# Needs root and apt-get (Debian 12: `chromium`, ~100 MB with its libraries, and
# `fonts-wqy-microhei`, 1.6 MB). `apt-get update` runs only when an install fails for lack of
# package lists.
set -euo pipefail

PACKAGE=chromium
FONT_PACKAGE=fonts-wqy-microhei
export DEBIAN_FRONTEND=noninteractive

die() { echo "chromium.sh: $*" >&2; exit 1; }
log() { echo "chromium.sh: $*" >&2; }

found() {
  if [[ -n "${GRIDWATCH_CHROMIUM:-}" ]]; then
    echo "$GRIDWATCH_CHROMIUM"
  else
    command -v chromium 2>/dev/null
  fi
}

has_cjk_font() {
  command -v fc-list >/dev/null 2>&1 && [[ -n "$(fc-list :lang=zh family 2>/dev/null)" ]]
}

# apt-get install PACKAGES..., as root, refreshing the package lists once if they lack them.
install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is missing: install $* by hand"
  [[ "$(id -u)" == 0 ]] || die "installing $* needs root: sudo $0"
  local log_file started
  log_file="$(mktemp)"
  started=$SECONDS
  log "installing Debian's $* (apt-get install --no-install-recommends)"
  if ! apt-get install -y --no-install-recommends "$@" >"$log_file" 2>&1; then
    # A fresh container has no package lists: "Unable to locate package" / "no installation candidate".
    if grep -qE "Unable to locate package|has no installation candidate" "$log_file"; then
      log "no package lists for $*; running apt-get update once and retrying"
      apt-get update >>"$log_file" 2>&1 \
        || { cat "$log_file" >&2; die "apt-get update failed (repositories reachable?)"; }
      apt-get install -y --no-install-recommends "$@" >>"$log_file" 2>&1 \
        || { cat "$log_file" >&2; die "apt-get install $* failed after apt-get update"; }
    else
      cat "$log_file" >&2
      die "apt-get install $* failed"
    fi
  fi
  rm -f "$log_file"
  log "installed $* in $((SECONDS - started)) s"
}

main() {
  local browser missing=()
  if [[ -n "${GRIDWATCH_CHROMIUM:-}" && ! -x "$GRIDWATCH_CHROMIUM" ]]; then
    die "GRIDWATCH_CHROMIUM=$GRIDWATCH_CHROMIUM is not an executable file"
  fi
  browser="$(found)" || missing+=("$PACKAGE")
  has_cjk_font || missing+=("$FONT_PACKAGE")
  if (( ${#missing[@]} )); then
    install "${missing[@]}"
    browser="$(found)" || die "apt-get installed $PACKAGE but 'chromium' is still not on PATH"
    has_cjk_font || die "installed $FONT_PACKAGE but fontconfig lists no Chinese font"
  fi
  # --version needs no display; the sandbox question only arises when a page is opened.
  "$browser" --version 2>/dev/null \
    || die "$browser is installed but does not run ($browser --version failed)"
}

main "$@"
