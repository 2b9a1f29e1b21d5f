//! A file or the generated test signal as a channel input (and the slate):
//! the player's reader and pacer ([`LoopingSource`], [`Pacer`]) turn it
//! into datagrams on its PCR schedule, looped seamlessly. It runs on the
//! shared sending pool (`scheduler.rs`, as the players' inputs do): a
//! worker wakes for each one's time and offers it to the switch with that
//! time as its schedule time, however late the worker woke, so an SRT
//! output's srctime is the PCR schedule and a UDP output departs on it
//! plus its delay. The test signal, which waits on its encoder, gets a
//! worker of its own.

use super::running::{ChannelError, Core, Part};
use crate::engine::config::LoopMode;
use crate::engine::pacer::{Datagram, Pacer};
use crate::engine::reader::LoopingSource;
use crate::engine::scheduler::{self, Handle, Paced};
use crate::engine::sender::Step;
use crate::engine::shared::lock;
use crate::engine::source::{probe_file, test_signal_info, ProbeRequest, SourceError};
use crate::engine::srt::SrtClock;
use crate::media::testsignal::TestSignal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How early each datagram is offered (its schedule time is kept): under
/// the UDP outputs' default 20 ms delay, so it is never late for them.
const AHEAD: Duration = Duration::from_millis(10);

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
    pool(
        FileInput::new(core, target, Pacer::new(source, loop_mode)),
        false,
    )
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
    let mut part = pool(FileInput::new(core, Target::Input(index), pacer), true)?;
    let stop = part.wake.take();
    part.wake = Some(Box::new(move || {
        // Its read waits on the encoder: ended first.
        halt.store(true, Ordering::SeqCst);
        if let Some(stop) = &stop {
            stop();
        }
    }));
    Ok(part)
}

/// Hands `input` to the sending pool (`dedicated`: a worker of its own);
/// its part stops it (waits until it has left its worker).
fn pool(input: FileInput, dedicated: bool) -> Result<Part, ChannelError> {
    let label = input.target.name().replace(' ', "-");
    let handle = scheduler::spawn(Box::new(input), &label, dedicated).map_err(|source| {
        ChannelError::Io {
            what: format!("cannot start the sending thread of {label}"),
            source,
        }
    })?;
    let handle: Mutex<Option<Handle>> = Mutex::new(Some(handle));
    Ok(Part {
        thread: None,
        link: None,
        events: None,
        wake: Some(Box::new(move || {
            if let Some(h) = lock(&handle).take() {
                h.stop();
            }
        })),
        sink: None,
    })
}

/// A paced file or test signal on a worker of the sending pool.
struct FileInput {
    core: Arc<Core>,
    target: Target,
    pacer: Pacer,
    clock: SrtClock,
    /// When the schedule began, and the first datagram's schedule time.
    origin: Option<(Instant, u64)>,
    /// The next datagram: when to offer it, and its schedule time (µs on
    /// libsrt's clock).
    pending: Option<(Instant, i64, Datagram)>,
}

impl FileInput {
    fn new(core: Arc<Core>, target: Target, pacer: Pacer) -> Self {
        core.pooled.fetch_add(1, Ordering::SeqCst);
        Self {
            core,
            target,
            pacer,
            clock: SrtClock::now(),
            origin: None,
            pending: None,
        }
    }
}

impl Drop for FileInput {
    /// Off its worker: ended, failed or stopped.
    fn drop(&mut self) {
        self.core.pooled.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Paced for FileInput {
    fn prepare(&mut self) -> Step {
        if self.core.stopped() {
            return Step::Stop;
        }
        if let Some((at, _, _)) = &self.pending {
            return Step::Due(*at);
        }
        match self.pacer.next_datagram() {
            Ok(Some(d)) => {
                let (t0, first_ns) = *self
                    .origin
                    .get_or_insert_with(|| (Instant::now() + AHEAD, d.send_time_ns));
                let due = t0 + Duration::from_nanos(d.send_time_ns.saturating_sub(first_ns));
                // Offered a little early: outputs hold it to its time, so a
                // late wake-up of the worker never delays a departure.
                let at = due.checked_sub(AHEAD).unwrap_or(due);
                self.pending = Some((at, self.clock.srt_us(due), d));
                Step::Due(at)
            }
            Ok(None) => {
                let name = self.target.name();
                self.core.event(format!("{name}: end of file"), false);
                Step::Stop
            }
            Err(e) => {
                report(&self.core, self.target, &e);
                Step::Stop
            }
        }
    }

    fn fire(&mut self) {
        let Some((_, due_us, d)) = self.pending.take() else {
            return;
        };
        match self.target {
            Target::Input(i) => self.core.deliver(i, &d.payload, due_us),
            Target::Slate => self.core.deliver_slate(&d.payload, due_us),
        }
    }

    fn finish(&self) {}

    fn stopped(&self) -> bool {
        self.core.stopped()
    }
}

fn report(core: &Core, target: Target, e: &SourceError) {
    core.event(format!("{}: {e}", target.name()), true);
}
