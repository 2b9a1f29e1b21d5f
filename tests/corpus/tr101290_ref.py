#!/usr/bin/env python3
"""A small, separate reference checker for ETSI TR 101 290 counts.

    tr101290_ref.py FILE.ts   ->  JSON {indicator: count} on stdout

Written apart from the Rust analyzer, from the README's reading of the
standard, and built differently: it first cuts the file into packets, then
gives every packet a time by *interpolating* between the timestamps (the
analyzer extrapolates forward as it goes), then judges each indicator from
lists of arrival times. It reads 188-, 192- and 204-byte packets.
"""

import json
import sys

PS = 188
NULL = 0x1FFF
PCR_HZ = 27_000_000
PCR_WRAP = (1 << 33) * 300
PTS_WRAP = 1 << 33

# The README's reading of the standard.
PSI_PERIOD = 0.5          # 1.3, 1.5
PID_PERIOD = 5.0          # 1.6 (user setting, default)
PCR_REPETITION = 0.040    # 2.3a
PCR_MAX_STEP = 0.100      # 2.3b
PCR_ACCURACY_NS = 500.0   # 2.4
PTS_PERIOD = 0.700        # 2.5
WINDOW = 10               # 2.4: PCRs in the constant-rate fit
MOVED_AFTER = 3           # 2.4: inaccurate PCRs in a row that start a new line


def crc_mpeg(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


class Pkt:
    __slots__ = ("off", "b", "pid", "pusi", "tei", "scr", "afc", "cc")

    def __init__(self, off, b):
        self.off, self.b = off, b
        self.tei = bool(b[1] & 0x80)
        self.pusi = bool(b[1] & 0x40)
        self.pid = ((b[1] & 0x1F) << 8) | b[2]
        self.scr = b[3] >> 6
        self.afc = (b[3] >> 4) & 3
        self.cc = b[3] & 0xF

    def af_flags(self):
        if self.afc & 2 and self.b[4] >= 1:
            return self.b[5]
        return 0

    def disc(self):
        return bool(self.af_flags() & 0x80)

    def pcr(self):
        if self.afc & 2 and self.b[4] >= 7 and self.af_flags() & 0x10:
            b = self.b
            base = (b[6] << 25) | (b[7] << 17) | (b[8] << 9) | (b[9] << 1) | (b[10] >> 7)
            return base * 300 + (((b[10] & 1) << 8) | b[11])
        return None

    def payload(self):
        if not self.afc & 1:
            return b""
        start = 4 + (1 + self.b[4] if self.afc & 2 else 0)
        return self.b[start:] if start < PS else b""

    def pes_times(self):
        """(PTS, DTS) of a PES header starting here."""
        if not self.pusi:
            return None, None
        pl = self.payload()
        if len(pl) < 14 or pl[:3] != b"\x00\x00\x01" or pl[3] in (0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF):
            return None, None
        if pl[6] & 0xC0 != 0x80:
            return None, None

        def ts(o):
            return ((pl[o] >> 1) & 7) << 30 | pl[o + 1] << 22 | (pl[o + 2] >> 1) << 15 | pl[o + 3] << 7 | pl[o + 4] >> 1

        flags = pl[7] >> 6
        pts = ts(9) if flags & 2 else None
        dts = ts(14) if flags == 3 and len(pl) >= 19 else None
        return pts, dts


def packets(data, counts, events):
    """Cuts `data` into packets with TR 101 290 1.1/1.2 hysteresis; appends
    ('sync_loss', index) events (index = packets so far)."""
    out = []
    pos, stride, synced, bad = 0, None, False, 0
    n = len(data)
    while True:
        if not synced:
            strides = [stride] if stride else [188, 192, 204]
            found = False
            while pos + 4 * max(strides) + 1 <= n:
                if data[pos] == 0x47:
                    for s in strides:
                        if all(data[pos + k * s] == 0x47 for k in range(1, 5)):
                            stride, synced, bad, found = s, True, 0, True
                            break
                if found:
                    break
                pos += 1
            if not found:
                return out, stride, synced, n - pos
        while synced:
            if n - pos < PS:
                return out, stride, synced, n - pos
            if data[pos] == 0x47:
                bad = 0
                out.append(Pkt(pos, data[pos:pos + PS]))
            else:
                bad += 1
                counts["sync_byte_error"] += 1
                if bad >= 2:
                    counts["ts_sync_loss"] += 1
                    events.append(len(out))
                    synced = False
                    pos += 1
                    break
            pos += stride
            if pos > n:
                return out, stride, synced, 0


def time_line(pk):
    """(offsets, times) anchors: PCR of the first PCR PID, else DTS/PTS of the
    first PID with one. Returns also the name of the source."""
    src = None
    for p in pk:
        if p.pid != NULL and p.pcr() is not None:
            src = ("pcr", p.pid)
            break
    if src is None:
        for p in pk:
            if p.pid >= 0x20 and p.pid != NULL and any(v is not None for v in p.pes_times()):
                src = ("pts", p.pid)
                break
    anchors = []
    if src is None:
        return anchors
    last_v, t, rate = None, 0.0, None
    for p in pk:
        if p.pid != src[1]:
            continue
        if src[0] == "pcr":
            v = p.pcr()
            if v is None:
                continue
            step = None if last_v is None else ((v - last_v) % PCR_WRAP) / PCR_HZ
            jump = step is not None and (p.disc() or step > PCR_MAX_STEP or step <= 0)
        else:
            pts, dts = p.pes_times()
            v = dts if dts is not None else pts
            if v is None:
                continue
            step = None if last_v is None else ((v - last_v) % PTS_WRAP) / 90000.0
            jump = step is not None and (step > 2.0 or step <= 0)
        if anchors:
            o0, t0 = anchors[-1]
            if jump:
                t = t0 + ((p.off - o0) / rate if rate else 0.0)
            else:
                t = t0 + step
                if p.off > o0:
                    rate = (p.off - o0) / step
        anchors.append((p.off, t))
        last_v = v
    return anchors


def timer(anchors):
    """Time of a byte offset: interpolated between anchors, extrapolated after
    the last at the last rate, 0 before the first."""
    import bisect
    offs = [a[0] for a in anchors]

    def at(off):
        if not anchors or off <= offs[0]:
            return 0.0
        k = bisect.bisect_right(offs, off) - 1
        if k + 1 < len(anchors):
            (o0, t0), (o1, t1) = anchors[k], anchors[k + 1]
            if t1 >= t0 and o1 > o0:
                return t0 + (t1 - t0) * (off - o0) / (o1 - o0)
            return t0
        # After the last anchor: the rate of the last interval that moved time.
        for j in range(len(anchors) - 1, 0, -1):
            (o0, t0), (o1, t1) = anchors[j - 1], anchors[j]
            if t1 > t0 and o1 > o0:
                return anchors[-1][1] + (off - anchors[-1][0]) * (t1 - t0) / (o1 - o0)
        return anchors[-1][1]
    return at


def gaps(times, start, end, limit):
    """Gaps over `limit` in arrival times, from `start` to `end`."""
    n, last = 0, start
    for t in times + [end]:
        if t - last > limit:
            n += 1
        last = t
    return n


def residual_newest(win):
    n = len(win)
    if n < 3:
        return None
    mx = sum(x for x, _ in win) / n
    my = sum(y for _, y in win) / n
    sxx = sum((x - mx) ** 2 for x, _ in win)
    if sxx <= 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in win)
    x, y = win[-1]
    return y - (my + sxy / sxx * (x - mx))


def check(data):
    names = ["ts_sync_loss", "sync_byte_error", "pat_error", "continuity_count_error",
             "pmt_error", "pid_error", "transport_error", "crc_error",
             "pcr_repetition_error", "pcr_discontinuity_indicator_error",
             "pcr_accuracy_error", "pts_error"]
    c = {k: 0 for k in names}
    sync_losses = []
    pk, stride, synced, rest = packets(data, c, sync_losses)
    at = timer(time_line(pk))
    end_off = pk[-1].off + (stride or PS) if pk else 0
    t_end = at(end_off) if pk else 0.0

    # Per-packet pass in stream order.
    cc_state = {}            # pid -> (cc, payload-packet bytes, repeats)
    buf = {}                 # pid -> section bytes being assembled
    pat_times, pmt_times, pmt_since = [], {}, {}
    programs = {}            # program -> pmt pid
    refs = {}                # pid -> (since, [times])
    pcr_named = {}           # pcr pid -> (since, had_pcr)
    program_refs = {}        # program -> set of (pid, is_pcr)
    pts_times = {}
    pcr_state = {}           # pid -> dict
    si_pids = {0x01, 0x10, 0x11, 0x12, 0x14}
    loss_at = set(sync_losses)

    def restart_all_windows():
        for st in pcr_state.values():
            st["win"] = []
            st["base"] = None

    def on_section(pid, s, t):
        if len(s) >= 4 and (s[1] & 0x80 or s[0] == 0x73) and crc_mpeg(s) != 0:
            c["crc_error"] += 1
            return
        if pid == 0:
            if s[0] != 0:
                c["pat_error"] += 1
                return
            pat_times.append(t)
            new = {}
            for i in range(8, len(s) - 4 - 3, 4):
                num = (s[i] << 8) | s[i + 1]
                if num:
                    new[num] = ((s[i + 2] & 0x1F) << 8) | s[i + 3]
            if not (s[6] == 0 and s[7] == 0):
                new = {**programs, **new}
            if new != programs:
                for num, p in new.items():
                    if p not in pmt_since:
                        pmt_since[p] = t
                        pmt_times[p] = []
                for p in list(pmt_since):
                    if p not in new.values():
                        del pmt_since[p]
                programs.clear()
                programs.update(new)
                for num in list(program_refs):
                    if num not in programs:
                        del program_refs[num]
                update_refs(t)
        elif pid in pmt_since and s[0] == 2:
            pmt_times[pid].append(t)
            num = (s[3] << 8) | s[4]
            if num not in programs:
                return
            pcr_pid = ((s[8] & 0x1F) << 8) | s[9]
            i = 12 + (((s[10] & 0xF) << 8) | s[11])
            found = set()
            while i + 5 <= len(s) - 4:
                es = ((s[i + 1] & 0x1F) << 8) | s[i + 2]
                found.add((es, es == pcr_pid))
                i += 5 + (((s[i + 3] & 0xF) << 8) | s[i + 4])
            if pcr_pid != NULL and not any(p == pcr_pid for p, _ in found):
                found.add((pcr_pid, True))
            if program_refs.get(num) != found:
                program_refs[num] = found
                update_refs(t)

    def update_refs(t):
        now = set()
        for f in program_refs.values():
            now |= f
        for p in [p for p in refs if p not in {q for q, _ in now}]:
            finished_refs.append(refs.pop(p))
        for p in [p for p in pcr_named if (p, True) not in now]:
            del pcr_named[p]
        for p, is_pcr in now:
            if p not in refs:
                refs[p] = (t, [])
            if is_pcr and p not in pcr_named:
                pcr_named[p] = [t, p in pcr_state]

    finished_refs = []

    def drain(pid, t, on_section):
        drain_sections(buf, pid, t, on_section)

    for idx, p in enumerate(pk):
        if idx in loss_at:
            restart_all_windows()
        t = at(p.off)
        if p.tei:
            c["transport_error"] += 1
        # 1.4
        if p.pid != NULL:
            st = cc_state.get(p.pid)
            if p.afc & 1 == 0:
                if st is None or p.disc():
                    cc_state[p.pid] = (p.cc, st[1] if st else None, 0)
            elif st is None or p.disc():
                cc_state[p.pid] = (p.cc, p.b, 0)
            else:
                last, prev, reps = st
                same = prev is not None and p.b[1:4] == prev[1:4] and p.payload() == Pkt(0, prev).payload()
                if p.cc == last and same:
                    cc_state[p.pid] = (last, prev, reps + 1)
                    if reps + 1 >= 2:
                        c["continuity_count_error"] += 1
                    restart_all_windows()
                else:
                    cc_state[p.pid] = (p.cc, p.b, 0)
                    if p.cc != (last + 1) % 16:
                        c["continuity_count_error"] += 1
                        restart_all_windows()
        # PCR
        if p.pid != NULL and p.afc & 2:
            v = p.pcr()
            st = pcr_state.setdefault(p.pid, {"last": None, "declared": False, "win": [], "base": None, "row": 0})
            if v is None:
                if p.disc():
                    st["declared"] = True
            else:
                if p.pid in pcr_named:
                    pcr_named[p.pid][1] = True
                declared = st["declared"] or p.disc()
                st["declared"] = False
                continuous = False
                if st["last"] is not None:
                    lv, lt = st["last"]
                    step = (v - lv) % PCR_WRAP
                    continuous = step <= PCR_HZ * PCR_MAX_STEP and not declared
                    if step > PCR_HZ * PCR_MAX_STEP and not declared:
                        c["pcr_discontinuity_indicator_error"] += 1
                    interval = step / PCR_HZ if continuous else t - lt
                    if interval > PCR_REPETITION:
                        c["pcr_repetition_error"] += 1
                st["last"] = (v, t)
                if not continuous or st["base"] is None:
                    st["win"], st["base"], st["row"] = [], (v, p.off), 0
                bv, bo = st["base"]
                st["win"] = (st["win"] + [(p.off - bo, (v - bv) % PCR_WRAP)])[-WINDOW:]
                r = residual_newest(st["win"])
                if r is not None and abs(r) / PCR_HZ * 1e9 > PCR_ACCURACY_NS:
                    c["pcr_accuracy_error"] += 1
                    st["row"] += 1
                    if st["row"] >= MOVED_AFTER:
                        st["win"], st["base"], st["row"] = [(0, 0)], (v, p.off), 0
                    else:
                        x, y = st["win"][-1]
                        st["win"][-1] = (x, y - r)
                elif r is not None:
                    st["row"] = 0
        # 2.5
        if p.pid >= 0x20 and p.pid != NULL and p.pusi and p.afc & 1:
            pts, _ = p.pes_times()
            if pts is not None:
                pts_times.setdefault(p.pid, []).append(t)
        # 1.6 arrivals
        if p.pid in refs:
            refs[p.pid][1].append(t)
        # 2.3a: a PCR PID the PMT names that carries no PCR
        for q, named in pcr_named.items():
            if not named[1] and t - named[0] > PCR_REPETITION:
                named[1] = True
                c["pcr_repetition_error"] += 1
        # PSI/SI
        if p.pid == 0 or p.pid in si_pids or p.pid in pmt_since:
            if p.scr:
                if p.pid == 0:
                    c["pat_error"] += 1
                elif p.pid in pmt_since:
                    c["pmt_error"] += 1
                continue
            pl = p.payload()
            if not pl:
                continue
            if p.pusi:
                ptr = pl[0]
                if ptr + 1 > len(pl):
                    buf.pop(p.pid, None)
                    continue
                if p.pid in buf:
                    buf[p.pid] += pl[1:1 + ptr]
                    drain(p.pid, t, on_section)
                buf[p.pid] = bytearray(pl[1 + ptr:])
            elif p.pid in buf:
                buf[p.pid] += pl
            else:
                continue
            drain(p.pid, t, on_section)

    # Gaps, the end of the stream included.
    c["pat_error"] += gaps(pat_times, 0.0, t_end, PSI_PERIOD)
    if pk and not pat_times and c["pat_error"] == 0:
        c["pat_error"] += 1
    for q, since in pmt_since.items():
        c["pmt_error"] += gaps(pmt_times[q], since, t_end, PSI_PERIOD)
    for since, times in list(refs.values()):
        c["pid_error"] += gaps(times, since, t_end, PID_PERIOD)
    for times in pts_times.values():
        c["pts_error"] += gaps(times[1:], times[0], t_end, PTS_PERIOD)
    return c


def drain_sections(buf, pid, t, on_section):
    s = buf[pid]
    while True:
        if not s or s[0] == 0xFF:
            del buf[pid]
            return
        if len(s) < 3:
            return
        n = 3 + (((s[1] & 0xF) << 8) | s[2])
        if len(s) < n:
            return
        on_section(pid, bytes(s[:n]), t)
        del s[:n]


if __name__ == "__main__":
    print(json.dumps(check(open(sys.argv[1], "rb").read())))
