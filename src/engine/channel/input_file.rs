//! A file or the generated test signal as a channel input (and the slate):
//! the player's reader and pacer ([`LoopingSource`], [`Pacer`]) turn it
//! into datagrams on its PCR schedule, looped seamlessly; a thread waits
//! for each one's time and offers it to the switch with that time as its
//! schedule time, so a UDP output departs on the PCR schedule + its delay.

use super::running::{spawn, ChannelError, Core, Part};
use crate::engine::config::LoopMode;
use crate::engine::pacer::Pacer;
use crate::engine::reader::LoopingSource;
use crate::engine::source::{probe_file, test_signal_info, ProbeRequest, SourceError};
use crate::engine::srt::time_now_us;
use crate::media::testsignal::TestSignal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest single sleep, so stop is seen quickly.
const NAP_US: i64 = 50_000;
/// How early each datagram is offered (its schedule time is kept): under
/// the UDP outputs' default 20 ms delay, so it is never late for them.
const AHEAD_US: i64 = 10_000;

/// Where a paced source's datagrams go.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// Input `n` of the channel (judged, switched like any input).
    Input(usize),
    /// The slate: out only when every input is down.
    Slate,
}

impl Target {
    fn name(self) -> String {
        match self {
            Target::Input(i) => format!("input {}", i + 1),
            Target::Slate => "slate".to_string(),
        }
    }
}

/// Probes and opens the file at `path`, then starts the thread that paces it.
pub(crate) fn start_file(
    path: &Path,
    loop_mode: LoopMode,
    target: Target,
    core: Arc<Core>,
) -> Result<Part, ChannelError> {
    let file_error = |source| match target {
        Target::Slate => ChannelError::Slate {
            path: path.display().to_string(),
            source,
        },
        Target::Input(i) => ChannelError::InputFile {
            index: i + 1,
            path: path.display().to_string(),
            source,
        },
    };
    let info = probe_file(path, ProbeRequest::default()).map_err(file_error)?;
    let source = LoopingSource::open(info, loop_mode != LoopMode::Off).map_err(file_error)?;
    let pacer = Pacer::new(source, loop_mode);
    let thread = spawn(&thread_name(target), move || play(&core, target, pacer))?;
    Ok(Part::thread(thread))
}

/// Starts the generated test signal `source` (`testsrc:…`) as input `index`.
pub(crate) fn start_test_signal(
    source: &str,
    index: usize,
    core: Arc<Core>,
) -> Result<Part, ChannelError> {
    let generator_error = |why: String| ChannelError::Io {
        what: format!("input {}: test signal", index + 1),
        source: std::io::Error::other(why),
    };
    let t = TestSignal::parse(source).map_err(generator_error)?;
    let info = test_signal_info(&t, source);
    let halt = Arc::new(AtomicBool::new(false));
    let reader = t.start(halt.clone()).map_err(generator_error)?;
    let pacer = Pacer::new(
        LoopingSource::from_stream(info, Box::new(reader)),
        LoopMode::Seamless,
    );
    let target = Target::Input(index);
    let thread = spawn(&thread_name(target), move || play(&core, target, pacer))?;
    let mut part = Part::thread(thread);
    part.wake = Some(Box::new(move || halt.store(true, Ordering::SeqCst)));
    Ok(part)
}

fn thread_name(target: Target) -> String {
    match target {
        Target::Input(i) => format!("relay-file-{}", i + 1),
        Target::Slate => "relay-slate".to_string(),
    }
}

fn play(core: &Core, target: Target, mut pacer: Pacer) {
    if !crate::engine::priority::raise_current_thread() {
        tracing::debug!("cannot raise the file input thread's priority (needs CAP_SYS_NICE)");
    }
    let origin = time_now_us() + AHEAD_US;
    while !core.stopped() {
        let d = match pacer.next_datagram() {
            Ok(Some(d)) => d,
            Ok(None) => {
                core.event(format!("{}: end of file", target.name()), false);
                break;
            }
            Err(e) => {
                report(core, target, &e);
                break;
            }
        };
        let due = origin + i64::try_from(d.send_time_ns / 1000).unwrap_or(i64::MAX);
        loop {
            // Offered a little early: outputs hold it to its time, so a late
            // wake-up of this thread never delays a departure.
            let wait = due - AHEAD_US - time_now_us();
            if wait <= 0 || core.stopped() {
                break;
            }
            std::thread::sleep(Duration::from_micros(wait.min(NAP_US) as u64));
        }
        match target {
            Target::Input(i) => core.deliver(i, &d.payload, due),
            Target::Slate => core.deliver_slate(&d.payload, due),
        }
    }
}

fn report(core: &Core, target: Target, e: &SourceError) {
    core.event(format!("{}: {e}", target.name()), true);
}
