#!/usr/bin/env bash
# Takes the README/AppStream screenshots under Xvfb: the main window with ten
# listener streams and their receivers, and the details view of one stream.
# Needs: xvfb, imagemagick (import), xdotool, srt-tools; a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=assets/screenshots
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
for i in $(seq 0 9); do
  printf '[[stream]]\nname = "IRD %d"\nfile = "%s/media/sample.ts"\nuri = "srt://:%d?latency=200"\n\n' \
    $((i + 1)) "$PWD" $((9100 + i)) >> "$tmp/streams.toml"
done
Xvfb :97 -screen 0 1200x760x24 >/dev/null 2>&1 &
sleep 1
export DISPLAY=:97 XDG_STATE_HOME="$tmp/state" XDG_DATA_HOME="$tmp/data"
./target/release/srt-streamer gui --streams "$tmp/streams.toml" >/dev/null 2>&1 &
sleep 2
for i in $(seq 0 9); do
  srt-live-transmit -q "srt://127.0.0.1:$((9100 + i))" file://con >/dev/null 2>&1 &
done
sleep 8
import -window root "$out/main-window.png"
# "Details" of the first row.
xdotool mousemove 804 69 click 1
sleep 25
import -window root "$out/details.png"
echo "screenshots in $out"
