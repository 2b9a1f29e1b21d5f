use super::super::health::InputHealth;
use super::*;

const MS: i64 = 1000;
const OK: Health = Health::Healthy { for_ms: 0 };
const NEVER: Health = Health::NeverSeen;

fn ok_for(ms: u64) -> Health {
    Health::Healthy { for_ms: ms }
}

fn no_data(ms: u64) -> Health {
    Health::Down(DownReason::NoData { for_ms: ms })
}

/// A switch on air with input `live`.
fn on(live: usize, inputs: usize, slate: bool) -> Switch {
    let mut s = Switch::new(&SwitchSettings::default(), slate);
    let mut h = vec![no_data(100); inputs];
    h[live] = OK;
    assert!(s.decide(0, &h).is_some());
    assert_eq!(s.live(), Live::Input(live));
    s
}

#[test]
fn no_data_switches_only_after_switch_after_ms() {
    let mut s = on(0, 2, false);
    assert_eq!(s.decide(MS, &[no_data(999), OK]), None);
    let e = s.decide(2 * MS, &[no_data(1000), OK]).expect("a switch");
    assert_eq!(e.to, Live::Input(1));
    assert_eq!(e.reason.to_string(), "primary down: no TS for 1.0 s");
    assert_eq!(
        e.to_string(),
        "primary down: no TS for 1.0 s: primary → backup 1"
    );
}

#[test]
fn ts_level_failures_switch_at_once() {
    let burst = DownReason::ContinuityBurst {
        errors: 5,
        window_ms: 1000,
    };
    for why in [
        DownReason::SyncLoss,
        DownReason::NoPcr { for_ms: 500 },
        burst,
    ] {
        let mut s = on(0, 3, true);
        let e = s.decide(MS, &[Health::Down(why), NEVER, OK]);
        assert_eq!(
            e,
            Some(SwitchEvent {
                from: Live::Input(0),
                to: Live::Input(2),
                reason: SwitchReason::Down { input: 0, why }
            }),
            "the healthy backup, skipping the one never seen"
        );
    }
}

#[test]
fn slate_when_all_down_and_back_at_once_without_a_slate_the_input_stays() {
    let mut s = on(1, 2, true);
    let e = s.decide(MS, &[no_data(5000), Health::Down(DownReason::SyncLoss)]);
    assert_eq!(e.map(|e| e.to), Some(Live::Slate));
    assert_eq!(s.decide(2 * MS, &[no_data(6000), no_data(1000)]), None);
    let e = s
        .decide(3 * MS, &[no_data(7000), OK])
        .expect("off the slate");
    assert_eq!((e.from, e.to), (Live::Slate, Live::Input(1)));
    assert_eq!(e.reason.to_string(), "backup 1 healthy");
    // No slate and no other input: the damaged input stays on air.
    let mut s = on(0, 2, false);
    let down = Health::Down(DownReason::SyncLoss);
    assert_eq!(s.decide(MS, &[down, no_data(2000)]), None);
    assert_eq!(s.live(), Live::Input(0));
    assert_eq!(
        s.decide(2 * MS, &[down, OK]).map(|e| e.to),
        Some(Live::Input(1))
    );
}

#[test]
fn at_start_a_backup_waits_switch_after_ms_for_the_primary() {
    // The backup is healthy first, the primary shows up 300 ms later: the
    // primary takes the air, not the faster backup.
    let mut s = Switch::new(&SwitchSettings::default(), false);
    assert_eq!(s.decide(0, &[NEVER, NEVER]), None);
    assert_eq!(s.decide(100 * MS, &[NEVER, OK]), None);
    assert_eq!(
        s.decide(300 * MS, &[OK, ok_for(200)]).map(|e| e.to),
        Some(Live::Input(0))
    );
    // A primary never heard from: the backup takes the air after switch_after.
    let mut s = Switch::new(&SwitchSettings::default(), false);
    assert_eq!(s.decide(0, &[NEVER, OK]), None);
    assert_eq!(s.decide(999 * MS, &[NEVER, ok_for(999)]), None);
    let e = s
        .decide(1000 * MS, &[NEVER, ok_for(1000)])
        .expect("the backup");
    assert_eq!(e.to, Live::Input(1));
    // A primary known down does not hold the backup back.
    let mut s = Switch::new(&SwitchSettings::default(), false);
    assert_eq!(
        s.decide(0, &[no_data(50), OK]).map(|e| e.to),
        Some(Live::Input(1))
    );
}

#[test]
fn at_start_the_slate_waits_switch_after_ms_for_an_input() {
    let mut s = Switch::new(&SwitchSettings::default(), true);
    assert_eq!(s.decide(0, &[NEVER, NEVER]), None);
    assert_eq!(s.decide(999 * MS, &[NEVER, NEVER]), None);
    let e = s.decide(1000 * MS, &[NEVER, NEVER]).expect("the slate");
    assert_eq!((e.to, e.reason), (Live::Slate, SwitchReason::NoInput));
    // A healthy backup beats the slate, once the primary had its chance.
    let mut s = Switch::new(&SwitchSettings::default(), true);
    assert_eq!(s.decide(0, &[NEVER, OK]), None);
    let e = s.decide(1000 * MS, &[NEVER, OK]).expect("the backup");
    assert_eq!(e.to, Live::Input(1));
}

#[test]
fn return_after_the_hold_off_and_never_with_zero() {
    let mut s = on(1, 2, false);
    assert_eq!(s.decide(MS, &[ok_for(9_999), OK]), None);
    let e = s.decide(2 * MS, &[ok_for(10_000), OK]).expect("return");
    assert_eq!(e.to, Live::Input(0));
    assert_eq!(e.reason.to_string(), "back to primary after 10 s healthy");
    let settings = SwitchSettings {
        return_after_secs: 0,
        ..SwitchSettings::default()
    };
    let mut s = Switch::new(&settings, false);
    s.decide(0, &[no_data(50), OK]);
    assert_eq!(s.decide(MS, &[ok_for(u64::MAX), OK]), None);
    assert_eq!(s.live(), Live::Input(1));
    // Yet when the backup fails, the healthy primary is taken at once.
    let e = s.decide(2 * MS, &[OK, Health::Down(DownReason::SyncLoss)]);
    assert_eq!(e.map(|e| e.to), Some(Live::Input(0)));
}

/// A primary that delivers for 2 s and is silent for 2 s, over and over,
/// with a backup always there: after the first switch it never gets the air
/// back (return_after 10 s); once it stays, it does, 10 s later.
#[test]
fn a_primary_that_comes_and_goes_never_gets_the_air_back() {
    let settings = SwitchSettings::default();
    let mut inputs = [InputHealth::new(&settings), InputHealth::new(&settings)];
    let mut s = Switch::new(&settings, true);
    let mut events = Vec::new();
    let packet = |n: u64| {
        let mut p = [0xFFu8; 188];
        p[..4].copy_from_slice(&[0x47, 0x01, 0x00, 0x30 | (n & 0x0F) as u8]);
        p[4..6].copy_from_slice(&[7, 0x10]);
        crate::ts::packet::write_pcr_field(&mut p[6..12], n * 270_000);
        p
    };
    for tick in 0..6000u64 {
        let now = tick as i64 * 10 * MS; // 60 s in 10 ms steps
        let primary_on = tick >= 2000 || (tick / 200) % 2 == 0;
        if primary_on {
            inputs[0].feed(now, &packet(tick));
        }
        inputs[1].feed(now, &packet(tick));
        let health = [inputs[0].health(now), inputs[1].health(now)];
        if let Some(e) = s.decide(now, &health) {
            events.push((tick, e));
        }
    }
    let summary: Vec<(u64, Live)> = events.iter().map(|(t, e)| (*t, e.to)).collect();
    // On air once sync is acquired (5 packets); silent after 1.99 s: switch
    // at 2.99 s; steady from 20 s: back at 30 s.
    assert_eq!(
        summary,
        [
            (4, Live::Input(0)),
            (299, Live::Input(1)),
            (3000, Live::Input(0))
        ],
        "{events:?}"
    );
}

/// Random healths over time: whatever comes, the rules hold after each look.
#[test]
fn invariants_hold_over_random_healths() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let settings = SwitchSettings::default();
    for run in 0..200 {
        let inputs = 1 + rand(4) as usize;
        let slate = rand(2) == 0;
        let mut s = Switch::new(&settings, slate);
        for step in 0..300i64 {
            let now = step * 50 * MS;
            let health: Vec<Health> = (0..inputs)
                .map(|_| match rand(6) {
                    0 => NEVER,
                    1 => no_data(rand(2000)),
                    2 => Health::Down(DownReason::SyncLoss),
                    _ => ok_for(rand(20_000)),
                })
                .collect();
            let before = s.live();
            let e = s.decide(now, &health);
            let live = s.live();
            let ctx = format!("run {run} step {step}: {health:?} {before:?} → {live:?}");
            match e {
                Some(e) => assert!(e.from == before && e.to == live && before != live, "{ctx}"),
                None => assert_eq!(before, live, "{ctx}"),
            }
            let any_healthy = health.iter().any(Health::is_healthy);
            match live {
                Live::Input(i) => assert!(
                    s.failed(health[i], now).is_none() || (!slate && !any_healthy),
                    "{ctx}"
                ),
                Live::Slate => assert!(slate && !any_healthy, "{ctx}"),
                // At the start a backup waits switch_after (20 steps) for
                // an input of higher priority not heard from yet.
                Live::Nothing => assert!(
                    (step < 20 || !any_healthy && !slate) && before == Live::Nothing,
                    "{ctx}"
                ),
            }
            if let Some(SwitchReason::Return { input, .. }) = e.map(|e| e.reason) {
                assert!(
                    matches!(health[input], Health::Healthy { for_ms } if for_ms >= 10_000),
                    "{ctx}"
                );
            }
        }
    }
}
