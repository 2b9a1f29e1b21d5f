#!/usr/bin/env bash
# The window's own cost: CPU of `srt-streamer gui` with ten listener streams,
# each with a connected srt-live-transmit, under Xvfb at a given size, side by
# side with the same ten streams played headless (`srt-streamer play`). The
# difference is what the window costs. Prints the median of RUNS runs.
# Needs: xvfb, xdotool, srt-tools; a release build. Usage: packaging/gui-idle.sh [WxH] [RUNS] [SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1920x1080}
runs=${2:-3}
secs=${3:-20}
bin=./target/release/srt-streamer
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
for i in $(seq 0 9); do
  printf '[[stream]]\nname = "IRD %d"\nfile = "%s/media/sample.ts"\nuri = "srt://:%d?latency=200"\n\n' \
    $((i + 1)) "$PWD" $((9300 + i)) >> "$tmp/streams.toml"
done
Xvfb :96 -screen 0 "${size}x24" >/dev/null 2>&1 &
xvfb=$!
sleep 1
export DISPLAY=:96 XDG_STATE_HOME="$tmp/state" XDG_DATA_HOME="$tmp/data"
ticks=$(getconf CLK_TCK)

# CPU ticks (user + system) of a process over all its threads.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Percent of one core that `$@` uses over $secs, receivers connected.
measure() {
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep 3
  # No window manager: the window is sized to the screen by hand.
  if [ "$1" != "$bin" ] || [ "$2" = gui ]; then
    xdotool search --name "SRT Streamer" windowmove %@ 0 0 windowsize %@ "${size%x*}" "${size#*x}" 2>/dev/null || true
  fi
  local rx=()
  for i in $(seq 0 9); do
    srt-live-transmit -q "srt://127.0.0.1:$((9300 + i))" file://con >/dev/null 2>&1 &
    rx+=($!)
  done
  sleep 5
  local a b
  a=$(cpu_ticks "$pid")
  sleep "$secs"
  b=$(cpu_ticks "$pid")
  kill "${rx[@]}" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 1
  awk -v a="$a" -v b="$b" -v t="$ticks" -v s="$secs" 'BEGIN { printf "%.2f", (b - a) / t / s * 100 }'
}

median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

gui=() play=()
for r in $(seq 1 "$runs"); do
  gui+=("$(measure "$bin" gui --streams "$tmp/streams.toml")")
  play+=("$(measure "$bin" play --streams "$tmp/streams.toml")")
done
g=$(echo "${gui[@]}" | median)
p=$(echo "${play[@]}" | median)
echo "10 streams x 5 Mbit/s, each with a receiver, window ${size}, ${secs} s, median of ${runs} runs (runs: gui ${gui[*]}; headless ${play[*]})"
echo "| | % of one core |"
echo "|---|---|"
echo "| srt-streamer gui (window + engine) | $g |"
echo "| srt-streamer play (same streams, headless) | $p |"
awk -v g="$g" -v p="$p" 'BEGIN { printf "| the window itself (difference) | %.2f (target <= 3) |\n", g - p }'
kill "$xvfb" 2>/dev/null || true
