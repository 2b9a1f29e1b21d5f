#!/usr/bin/env bash
# Takes the README/AppStream screenshots under Xvfb, at 1920×1080 (a control
# room) and 1024×600 (a field laptop): ten listener streams (four sharing a
# port by stream ID, two of those encrypted) and their receivers, the
# details of one stream, and at 1024×600 a row's actions menu. Needs: xvfb,
# imagemagick (import), xdotool, srt-tools; a release build. Clicks go to
# fixed positions: check the pictures after a layout change.
set -euo pipefail
cd "$(dirname "$0")/.."
out=assets/screenshots
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
# IRD 1–4 share port 9100 by stream ID (2 and 4 encrypted, AES-256); the
# others have a port each. PEERS holds the receivers' URIs.
PEERS=()
for i in $(seq 0 9); do
  q="latency=200"
  if [ "$i" -lt 4 ]; then
    port=9100
    q="$q&streamid=ird$((i + 1))"
    if [ $((i % 2)) -eq 1 ]; then q="$q&passphrase=screenshot-secret&pbkeylen=32"; fi
  else
    port=$((9100 + i))
  fi
  printf '[[stream]]\nname = "IRD %d"\nfile = "%s/media/sample.ts"\nuri = "srt://:%d?%s"\n\n' \
    $((i + 1)) "$PWD" "$port" "$q" >> "$tmp/streams.toml"
  PEERS+=("srt://127.0.0.1:$port?${q#latency=200&}")
done

# shoot W H NAME DETAILS_X DETAILS_Y [MORE_X MORE_Y]
shoot() {
  local w=$1 h=$2 name=$3 dx=$4 dy=$5 mx=${6:-} my=${7:-}
  Xvfb :97 -screen 0 "${w}x${h}x24" >/dev/null 2>&1 &
  local xvfb=$!
  sleep 1
  export DISPLAY=:97 XDG_STATE_HOME="$tmp/state-$w" XDG_DATA_HOME="$tmp/data-$w"
  ./target/release/srt-streamer gui --streams "$tmp/streams.toml" >/dev/null 2>&1 &
  local app=$!
  sleep 2
  # No window manager: the window is sized to the screen by hand.
  xdotool search --sync --name "SRT Streamer" windowmove %@ 0 0 windowsize %@ "$w" "$h"
  local rx=()
  for peer in "${PEERS[@]}"; do
    srt-live-transmit -q "$peer" file://con >/dev/null 2>&1 &
    rx+=($!)
  done
  sleep 10
  import -window root "$out/$name.png"
  if [ -n "$mx" ]; then
    xdotool mousemove "$mx" "$my" click 1
    sleep 2
    import -window root "$out/$name-menu.png"
    xdotool key Escape
    sleep 1
  fi
  xdotool mousemove "$dx" "$dy" click 1
  sleep 25
  import -window root "$out/details-$name.png"
  kill "${rx[@]}" "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  wait "$xvfb" 2>/dev/null || true
}

# shellcheck disable=SC2086 # the positions are "X Y" pairs
shoot 1920 1080 main-window ${DETAILS_1080:-1796 69}
# shellcheck disable=SC2086
shoot 1024 600 small ${DETAILS_600:-880 63} ${MORE_600:-950 63}
mv "$out/details-main-window.png" "$out/details.png"
echo "screenshots in $out"
