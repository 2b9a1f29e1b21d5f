#!/usr/bin/env bash
# Checks what packaging/build-packages.sh made: RPM contents and lint, and an
# AppImage smoke test with the system's GStreamer and libsrt hidden (mount
# namespace), streaming the sample to a real srt-live-transmit receiver.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/packages
rpm_file=$(ls "$out"/srt-streamer-*.rpm | head -1)
app="$PWD/$out/SRT_Streamer-x86_64.AppImage"

echo "== rpm -qip"; rpm -qip "$rpm_file"
echo "== rpm -qlp"; rpm -qlp "$rpm_file" | tee target/packages/rpm-files.txt
echo "== rpm requires"; rpm -qp --requires "$rpm_file"
echo "== rpm recommends"; rpm -qp --recommends "$rpm_file"
for f in /usr/bin/srt-streamer /usr/lib/systemd/system/srt-streamer.service /usr/lib/sysctl.d/60-srt-streamer.conf \
         /usr/share/applications/srt-streamer.desktop /usr/share/icons/hicolor/scalable/apps/srt-streamer.svg; do
  grep -qx "$f" target/packages/rpm-files.txt || { echo "missing in the RPM: $f"; exit 1; }
done
echo "== signature"
if [ -f target/packages/test-signing-key.pub.asc ]; then
  rpm --import target/packages/test-signing-key.pub.asc
fi
rpm -K "$rpm_file"
echo "== rpmlint"
rpmlint -r packaging/linux/rpmlintrc "$rpm_file" | tee target/packages/rpmlint.txt || true
if ! grep -Eq 'checked; 0 errors' target/packages/rpmlint.txt; then
  echo "rpmlint reported errors"; exit 1
fi

echo "== AppImage smoke test (system GStreamer hidden)"
port=$((20000 + RANDOM % 20000))
rx=$(mktemp)
plugins=$(pkg-config --variable=pluginsdir gstreamer-1.0)
scannerdir=$(pkg-config --variable=pluginscannerdir gstreamer-1.0)
libdir=$(dirname "$plugins")
unshare -m bash -c "
  set -e
  mount -t tmpfs none '$plugins'
  mount -t tmpfs none '$scannerdir'
  for l in '$libdir'/libgst*.so* '$libdir'/libsrt*.so*; do mount --bind /dev/null \"\$l\"; done
  ! gst-inspect-1.0 srtsink >/dev/null 2>&1 || { echo 'the system GStreamer is still visible'; exit 1; }
  export XDG_CACHE_HOME=\$(mktemp -d) XDG_STATE_HOME=\$(mktemp -d)
  APPIMAGE_EXTRACT_AND_RUN=1 '$app' play --duration 8 --stats-interval 2 '$PWD/media/sample.ts' srt://:$port
" &
player=$!
sleep 2
timeout 5 srt-live-transmit -q "srt://127.0.0.1:$port" file://con > "$rx" || true
wait $player
size=$(stat -c %s "$rx")
echo "received $size bytes from the AppImage"
[ "$size" -gt 1000000 ] || { echo "the AppImage did not stream"; exit 1; }
target/release/srt-streamer analyze "$rx" | grep -E "verdict|Continuity"

echo "== AppImage monitor (system GStreamer hidden): a picture decoded by the bundled plugins"
unshare -m bash -c "
  set -e
  mount -t tmpfs none '$plugins'
  mount -t tmpfs none '$scannerdir'
  for l in '$libdir'/libgst*.so* '$libdir'/libsrt*.so* '$libdir'/libav*.so* '$libdir'/libx264*.so*; do mount --bind /dev/null \"\$l\"; done
  export XDG_CACHE_HOME=\$(mktemp -d) XDG_STATE_HOME=\$(mktemp -d)
  APPIMAGE_EXTRACT_AND_RUN=1 '$app' monitor '$PWD/media/sample.ts' --seconds 1 --snapshot \$XDG_CACHE_HOME/s.png
  test -s \$XDG_CACHE_HOME/s.png
"
