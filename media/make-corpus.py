#!/usr/bin/env python3
"""Real-world test files for playout, made at test time (nothing large is committed).

    media/make-corpus.py OUTDIR [NAME ...]

Writes into OUTDIR (skips files already there):
  cbr.ts          clean 5 Mbit/s CBR, 6 s (the reference the others are compared with)
  vbr.ts          ffmpeg -crf, no -muxrate: 3 s black then 3 s noise (rate swings > 50x)
  joined.ts       two 4 s recordings joined with cat; the second's clock is 1 h later
  wrap.ts         starts 3 s before the 33-bit PCR/PTS wrap and runs through it (6 s)
  cbr20.ts        clean 20 Mbit/s CBR, 5 s (12 MB): the source of the next three
  garbage.ts      cbr20.ts with 100 bytes of garbage before the packets at 1, 5 and 9 MB (beyond the 4 MB probe)
  m2ts192.m2ts    cbr20.ts as 192-byte M2TS packets (4-byte timecode prefix)
  rs204.ts        cbr20.ts as 204-byte packets (16 parity bytes)
  mpts.ts         two programmes, each with its own PCR PID (5 s)
  late_pcr.ts     cbr.ts whose first 1.5 s carry no PCR
  split_pes.ts    synthetic 4 Mbit/s stream whose PES headers straddle two TS packets (5 s)
Needs ffmpeg (libx264, aac).
"""
import os
import random
import struct
import subprocess
import sys

TS = 188


def ffmpeg(*args):
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        stdin=subprocess.DEVNULL,
    )


def x264(rate=None):
    if rate:
        return ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                "-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", "1M",
                "-x264-params", "nal-hrd=cbr", "-pix_fmt", "yuv420p"]
    return ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p"]


def cbr(out, secs, rate_bps=5_000_000, offset=None, extra=()):
    args = ["-f", "lavfi", "-i", f"testsrc2=s=640x360:r=25:d={secs}",
            "-f", "lavfi", "-i", f"sine=f=1000:d={secs}"]
    args += x264(f"{rate_bps * 6 // 10 // 1000}k") + ["-c:a", "aac", "-b:a", "128k"]
    if offset is not None:
        args += ["-output_ts_offset", str(offset)]
    args += ["-f", "mpegts", "-muxrate", str(rate_bps), "-pcr_period", "20", *extra, out]
    ffmpeg(*args)


def vbr(out):
    # 3 s of black (a few kbit/s), then 3 s of full-screen noise (capped at 6 Mbit/s).
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=black:s=640x360:r=25:d=3",
        "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=3,noise=alls=100:allf=t",
        "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono:d=6",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]",
        "-map", "[v]", "-map", "2:a",
        *x264(), "-crf", "20", "-maxrate", "6M", "-bufsize", "2M",
        "-c:a", "aac", "-b:a", "16k",
        "-f", "mpegts", "-pcr_period", "20", out,
    )


def joined(out, tmp):
    a, b = tmp + "/join-a.ts", tmp + "/join-b.ts"
    cbr(a, 4)
    cbr(b, 4, offset=3600)
    with open(out, "wb") as f:
        for part in (a, b):
            with open(part, "rb") as p:
                f.write(p.read())
            os.remove(part)


def garbage(out, clean):
    data = open(clean, "rb").read()
    rnd = random.Random(7)
    pieces, last = [], 0
    for mb in (1, 5, 9):
        at = mb * 1024 * 1024 // TS * TS  # between two packets: none is damaged
        pieces += [data[last:at], bytes(rnd.randrange(256) for _ in range(100))]
        last = at
    pieces.append(data[last:])
    open(out, "wb").write(b"".join(pieces))


def reframe(out, clean, size):
    data = open(clean, "rb").read()
    with open(out, "wb") as f:
        for i in range(0, len(data) - TS + 1, TS):
            p = data[i:i + TS]
            if size == 192:
                f.write(struct.pack(">I", (i // TS * 1000) & 0x3FFFFFFF) + p)
            else:
                f.write(p + bytes(16))


def mpts(out):
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=5",
        "-f", "lavfi", "-i", "smptebars=s=640x360:r=25:d=5",
        "-f", "lavfi", "-i", "sine=f=1000:d=5",
        "-map", "0:v", "-map", "2:a", "-map", "1:v",
        *x264("2M"), "-c:a", "aac", "-b:a", "96k",
        "-program", "program_num=1:title=One:st=0:st=1",
        "-program", "program_num=2:title=Two:st=2",
        "-f", "mpegts", "-muxrate", "6000000", "-pcr_period", "20", out,
    )


def pid(p):
    return ((p[1] & 0x1F) << 8) | p[2]


def late_pcr(out, clean, secs=1.5):
    data = bytearray(open(clean, "rb").read())
    cut = int(5_000_000 / 8 * secs) // TS * TS
    for i in range(0, cut, TS):
        p = data[i:i + TS]
        if p[3] & 0x20 and p[4] >= 7 and p[5] & 0x10:
            data[i + 5] &= ~0x10 & 0xFF  # PCR flag off: the 6 bytes become stuffing-like
    open(out, "wb").write(bytes(data))


def ts_bytes(t):
    v = t % (1 << 33)
    return bytes([
        ((v >> 29) & 0x0E) | 0x21, (v >> 22) & 0xFF, ((v >> 14) & 0xFE) | 1,
        (v >> 7) & 0xFF, ((v << 1) & 0xFE) | 1,
    ])


def crc32(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def section_packet(pid_, body, cc):
    sec = body + struct.pack(">I", crc32(body))
    payload = bytes([0]) + sec
    return bytes([0x47, 0x40 | (pid_ >> 8), pid_ & 0xFF, 0x10 | cc]) + payload + b"\xff" * (184 - len(payload))


def split_pes(out, secs=5, rate=4_000_000):
    """PCR/video on 0x100, audio-like PES on 0x101; every third video PES header
    starts 10 bytes before the end of its packet (adaptation-field stuffing)."""
    pat = bytes([0x00, 0xB0, 13, 0, 1, 0xC1, 0, 0, 0, 1, 0xF0, 0x00])
    pmt = bytes([0x02, 0xB0, 23, 0, 1, 0xC1, 0, 0, 0xE1, 0x00, 0xF0, 0,
                 0x1B, 0xE1, 0x00, 0xF0, 0, 0x0F, 0xE1, 0x01, 0xF0, 0])
    packets_per_sec = rate // 8 // TS
    cc = {}

    def nextcc(p_):
        cc[p_] = (cc.get(p_, -1) + 1) & 15
        return cc[p_]

    out_packets = []
    rnd = random.Random(3)
    frame = 0
    total = secs * packets_per_sec
    i = 0
    while i < total:
        t27 = i * 27_000_000 // packets_per_sec
        if i % (packets_per_sec // 10) == 0:
            out_packets.append(section_packet(0, pat, nextcc(0)))
            out_packets.append(section_packet(0x1000, pmt, nextcc(0x1000)))
            i += 2
            continue
        if i * 25 // packets_per_sec >= frame:
            # A video frame: PES with PTS and DTS, 30-60 packets.
            pts = 126_000 + frame * 3600
            pes = b"\x00\x00\x01\xe0\x00\x00\x80\xc0\x0a" + ts_bytes(pts | 0) + ts_bytes(pts - 3600)
            # fix the prefix nibbles: 0011 for PTS, 0001 for DTS
            pes = bytearray(pes)
            pes[9] = (pes[9] & 0x0F) | 0x30
            pes[14] = (pes[14] & 0x0F) | 0x10
            body = bytes(pes) + bytes(rnd.randrange(256) for _ in range(TS * rnd.randrange(20, 40)))
            first = True
            pos = 0
            while pos < len(body):
                pcr = None
                af = b""
                if first:
                    base = (t27 // 300) % (1 << 33)
                    ext = t27 % 300
                    pcrb = bytes([(base >> 25) & 0xFF, (base >> 17) & 0xFF, (base >> 9) & 0xFF,
                                  (base >> 1) & 0xFF, ((base & 1) << 7) | 0x7E | (ext >> 8), ext & 0xFF])
                    room = 10 if frame % 3 == 0 else 184 - 8
                    af_len = 183 - room
                    af = bytes([af_len, 0x10]) + pcrb + b"\xff" * (af_len - 7)
                    pcr = True
                chunk_room = 184 - len(af)
                chunk = body[pos:pos + chunk_room]
                if len(chunk) < chunk_room and not af:
                    stuff = chunk_room - len(chunk)
                    af = bytes([stuff - 1]) + (bytes([0]) + b"\xff" * (stuff - 2) if stuff > 1 else b"")
                elif len(chunk) < chunk_room:
                    af = bytes([af[0] + chunk_room - len(chunk)]) + af[1:] + b"\xff" * (chunk_room - len(chunk))
                afc = 0x30 if af else 0x10
                hdr = bytes([0x47, (0x40 if first else 0) | 0x01, 0x00, afc | nextcc(0x100)])
                out_packets.append(hdr + af + chunk)
                assert len(out_packets[-1]) == TS, (len(out_packets[-1]), pcr)
                pos += len(chunk)
                first = False
                i += 1
            frame += 1
            continue
        # Audio-like PES on 0x101, one packet each with a PTS.
        if i % 9 == 0:
            pts = 126_000 + i * 90_000 // packets_per_sec
            pes = bytearray(b"\x00\x00\x01\xc0\x00\xb0\x80\x80\x05" + ts_bytes(pts))
            pes[9] = (pes[9] & 0x0F) | 0x20
            payload = bytes(pes) + b"\xaa" * (184 - len(pes))
            out_packets.append(bytes([0x47, 0x41, 0x01, 0x10 | nextcc(0x101)]) + payload)
        else:
            out_packets.append(bytes([0x47, 0x1F, 0xFF, 0x10]) + b"\xff" * 184)
        i += 1
    open(out, "wb").write(b"".join(out_packets))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    outdir = sys.argv[1]
    wanted = set(sys.argv[2:])
    os.makedirs(outdir, exist_ok=True)

    def path(name):
        return os.path.join(outdir, name)

    def want(name):
        return (not wanted or name in wanted) and not os.path.exists(path(name))

    def make(name, fn):
        if want(name):
            tmp = path(name) + ".part"
            fn(tmp)
            os.replace(tmp, path(name))

    # cbr.ts is the clean source of several others.
    # The clean sources of several others come first, whatever was asked.
    for name, fn in (("cbr.ts", lambda o: cbr(o, 6)),
                     ("cbr20.ts", lambda o: cbr(o, 5, rate_bps=20_000_000))):
        if not os.path.exists(path(name)):
            fn(path(name) + ".part")
            os.replace(path(name) + ".part", path(name))
    make("vbr.ts", vbr)
    make("joined.ts", lambda o: joined(o, outdir))
    make("wrap.ts", lambda o: cbr(o, 6, offset=(1 << 33) / 90000 - 3))
    make("garbage.ts", lambda o: garbage(o, path("cbr20.ts")))
    make("m2ts192.m2ts", lambda o: reframe(o, path("cbr20.ts"), 192))
    make("rs204.ts", lambda o: reframe(o, path("cbr20.ts"), 204))
    make("mpts.ts", mpts)
    make("late_pcr.ts", lambda o: late_pcr(o, path("cbr.ts")))
    make("split_pes.ts", split_pes)


if __name__ == "__main__":
    main()
