#!/usr/bin/env python3
"""Fault-injection corpus for the TR 101 290 analyzer.

    make_corpus.py SAMPLE.ts OUTDIR

Writes one .ts file per fault, cut from the clean sample (5 Mbit/s CBR, 12 s,
PCR every 20 ms on PID 0x100, PAT/PMT every ~97 ms, SDT every 0.5 s, video
PES every 40 ms, audio PES on 0x101 every 120 ms), and OUTDIR/expected.json
with the count each indicator must have, reasoned from the fault and the
standard (not measured). Faults replace packets by null packets where they
remove something, so the mux rate and the PCR/byte line stay intact.
"""

import json
import os
import sys

PS = 188
VIDEO, AUDIO, PMT, NULL = 0x100, 0x101, 0x1000, 0x1FFF
INDICATORS = [
    "ts_sync_loss", "sync_byte_error", "pat_error", "continuity_count_error",
    "pmt_error", "pid_error", "transport_error", "crc_error",
    "pcr_repetition_error", "pcr_discontinuity_indicator_error",
    "pcr_accuracy_error", "pts_error",
]


def pid(p):
    return ((p[1] & 0x1F) << 8) | p[2]


def has_pcr(p):
    return p[3] & 0x20 and p[4] >= 7 and p[5] & 0x10


def get_pcr(p):
    b = p[6:12]
    base = (b[0] << 25) | (b[1] << 17) | (b[2] << 9) | (b[3] << 1) | (b[4] >> 7)
    return base * 300 + (((b[4] & 1) << 8) | b[5])


def set_pcr(p, v):
    v %= (1 << 33) * 300
    base, ext = divmod(v, 300)
    p[6] = (base >> 25) & 0xFF
    p[7] = (base >> 17) & 0xFF
    p[8] = (base >> 9) & 0xFF
    p[9] = (base >> 1) & 0xFF
    p[10] = ((base & 1) << 7) | 0x7E | ((ext >> 8) & 1)
    p[11] = ext & 0xFF


def to_null(p):
    """A proper null packet in place of `p` (no adaptation field, no PCR)."""
    p[0:4] = bytes([0x47, 0x1F, 0xFF, 0x10])
    p[4:] = bytes([0xFF] * (PS - 4))


def cc_gap_errors(removed):
    """A run of lost packets shows in the counter unless it is a multiple of 16."""
    return 1 if removed % 16 else 0


def crc32(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def section_packet(pid_, cc, section):
    p = bytearray([0xFF] * PS)
    p[0:4] = bytes([0x47, 0x40 | (pid_ >> 8), pid_ & 0xFF, 0x10 | (cc & 0xF)])
    p[4] = 0
    p[5:5 + len(section)] = section
    return p


def long_section(table_id, ext, body):
    length = 5 + len(body) + 4
    s = bytearray([table_id, 0xB0 | (length >> 8), length & 0xFF,
                   ext >> 8, ext & 0xFF, 0xC1, 0, 0]) + bytearray(body)
    return s + crc32(s).to_bytes(4, "big")


def of_pid(pk, want):
    return [i for i, p in enumerate(pk) if pid(p) == want]


def pusi(p):
    return p[1] & 0x40


def plain_video(pk):
    """Video packets without PCR and PES start: safe to drop, swap or mark."""
    return [i for i in of_pid(pk, VIDEO) if not has_pcr(pk[i]) and not pusi(pk[i])]


def main():
    sample, out = sys.argv[1], sys.argv[2]
    data = open(sample, "rb").read()
    clean = [bytearray(data[i:i + PS]) for i in range(0, len(data) - PS + 1, PS)]
    per_sec = len(clean) / 12.0
    os.makedirs(out, exist_ok=True)
    corpus = {}

    def emit(name, pk, why, **expected):
        with open(os.path.join(out, name + ".ts"), "wb") as f:
            for p in pk:
                f.write(p)
        counts = {k: 0 for k in INDICATORS}
        for k, v in expected.items():
            assert k in counts, k
            counts[k] = v
        corpus[name] = {"why": why, "expected": counts}

    def copy():
        return [bytearray(p) for p in clean]

    emit("clean", copy(), "the sample as it is")

    # 1.4: three video packets lost, far apart.
    pk = copy()
    v = plain_video(pk)
    drop = {v[1000], v[5000], v[20000]}
    emit("lost", [p for i, p in enumerate(pk) if i not in drop],
         "3 video packets lost", continuity_count_error=3)

    # 1.4: 15 video packets lost in a row: the next one has the counter of the
    # last one before the gap (other content: not a duplicate).
    pk = copy()
    v = of_pid(pk, VIDEO)
    start = next(k for k in range(3000, 6000)
                 if not any(has_pcr(pk[v[j]]) or pusi(pk[v[j]]) for j in range(k, k + 16)))
    drop = set(v[start:start + 15])
    emit("lost15", [p for i, p in enumerate(pk) if i not in drop],
         "15 video packets lost in a row (same counter, other content)",
         continuity_count_error=1)

    # 1.4: an audio packet sent twice (allowed), another three times (one error).
    pk = copy()
    a = of_pid(pk, AUDIO)
    dup = []
    for i, p in enumerate(pk):
        dup.append(p)
        if i == a[100]:
            dup.append(bytearray(p))
        if i == a[300]:
            dup += [bytearray(p), bytearray(p)]
    emit("duplicated", dup, "audio packet repeated once, another twice",
         continuity_count_error=1)

    # 1.4: two pairs of video packets swapped: 3 counter errors each.
    pk = copy()
    v = plain_video(pk)
    for k in (2000, 9000):
        i, j = v[k], v[k + 1]
        assert pk[i][3] & 0xF == (pk[j][3] - 1) & 0xF
        pk[i], pk[j] = pk[j], pk[i]
    emit("reordered", pk, "2 pairs of video packets swapped",
         continuity_count_error=6)

    # 1.2 and 1.1: 3 lone bad sync bytes, then 2 in a row (sync lost once).
    pk = copy()
    nulls = of_pid(pk, NULL)
    for i in (nulls[100], nulls[500], nulls[900]):
        pk[i][0] = 0x00
    pair = next(nulls[k] for k in range(1500, len(nulls) - 1) if nulls[k + 1] == nulls[k] + 1)
    pk[pair][0] = 0x12
    pk[pair + 1][0] = 0x34
    emit("sync", pk, "3 corrupt sync bytes, then 2 in a row",
         sync_byte_error=5, ts_sync_loss=1)

    # 2.1: transport_error_indicator on 3 video packets.
    pk = copy()
    v = plain_video(pk)
    for k in (100, 7000, 15000):
        pk[v[k]][1] |= 0x80
    emit("tei", pk, "transport_error_indicator on 3 packets", transport_error=3)

    # 2.2: a bad CRC in every table type. CAT, NIT, EIT, TDT and TOT are added
    # in place of null packets (valid ones once a second, one corrupt of each).
    pk = copy()
    nulls = of_pid(pk, NULL)
    extra = {
        0x0001: long_section(0x01, 0xFFFF, b""),
        0x0010: long_section(0x40, 1, b"\xF0\x00\xF0\x00"),
        0x0012: long_section(0x4E, 1, b"\x00\x01\x00\x01\x01\xFF"),
        0x0014: None,
    }
    tdt = bytearray([0x70, 0x70, 0x05, 0xE9, 0x6B, 0x12, 0x00, 0x00])
    tot_body = bytearray([0x73, 0x70, 0x0B, 0xE9, 0x6B, 0x12, 0x00, 0x00, 0xF0, 0x00])
    tot = tot_body + crc32(tot_body).to_bytes(4, "big")
    ccs = {p_: 0 for p_ in extra}
    slot = 0
    corrupt_at = 5
    for second in range(11):
        for p_ in (0x0001, 0x0010, 0x0012, 0x0014):
            sections = [extra[p_]] if p_ != 0x0014 else [tdt, tot]
            for s in sections:
                s = bytearray(s)
                if second == corrupt_at and (p_ != 0x0014 or s[0] == 0x73):
                    s[-1] ^= 0xFF
                i = nulls[int(second * len(nulls) / 11.5) + slot % 40]
                slot += 1
                pk[i] = section_packet(p_, ccs[p_], s)
                ccs[p_] += 1
    for table, n in ((0, 2), (PMT, 1), (0x11, 1)):
        idx = of_pid(pk, table)
        for k in range(n):
            p = pk[idx[10 + 7 * k]]
            length = ((p[6] & 0xF) << 8) | p[7]
            p[5 + 3 + length - 1] ^= 0x5A  # last CRC byte
    emit("crc", pk, "bad CRC: 2 PAT, 1 PMT, 1 SDT, 1 CAT, 1 NIT, 1 EIT, 1 TOT (TDT has none)",
         crc_error=8)

    # 1.3: PAT gone for 2 s; one PAT section with table_id 0x01; one PAT packet scrambled.
    pk = copy()
    pats = of_pid(pk, 0)
    gap = [i for i in pats if 3 * per_sec <= i < 5 * per_sec]
    for i in gap:
        to_null(pk[i])
    pat_cc = cc_gap_errors(len(gap))
    wrong = pk[pats[10]]
    wrong[5] = 0x01
    length = ((wrong[6] & 0xF) << 8) | wrong[7]
    wrong[5 + 3 + length - 4:5 + 3 + length] = crc32(wrong[5:5 + 3 + length - 4]).to_bytes(4, "big")
    pk[pats[100]][3] |= 0x80
    emit("pat", pk, "no PAT for 2 s; a section with table_id 0x01; a scrambled PAT packet",
         pat_error=3, continuity_count_error=pat_cc)

    # 1.5: PMT gone for 1.2 s; a scrambled PMT packet.
    pk = copy()
    pmts = of_pid(pk, PMT)
    gap = [i for i in pmts if 6 * per_sec <= i < 7.2 * per_sec]
    for i in gap:
        to_null(pk[i])
    pk[pmts[20]][3] |= 0xC0
    emit("pmt", pk, "no PMT for 1.2 s; a scrambled PMT packet",
         pmt_error=2, continuity_count_error=cc_gap_errors(len(gap)))

    # 1.6 (+1.4, 2.5): the audio PID gone for 6 s.
    pk = copy()
    gap = [i for i in of_pid(pk, AUDIO) if 3 * per_sec <= i < 9 * per_sec]
    for i in gap:
        to_null(pk[i])
    emit("pid", pk, "audio PID absent for 6 s (PID_error after 5 s, PTS gap; 800 packets gone, a multiple of 16: no counter error)",
         pid_error=1, pts_error=1, continuity_count_error=cc_gap_errors(len(gap)))

    # The damaged file: video/PCR PID removed, 3 TEI, 2 PAT CRC errors.
    pk = copy()
    for i in of_pid(pk, VIDEO):
        to_null(pk[i])
    a = of_pid(pk, AUDIO)
    for k in (10, 50, 90):
        pk[a[k]][1] |= 0x80
    pats = of_pid(pk, 0)
    for k in (20, 60):
        p = pk[pats[k]]
        p[5 + 3 + (((p[6] & 0xF) << 8) | p[7]) - 1] ^= 0x01
    emit("no-video", pk,
         "video/PCR PID removed (time from audio PTS), 3 TEI packets, 2 PAT CRC errors",
         pid_error=1, pcr_repetition_error=1, transport_error=3, crc_error=2)

    # 2.3a: 2 consecutive PCRs removed at two places (60 ms intervals).
    pk = copy()
    pcrs = [i for i in of_pid(pk, VIDEO) if has_pcr(pk[i])]
    for k in (100, 101, 400, 401):
        pk[pcrs[k]][5] &= ~0x10 & 0xFF
    emit("pcr-gap", pk, "2 PCRs removed at 2 places: 60 ms intervals",
         pcr_repetition_error=2)

    # 2.3a: the PCRs stop at 8 s (one error: the gap stays open to the end).
    pk = copy()
    for i in [i for i in of_pid(pk, VIDEO) if has_pcr(pk[i])][400:]:
        pk[i][5] &= ~0x10 & 0xFF
    emit("pcr-stop", pk, "no PCR after 8 s", pcr_repetition_error=1)

    # 2.3b: PCR steps +1 s, later -1 s, without discontinuity_indicator.
    pk = copy()
    pcrs = [i for i in of_pid(pk, VIDEO) if has_pcr(pk[i])]
    for n, i in enumerate(pcrs):
        if 200 <= n < 400:
            set_pcr(pk[i], get_pcr(pk[i]) + 27_000_000)
    emit("pcr-jump", pk, "PCR +1 s at PCR 200, back at PCR 400, no indicator",
         pcr_discontinuity_indicator_error=2)

    # Same jumps, declared: the indicator on the PCR packet (first jump) and on
    # an adaptation-only packet of the PCR PID before the PCR (second jump).
    pk = copy()
    pcrs = [i for i in of_pid(pk, VIDEO) if has_pcr(pk[i])]
    for n, i in enumerate(pcrs):
        if 200 <= n < 400:
            set_pcr(pk[i], get_pcr(pk[i]) + 27_000_000)
    pk[pcrs[200]][5] |= 0x80
    before = pcrs[400]
    last_cc = None
    for i in range(pcrs[399] + 1, before):
        if pid(pk[i]) == VIDEO:
            last_cc = pk[i][3] & 0xF
        if pid(pk[i]) == NULL and last_cc is not None:
            p = bytearray([0xFF] * PS)
            p[0:6] = bytes([0x47, VIDEO >> 8, VIDEO & 0xFF, 0x20 | last_cc, 183, 0x80])
            pk[i] = p
            break
    else:
        raise SystemExit("no null packet between PCRs 399 and 400")
    emit("pcr-jump-flagged", pk,
         "the same jumps with discontinuity_indicator (on the PCR; on an earlier packet)")

    # 2.4: every PCR ±296 ns alternating (compliant); 3 PCRs 1.5 us off (not).
    pk = copy()
    for n, i in enumerate([i for i in of_pid(pk, VIDEO) if has_pcr(pk[i])]):
        set_pcr(pk[i], get_pcr(pk[i]) + (8 if n % 2 else -8))
    emit("pcr-wobble", pk, "PCR ±296 ns alternating: within ±500 ns")
    pk = copy()
    pcrs = [i for i in of_pid(pk, VIDEO) if has_pcr(pk[i])]
    for k in (100, 250, 450):
        set_pcr(pk[pcrs[k]], get_pcr(pk[pcrs[k]]) + 41)
    emit("pcr-inaccurate", pk, "3 lone PCRs 1.52 us off", pcr_accuracy_error=3)

    # 2.5: PTS removed from 20 video PES in a row (840 ms), at two places.
    pk = copy()
    starts = [i for i in of_pid(pk, VIDEO) if pusi(pk[i])]
    for first in (50, 200):
        for i in starts[first:first + 20]:
            p = pk[i]
            off = 4 + (1 + p[4] if p[3] & 0x20 else 0)
            assert p[off:off + 3] == b"\x00\x00\x01"
            p[off + 7] &= 0x3F
    emit("pts-gap", pk, "no PTS for 840 ms at 2 places", pts_error=2)

    # 192- and 204-byte framings of a faulty file: same counts.
    pk = copy()
    v = plain_video(pk)
    for k in (1000, 5000):
        pk[v[k]][3] = (pk[v[k]][3] & 0xF0) | ((pk[v[k]][3] + 3) & 0xF)
    emit("lost-192", [bytes(4) + p for p in pk],
         "192-byte M2TS with 2 counter jumps (each: 2 errors)", continuity_count_error=4)
    emit("lost-204", [p + bytes(16) for p in pk],
         "204-byte packets with 2 counter jumps (each: 2 errors)", continuity_count_error=4)

    # Passthrough (relay tests): an SCTE-35 PID (splice_null every ~0.5 s)
    # and a private-data PID in place of null packets; no indicator fires.
    pk = copy()
    nulls = of_pid(pk, NULL)
    scte, private = 0x1F0, 0x1F1
    # splice_info_section: table 0xFC, SAP type 3, 17 bytes; protocol 0, not
    # encrypted, pts_adjustment 0, cw_index 0, tier 0xFFF, splice_null.
    splice = bytearray([0xFC, 0x30, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                        0x00, 0xFF, 0xF0, 0x00, 0x00, 0x00, 0x00])
    splice += crc32(splice).to_bytes(4, "big")
    cc = {scte: 0, private: 0}
    every = max(1, int(per_sec / 2))
    last_scte = -every
    for n, i in enumerate(nulls):
        if i - last_scte >= every:
            pk[i] = section_packet(scte, cc[scte], splice)
            cc[scte] += 1
            last_scte = i
        elif n % 3 == 0:
            q = bytearray([0x47, private >> 8, private & 0xFF, 0x10 | (cc[private] & 0xF)])
            q += bytearray((n * 7 + k) & 0xFF for k in range(PS - 4))
            pk[i] = q
            cc[private] += 1
    emit("extra-pids", pk, "SCTE-35 (0x1F0) and private data (0x1F1) beside the programme")

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(corpus, f, indent=1)


if __name__ == "__main__":
    main()
