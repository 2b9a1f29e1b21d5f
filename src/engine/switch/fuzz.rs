//! The body of the switch's fuzz target (`fuzz/`, cargo-fuzz on nightly),
//! here so the stable test suite runs it too.

use super::{InputHealth, Live, Switch, SwitchSettings, TimelineRepair};
use crate::engine::config::LoopMode;

/// Any bytes as datagrams of two inputs at any times, through health, the
/// switch and the timeline repair in every mode: nothing panics, and the
/// repair only ever sends whole packets.
pub fn switch_any(data: &[u8]) {
    let settings = SwitchSettings::default();
    let mut health = [InputHealth::new(&settings), InputHealth::new(&settings)];
    let mut switch = Switch::new(&settings, data.first().is_some_and(|b| b & 1 != 0));
    let mut repairs = [
        TimelineRepair::new(LoopMode::Seamless),
        TimelineRepair::new(LoopMode::Signalled),
        TimelineRepair::new(LoopMode::Off),
    ];
    let mut now_us = 0i64;
    let mut out = Vec::new();
    let mut rest = data;
    // Each datagram: [input/flags, time step, length] then the bytes.
    while let [flags, step, len, tail @ ..] = rest {
        let n = (usize::from(*len) * 11).min(tail.len());
        let (datagram, next) = tail.split_at(n);
        rest = next;
        now_us += i64::from(*step) * 997;
        let input = usize::from(flags & 1);
        health[input].feed(now_us, datagram);
        let h = [health[0].health(now_us), health[1].health(now_us)];
        if let Some(e) = switch.decide(now_us, &h) {
            let _words = e.to_string(); // Display must not panic either
        }
        let source = if flags & 2 != 0 {
            Live::Input(input)
        } else {
            switch.live()
        };
        for r in &mut repairs {
            out.clear();
            r.process_datagram(now_us, source, datagram, &mut out);
            assert_eq!(out.len() % 188, 0, "whole packets only");
            assert!(out.chunks(188).all(|p| p[0] == 0x47));
        }
    }
}

#[cfg(test)]
mod tests {
    /// The fuzz body over real packets cut and mixed with noise.
    #[test]
    fn mutated_real_stream_passes_through_the_fuzz_body() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/media/sample.ts");
        let file = std::fs::read(path).expect("media/sample.ts");
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..40 {
            let start = (round * 7919 * 188) % (file.len() - 200_000);
            let mut data = Vec::new();
            for chunk in file[start..start + 150_000].chunks(7 * 188) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let len = if seed.is_multiple_of(5) {
                    chunk.len() / 2
                } else {
                    chunk.len()
                };
                data.extend_from_slice(&[seed as u8, (seed >> 8) as u8 % 40, (len / 11) as u8]);
                data.extend_from_slice(&chunk[..len / 11 * 11]);
                if seed.is_multiple_of(17) {
                    data.push((seed >> 16) as u8); // noise shifts the framing
                }
            }
            super::switch_any(&data);
        }
    }
}
