//! The slate: a TS file played when every input is down, looped seamlessly
//! and paced by its own PCR — the player's reader and pacer
//! ([`LoopingSource`], [`Pacer`]). It runs from the start, kept hot like a
//! backup: its datagrams are offered to the switch with their schedule
//! times, and only go out while the slate is on air.

use super::running::{spawn, ChannelError, Core, Part};
use crate::engine::config::LoopMode;
use crate::engine::pacer::Pacer;
use crate::engine::reader::LoopingSource;
use crate::engine::source::{probe_file, ProbeRequest};
use crate::engine::srt::time_now_us;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Longest single sleep, so stop is seen quickly.
const NAP_US: i64 = 50_000;

/// Probes and opens `path`, then starts the thread that paces it.
pub(crate) fn start(path: &Path, core: Arc<Core>) -> Result<Part, ChannelError> {
    let slate_error = |source| ChannelError::Slate {
        path: path.display().to_string(),
        source,
    };
    let info = probe_file(path, ProbeRequest::default()).map_err(slate_error)?;
    let source = LoopingSource::open(info, true).map_err(slate_error)?;
    let pacer = Pacer::new(source, LoopMode::Seamless);
    let thread = spawn("relay-slate", move || play(&core, pacer))?;
    Ok(Part::thread(thread))
}

fn play(core: &Core, mut pacer: Pacer) {
    let origin = time_now_us();
    while !core.stopped() {
        let d = match pacer.next_datagram() {
            Ok(Some(d)) => d,
            Ok(None) => break,
            Err(e) => {
                core.event(format!("slate: {e}"), true);
                break;
            }
        };
        let due = origin + i64::try_from(d.send_time_ns / 1000).unwrap_or(i64::MAX);
        loop {
            let wait = due - time_now_us();
            if wait <= 0 || core.stopped() {
                break;
            }
            std::thread::sleep(Duration::from_micros(wait.min(NAP_US) as u64));
        }
        core.deliver_slate(&d.payload, due);
    }
}
