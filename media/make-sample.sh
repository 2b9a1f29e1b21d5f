#!/usr/bin/env bash
# Makes media/sample.ts: 12 s, constant 5 Mbit/s mux rate, H.264 720p25 + MP2 stereo,
# PAT/PMT/SDT, PCR every 20 ms. Only free tools (ffmpeg with libx264).
set -euo pipefail
cd "$(dirname "$0")"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=1280x720:rate=25,drawtext=fontsize=48:fontcolor=white:box=1:boxcolor=black@0.6:text='SRT Streamer %{pts\\:hms}':x=40:y=40" \
  -f lavfi -i "sine=frequency=1000:sample_rate=48000:beep_factor=4,aformat=channel_layouts=stereo" \
  -t 12 \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -g 25 -bf 2 \
  -b:v 3800k -minrate 3800k -maxrate 3800k -bufsize 1900k -x264-params nal-hrd=cbr:force-cfr=1 \
  -c:a mp2 -b:a 192k \
  -f mpegts -muxrate 5000000 -pcr_period 20 -mpegts_flags +resend_headers \
  -mpegts_service_id 1 -metadata service_provider="SRT Streamer" -metadata service_name="Sample 720p25" \
  sample.ts
ls -l sample.ts
