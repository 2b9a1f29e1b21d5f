use super::*;

const MS: i64 = 1000;

/// A synthetic input: packets on PID 0x100, the first of each datagram with a PCR.
#[derive(Default)]
struct Gen {
    cc: u8,
    n: u64,
}

impl Gen {
    fn packet(&mut self, pcr: bool) -> [u8; PACKET_SIZE] {
        let mut p = [0u8; PACKET_SIZE];
        p[..4].copy_from_slice(&[SYNC_BYTE, 0x01, 0x00, 0x10 | self.cc]);
        if pcr {
            p[3] |= 0x20;
            p[4] = 7;
            p[5] = 0x10;
            packet::set_pcr(&mut p, 0);
            packet::write_pcr_field(&mut p[6..12], self.n * 27_000);
        }
        p[100..108].copy_from_slice(&self.n.to_be_bytes());
        self.cc = (self.cc + 1) & 0x0F;
        self.n += 1;
        p
    }

    fn datagram(&mut self, pcr: bool) -> Vec<u8> {
        (0..7).flat_map(|i| self.packet(pcr && i == 0)).collect()
    }
}

fn healthy_input() -> (InputHealth, Gen) {
    let mut h = InputHealth::new(&SwitchSettings::default());
    let mut g = Gen::default();
    h.feed(0, &g.datagram(true));
    (h, g)
}

#[test]
fn never_seen_then_healthy_for_as_long_as_it_lasts() {
    let mut h = InputHealth::new(&SwitchSettings::default());
    assert_eq!(h.health(0), Health::NeverSeen);
    let mut g = Gen::default();
    for t in 0..100 {
        h.feed(t * 10 * MS, &g.datagram(true));
    }
    assert_eq!(h.health(990 * MS), Health::Healthy { for_ms: 990 });
}

#[test]
fn no_data_after_100_ms_and_healthy_again_with_the_next_datagram() {
    let (mut h, mut g) = healthy_input();
    assert!(h.health(99 * MS).is_healthy());
    let down = h.health(1200 * MS);
    assert_eq!(down, Health::Down(DownReason::NoData { for_ms: 1200 }));
    assert_eq!(down.to_string(), "down: no TS for 1.2 s");
    h.feed(1200 * MS, &g.datagram(true));
    assert_eq!(h.health(1200 * MS), Health::Healthy { for_ms: 0 });
}

/// A live feed that comes in bursts (ffmpeg -re: a frame's worth at a
/// time, 150 ms apart here) is healthy all along, its healthy time keeps
/// growing (so return_after can be reached), and the pauses never read as
/// "down".
#[test]
fn a_bursty_feed_stays_healthy_and_its_healthy_time_grows() {
    let (mut h, mut g) = healthy_input();
    for burst in 1..=80i64 {
        let t = burst * 150 * MS;
        for k in 0..5 {
            h.feed(t + k * MS, &g.datagram(k == 0));
        }
        for probe in [t + 10 * MS, t + 120 * MS, t + 149 * MS] {
            assert!(
                h.health(probe).is_healthy(),
                "{probe}: {:?}",
                h.health(probe)
            );
        }
    }
    let Health::Healthy { for_ms } = h.health(12_010 * MS) else {
        panic!("{:?}", h.health(12_010 * MS));
    };
    assert!(for_ms >= 12_000, "healthy for {for_ms} ms");
}

#[test]
fn a_gap_shorter_than_switch_after_does_not_turn_into_no_pcr_when_data_resumes() {
    let (mut h, mut g) = healthy_input();
    // 600 ms of silence, then packets without a PCR yet.
    h.feed(600 * MS, &g.datagram(false));
    assert!(h.health(610 * MS).is_healthy(), "{:?}", h.health(610 * MS));
    h.feed(620 * MS, &g.datagram(true));
    assert!(h.health(620 * MS).is_healthy());
}

#[test]
fn garbage_loses_sync_and_five_good_packets_regain_it() {
    let (mut h, mut g) = healthy_input();
    let garbage: Vec<u8> = (0..7 * PACKET_SIZE)
        .map(|i| (i * 7 + 1) as u8 | 1)
        .collect();
    h.feed(10 * MS, &garbage);
    let down = h.health(10 * MS);
    assert_eq!(down, Health::Down(DownReason::SyncLoss));
    assert_eq!(down.to_string(), "down: sync lost");
    for i in 0..4 {
        h.feed((20 + i) * MS, &g.packet(true));
        assert_eq!(h.health((20 + i) * MS), down, "{} good packets", i + 1);
    }
    h.feed(24 * MS, &g.packet(true));
    assert_eq!(h.health(24 * MS), Health::Healthy { for_ms: 0 });
}

/// TR 101 290 1.1 as a reference model, against every sequence of 12 good
/// and bad units starting from a locked stream.
#[test]
fn sync_follows_tr101290_on_every_sequence_of_12_units() {
    for bits in 0u32..(1 << 12) {
        let (mut h, mut g) = healthy_input();
        let (mut locked, mut run) = (true, 0);
        for k in 0..12 {
            let good = bits & (1 << k) != 0;
            let unit = if good {
                g.packet(true).to_vec()
            } else {
                vec![0u8; 100] // a short tail: also a bad sync byte
            };
            h.feed(MS + k, &unit);
            (locked, run) = match (locked, good) {
                (true, true) => (true, 0),
                (true, false) if run + 1 >= 2 => (false, 0),
                (true, false) => (true, run + 1),
                (false, true) if run + 1 >= 5 => (true, 0),
                (false, true) => (false, run + 1),
                (false, false) => (false, 0),
            };
            let lost = h.health(MS + k) == Health::Down(DownReason::SyncLoss);
            assert_eq!(lost, !locked, "sequence {bits:012b} at unit {k}");
        }
    }
}

#[test]
fn no_pcr_for_the_timeout_and_back_with_the_next_pcr() {
    let (mut h, mut g) = healthy_input();
    for t in 1..=60 {
        h.feed(t * 10 * MS, &g.datagram(false));
    }
    assert!(h.health(490 * MS).is_healthy());
    let down = h.health(600 * MS);
    assert_eq!(down, Health::Down(DownReason::NoPcr { for_ms: 600 }));
    assert_eq!(down.to_string(), "down: no PCR for 600 ms");
    h.feed(600 * MS, &g.datagram(true));
    assert_eq!(h.health(600 * MS), Health::Healthy { for_ms: 0 });
}

#[test]
fn a_burst_of_continuity_errors_and_recovery_once_the_window_has_passed() {
    let (mut h, mut g) = healthy_input();
    for t in 1..=4 {
        g.cc = (g.cc + 3) & 0x0F; // two packets lost
        h.feed(t * 10 * MS, &g.datagram(true));
    }
    assert!(
        h.health(40 * MS).is_healthy(),
        "4 errors are below the burst"
    );
    g.cc = (g.cc + 3) & 0x0F;
    h.feed(50 * MS, &g.datagram(true));
    let down = h.health(50 * MS);
    let burst = DownReason::ContinuityBurst {
        errors: 5,
        window_ms: 1000,
    };
    assert_eq!(down, Health::Down(burst));
    assert_eq!(down.to_string(), "down: 5 continuity errors in 1 s");
    for t in 6..=101 {
        h.feed(t * 10 * MS, &g.datagram(true));
    }
    // The first error (at 10 ms) has left the 1 s window.
    assert_eq!(
        h.health(1010 * MS),
        Health::Healthy { for_ms: 0 },
        "four errors left in the window"
    );
}

#[test]
fn a_short_failure_between_two_looks_restarts_the_healthy_streak() {
    let (mut h, mut g) = healthy_input();
    for t in 1..100 {
        h.feed(t * 10 * MS, &g.datagram(t != 50)); // no PCR in one datagram
    }
    assert_eq!(h.health(990 * MS), Health::Healthy { for_ms: 990 });
    // A datagram of garbage and the stream again, never looked at in between.
    h.feed(1000 * MS, &[0u8; 2 * PACKET_SIZE]);
    for t in 101..110 {
        h.feed(t * 10 * MS, &g.datagram(true));
    }
    // Sync came back with the fifth good packet, at 1010 ms.
    assert_eq!(h.health(1090 * MS), Health::Healthy { for_ms: 80 });
    // A PCR gap over the timeout, ended by the very datagram that shows it.
    for t in 1..6 {
        h.feed((1090 + t * 90) * MS, &g.datagram(false));
    }
    h.feed(1630 * MS, &g.datagram(true));
    assert_eq!(h.health(1630 * MS), Health::Healthy { for_ms: 0 });
}

#[test]
fn durations_in_words() {
    let cases = [
        (DownReason::NoData { for_ms: 1000 }, "no TS for 1.0 s"),
        (DownReason::NoPcr { for_ms: 1500 }, "no PCR for 1.5 s"),
        (
            DownReason::ContinuityBurst {
                errors: 7,
                window_ms: 500,
            },
            "7 continuity errors in 500 ms",
        ),
    ];
    for (r, words) in cases {
        assert_eq!(r.to_string(), words);
    }
}
