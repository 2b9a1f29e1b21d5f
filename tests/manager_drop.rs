//! Dropping a `StreamManager` ends, whatever it holds: a player publishing
//! into a channel (SRT listener input with a passphrase), the channel's
//! outputs (an SRT listener read by srt-live-transmit, an analyzer), a
//! receiver reading the channel, and a receiver calling a port where nobody
//! listens. The drop runs on a thread of its own; the test waits for it with
//! a hang limit (not a timing figure): a drop that never ends fails the test
//! instead of hanging the run. Also the drop during a panic's unwind, as a
//! test that fails during setup does.

mod common;

use common::{free_port, sample, Receiver};
use srt_streamer::engine::channel::ChannelConfig;
use srt_streamer::engine::config::parse_uri;
use srt_streamer::engine::receiver::ReceiveRequest;
use srt_streamer::engine::{LoopMode, StreamManager};
use std::sync::mpsc;
use std::time::Duration;

/// Far beyond any orderly stop: reaching it means the drop hangs.
const HANG_LIMIT: Duration = Duration::from_secs(30);

/// One test at a time: each runs real-time peers on a shared machine.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

fn receive(uri: &str) -> ReceiveRequest {
    ReceiveRequest {
        config: parse_uri(uri, "").unwrap(),
        record: None,
        analysis: Default::default(),
        monitor: None,
    }
}

/// What the line-up holds, for the variations to pick from.
#[derive(Clone, Copy)]
struct Lineup {
    /// A player publishes into the channel's input.
    player: bool,
    /// A receiver of the same manager reads the channel's second output.
    reading_receiver: bool,
    /// A receiver calls a port where nobody listens (retrying).
    lonely_receiver: bool,
    /// srt-live-transmit reads the channel's first output.
    reader: bool,
    /// The player plays this many seconds of the sample once (else the
    /// whole sample, looped).
    once_secs: Option<f64>,
}

/// Builds the manager: a channel (passphrase input, two SRT listener
/// outputs, an analyzer), a player publishing into it, and the receivers
/// `l` asks for. The outside reader is returned to be kept alive.
fn build(l: &Lineup, dir: &std::path::Path) -> (StreamManager, Option<Receiver>, u16) {
    let (input, out_a, out_b) = (free_port(), free_port(), free_port());
    let mut m = common::manager();
    let cfg = ChannelConfig::from_uris(
        "drop",
        &[format!(
            "srt://:{input}?latency=200&passphrase=secretsecret99&streamid=%23!::r=live,m=publish"
        )],
        &[
            format!("srt://:{out_a}?latency=200"),
            format!("srt://:{out_b}?latency=200&streamid=%23!::r=feed"),
            "analyze:".into(),
        ],
    )
    .unwrap();
    m.start_channel(cfg).expect("the channel starts");
    let file = l
        .once_secs
        .map_or_else(sample, |s| common::cut_sample(dir, s));
    let mut player = common::uri_config(
        &file,
        &format!(
            "srt://127.0.0.1:{input}?mode=caller&latency=200&passphrase=secretsecret99\
             &streamid=%23!::r=live,m=publish"
        ),
    );
    if l.once_secs.is_some() {
        player.loop_mode = LoopMode::Off;
    }
    if l.player {
        m.start(player).expect("the player starts");
    }
    if l.reading_receiver {
        let uri = format!("srt://127.0.0.1:{out_b}?mode=caller&latency=200&streamid=%23!::r=feed");
        m.start_receiver(receive(&uri))
            .expect("the receiver starts");
    }
    if l.lonely_receiver {
        let uri = format!("srt://127.0.0.1:{}?mode=caller", free_port());
        m.start_receiver(receive(&uri))
            .expect("the lonely receiver starts");
    }
    let reader = l.reader.then(|| {
        let r = Receiver::slt(
            &format!("srt://127.0.0.1:{out_a}?latency=200"),
            dir.join("reader.ts"),
        );
        if l.player {
            assert!(
                r.wait_bytes(200_000, Duration::from_secs(20)),
                "the reader gets the channel"
            );
        }
        r
    });
    (m, reader, out_a)
}

/// Runs `f` on a thread of its own: whether it panicked, or `None` when it
/// did not end within the limit.
fn outcome(f: impl FnOnce() + Send + 'static) -> Option<bool> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err();
        let _ = tx.send(panicked);
    });
    rx.recv_timeout(HANG_LIMIT).ok()
}

/// `f` ended within the limit, without panicking.
fn ends(f: impl FnOnce() + Send + 'static) -> bool {
    outcome(f) == Some(false)
}

/// Builds `l`, lets it run `secs`, drops the manager (then the outside
/// reader): true when all of that ended within the limit.
fn dropped_after(l: Lineup, secs: u64) -> bool {
    ends(move || {
        let dir = tempfile::tempdir().unwrap();
        let (m, r, _) = build(&l, dir.path());
        std::thread::sleep(Duration::from_secs(secs));
        drop(m);
        drop(r);
    })
}

const ALL: Lineup = Lineup {
    player: true,
    reading_receiver: true,
    lonely_receiver: true,
    reader: true,
    once_secs: None,
};

#[test]
fn a_manager_dropped_right_after_start_ends() {
    let _one = serial();
    let lineup = Lineup {
        reader: false,
        ..ALL
    };
    let done = dropped_after(lineup, 0);
    assert!(done, "dropping the manager right after start hangs");
}

#[test]
fn a_manager_dropped_while_a_caller_retries_ends() {
    let _one = serial();
    let done = ends(|| {
        let mut m = common::manager();
        let uri = format!("srt://127.0.0.1:{}?mode=caller", free_port());
        m.start_receiver(receive(&uri))
            .expect("the receiver starts");
        std::thread::sleep(Duration::from_secs(4));
        drop(m);
    });
    assert!(done, "dropping a manager whose receiver retries hangs");
}

#[test]
fn a_manager_with_everything_on_air_dropped_ends() {
    let _one = serial();
    let done = dropped_after(ALL, 3);
    assert!(done, "dropping a manager with everything on air hangs");
}

#[test]
fn a_manager_stopped_then_dropped_ends() {
    let _one = serial();
    let done = ends(|| {
        let dir = tempfile::tempdir().unwrap();
        let (mut m, _r, _) = build(&ALL, dir.path());
        m.stop_all();
        drop(m);
    });
    assert!(done, "stop_all then drop hangs");
}

#[test]
fn a_panic_during_setup_unwinds_through_the_manager() {
    let _one = serial();
    let done = outcome(|| {
        let dir = tempfile::tempdir().unwrap();
        let (mut m, _r, taken) = build(&ALL, dir.path());
        // A setup mistake: a start call refused (the channel's port), and
        // the test's unwrap panics with the manager alive on its stack.
        let bad = format!("srt://:{taken}?mode=listener");
        m.start_receiver(receive(&bad)).unwrap();
    });
    assert_eq!(
        done,
        Some(true),
        "the refused start panics, and the manager's drop in the unwind ends"
    );
}

#[test]
fn managers_dropped_while_their_links_come_up_end() {
    let _one = serial();
    let lineup = Lineup {
        reader: false,
        ..ALL
    };
    for _ in 0..4 {
        let done = dropped_after(lineup, 0);
        assert!(done, "a manager dropped while its links come up hangs");
    }
}

#[test]
fn a_manager_whose_player_ended_dropped_ends() {
    let _one = serial();
    let lineup = Lineup {
        once_secs: Some(2.0),
        ..ALL
    };
    // The file played once: the channel's input loses its publisher.
    let done = dropped_after(lineup, 5);
    assert!(done, "dropping a manager whose player ended hangs");
}

/// Each stage of the line-up (the channel alone, then with the player, the
/// receivers, the reader), dropped at once and after a while on air: the
/// setups a test that fails half-way leaves behind.
#[test]
fn managers_dropped_at_every_stage_of_a_setup_end() {
    let _one = serial();
    let none = Lineup {
        player: false,
        reading_receiver: false,
        lonely_receiver: false,
        reader: false,
        once_secs: None,
    };
    let stages = [
        none,
        Lineup {
            reader: true,
            ..none
        },
        Lineup {
            player: true,
            ..none
        },
        Lineup {
            reading_receiver: true,
            ..none
        },
        Lineup {
            lonely_receiver: true,
            reading_receiver: true,
            player: true,
            ..none
        },
    ];
    for (i, stage) in stages.into_iter().enumerate() {
        for wait in [0, 2] {
            let done = dropped_after(stage, wait);
            assert!(done, "stage {i}, dropped after {wait} s: the drop hangs");
        }
    }
}
