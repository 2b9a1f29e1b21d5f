#!/usr/bin/env bash
# Builds, offline, from crates and Debian packages only:
#   target/packages/SRT_Streamer-x86_64.AppImage  (binary + GStreamer core and the plugins
#                                                  of the monitor and test signal — libav,
#                                                  x264, mpeg2enc… — and their libraries)
#   target/packages/srt-streamer-*.x86_64.rpm      (cargo-generate-rpm)
# and validates the desktop file and AppStream metainfo.
# Needs: packaging/install-deps.sh --package (squashfs-tools, desktop-file-utils,
# appstream, rpm, rpmlint, librsvg2-bin) and `cargo install cargo-generate-rpm`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/packages
mkdir -p "$out"

cargo build --release --locked

echo "== icons"
for s in 16 32 48 64 128 256 512; do
  mkdir -p "target/icons/${s}x${s}"
  rsvg-convert -w "$s" -h "$s" assets/icons/srt-streamer.svg -o "target/icons/${s}x${s}/srt-streamer.png"
done

echo "== desktop file and metainfo"
desktop-file-validate packaging/linux/srt-streamer.desktop
appstreamcli validate --no-net packaging/linux/io.github.srt_streamer.SrtStreamer.metainfo.xml

echo "== AppImage"
appdir=target/appimage/AppDir
rm -rf target/appimage && mkdir -p "$appdir/usr/bin" "$appdir/usr/lib/gstreamer-1.0" "$appdir/usr/libexec" \
  "$appdir/usr/share/srt-streamer/media" "$appdir/usr/share/applications" "$appdir/usr/share/metainfo"
cp target/release/srt-streamer "$appdir/usr/bin/"
strip --strip-debug "$appdir/usr/bin/srt-streamer"
cp media/sample.ts "$appdir/usr/share/srt-streamer/media/"
cp packaging/linux/srt-streamer.desktop "$appdir/" && cp packaging/linux/srt-streamer.desktop "$appdir/usr/share/applications/"
cp packaging/linux/io.github.srt_streamer.SrtStreamer.metainfo.xml "$appdir/usr/share/metainfo/"
cp assets/icons/srt-streamer.svg "$appdir/srt-streamer.svg"
cp target/icons/256x256/srt-streamer.png "$appdir/.DirIcon"
plugins=$(pkg-config --variable=pluginsdir gstreamer-1.0)
scanner=$(pkg-config --variable=pluginscannerdir gstreamer-1.0)/gst-plugin-scanner
# The confidence monitor (decode, levels) and the test signal (encode, mux).
for p in coreelements app srt mpegtsdemux typefindfunctions playback videoconvertscale \
         videorate audioconvert level audioparsers videoparsersbad libav videotestsrc \
         audiotestsrc pango volume mpegtsmux x264 mpeg2enc; do
  cp "$plugins/libgst$p.so" "$appdir/usr/lib/gstreamer-1.0/"
done
cp "$scanner" "$appdir/usr/libexec/"
# Every library these need, except the C library itself (the host's is used).
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libresolv)'
for f in "$appdir/usr/bin/srt-streamer" "$appdir"/usr/lib/gstreamer-1.0/*.so "$appdir/usr/libexec/gst-plugin-scanner"; do
  ldd "$f" | awk '/=> \// {print $1, $3}' | while read -r name path; do
    if ! [[ "$name" =~ $skip ]] && [ ! -e "$appdir/usr/lib/$name" ]; then
      cp -L "$path" "$appdir/usr/lib/$name"
    fi
  done
done
cat > "$appdir/AppRun" <<'APPRUN'
#!/bin/sh
# Points GStreamer at the bundled plugins and a private registry; the program
# restores the user's variables for child processes (ping, iperf3, ffprobe).
here="$(dirname "$(readlink -f "$0")")"
for v in LD_LIBRARY_PATH GST_PLUGIN_SYSTEM_PATH_1_0 GST_PLUGIN_PATH_1_0 GST_PLUGIN_SCANNER_1_0 GST_REGISTRY_1_0 GST_REGISTRY_REUSE_PLUGIN_SCANNER GST_REGISTRY_FORK; do
  eval "export SRT_STREAMER_ORIG_$v=\"\${$v:-}\""
done
export SRT_STREAMER_APPDIR="$here"
export LD_LIBRARY_PATH="$here/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GST_PLUGIN_SYSTEM_PATH_1_0="$here/usr/lib/gstreamer-1.0"
export GST_PLUGIN_PATH_1_0="$here/usr/lib/gstreamer-1.0"
export GST_PLUGIN_SCANNER_1_0="$here/usr/libexec/gst-plugin-scanner"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/srt-streamer"
mkdir -p "$cache" 2>/dev/null || cache="${TMPDIR:-/tmp}"
export GST_REGISTRY_1_0="$cache/gstreamer-registry-appimage.bin"
export GST_REGISTRY_REUSE_PLUGIN_SCANNER=no
export SRT_STREAMER_MEDIA="$here/usr/share/srt-streamer/media"
exec "$here/usr/bin/srt-streamer" "$@"
APPRUN
chmod +x "$appdir/AppRun"
# The type-2 runtime ships inside the `appimage` crate's sources (MIT).
fetch=target/appimage/runtime-fetch
mkdir -p "$fetch/src" && echo 'fn main() {}' > "$fetch/src/main.rs"
printf '[package]\nname = "runtime-fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nappimage = "=0.4.0"\n[workspace]\n' > "$fetch/Cargo.toml"
(cd "$fetch" && cargo fetch -q)
runtime=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/appimage-0.4.0/assets/runtime-x86_64 | head -1)
mksquashfs "$appdir" target/appimage/app.squashfs -root-owned -noappend -quiet
cat "$runtime" target/appimage/app.squashfs > "$out/SRT_Streamer-x86_64.AppImage"
chmod +x "$out/SRT_Streamer-x86_64.AppImage"

echo "== RPM"
# Signed with RPM_SIGNING_KEY (an armored PGP private key) when given; otherwise
# with a throwaway key made here, so that the signing path is always exercised.
key="${RPM_SIGNING_KEY:-}"
if [ -z "$key" ]; then
  gnupg=$(mktemp -d)
  gpg --homedir "$gnupg" --batch --pinentry-mode loopback --passphrase '' --quick-gen-key "SRT Streamer test build <build@localhost>" rsa3072 sign 1d 2>/dev/null
  key=target/packages/test-signing-key.asc
  gpg --homedir "$gnupg" --batch --pinentry-mode loopback --passphrase '' --armor --export-secret-keys > "$key"
  gpg --homedir "$gnupg" --batch --armor --export > target/packages/test-signing-key.pub.asc
  rm -rf "$gnupg"
fi
rm -f "$out"/srt-streamer-*.rpm
cargo generate-rpm -o "$out/" --signing-key "$key"
ls -l "$out"
