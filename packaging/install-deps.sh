#!/usr/bin/env bash
# Installs the system packages SRT Streamer needs to build, run and test.
#   packaging/install-deps.sh          build + run (GStreamer with SRT, dev headers)
#   packaging/install-deps.sh --test   also the test peers (srt-live-transmit,
#                                      ffmpeg, tcpdump, iperf3, Xvfb; tstools
#                                      for tsreport in the TR 101 290 corpus test;
#                                      prometheus for promtool and a real
#                                      Prometheus server in tests/metrics.rs)
# Knows Debian/Ubuntu (apt) and Fedora/RHEL (dnf). Installs only what is missing.
set -euo pipefail

with_tests=0
with_package=0
for a in "$@"; do
  case "$a" in
    --test) with_tests=1 ;;
    --package) with_package=1 ;;
    *) echo "usage: $0 [--test] [--package]" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

if command -v apt-get >/dev/null 2>&1; then
  pkgs=(pkg-config build-essential libsrt-gnutls-dev
        libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
        gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
        gstreamer1.0-libav gstreamer1.0-plugins-ugly
        gstreamer1.0-tools iputils-ping iperf3 zenity)
  [ "$with_tests" = 1 ] && pkgs+=(srt-tools ffmpeg tcpdump iproute2 xvfb tstools python3 prometheus nginx-light libnginx-mod-rtmp)
  [ "$with_package" = 1 ] && pkgs+=(squashfs-tools desktop-file-utils appstream rpm rpmlint librsvg2-bin util-linux srt-tools gnupg)
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
elif command -v dnf >/dev/null 2>&1; then
  pkgs=(pkgconf-pkg-config gcc srt-devel gstreamer1-devel gstreamer1-plugins-base-devel
        gstreamer1-plugins-base gstreamer1-plugins-good gstreamer1-plugins-bad-free
        gstreamer1-plugins-bad-free-extras gstreamer1 gstreamer1-plugin-libav iputils iperf3 zenity)
  [ "$with_tests" = 1 ] && pkgs+=(srt ffmpeg-free tcpdump iproute xorg-x11-server-Xvfb golang-github-prometheus)
  [ "$with_package" = 1 ] && pkgs+=(squashfs-tools desktop-file-utils appstream rpm-build rpmlint librsvg2-tools util-linux gnupg2)
  $SUDO dnf install -y -q "${pkgs[@]}"
else
  echo "Unknown distribution: install GStreamer 1.22+ with its SRT plugin (plugins-bad) and development headers by hand." >&2
  exit 1
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is not installed: install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
if [ "$with_package" = 1 ] && ! command -v cargo-generate-rpm >/dev/null 2>&1; then
  echo "Installing cargo-generate-rpm (crates.io)"
  cargo install --locked cargo-generate-rpm >/dev/null 2>&1 || cargo install cargo-generate-rpm
fi
if ! gst-inspect-1.0 srtsink >/dev/null 2>&1; then
  echo "GStreamer's srtsink is missing even after installing: check the plugins-bad package of your distribution." >&2
  exit 1
fi
