//! Leaving the app without taking a stream off air unasked: the question
//! before closing with streams on air (window close button, Ctrl+Q), and
//! SIGTERM/SIGINT/SIGHUP (logout, systemd, `kill`), which close the window
//! without asking after the line-up is saved; the engine then stops every
//! stream and flushes recordings before the process ends.

use crate::engine::receiver::ReceiverSnapshot;
use crate::engine::StreamSnapshot;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What closing now would take off air, in words ("4 streams on air, 3
/// receivers connected, 1 recording"), or None when nothing runs.
pub fn on_air_summary(
    players: &[StreamSnapshot],
    receivers: &[ReceiverSnapshot],
) -> Option<String> {
    let on_air = players.iter().filter(|s| s.state.is_running()).count();
    let callers: usize = players
        .iter()
        .map(super::dashboard::receivers_connected)
        .sum();
    let inputs = receivers.iter().filter(|r| r.state.is_running()).count();
    let recording = receivers
        .iter()
        .filter(|r| r.state.is_running() && r.recording.is_some())
        .count();
    if on_air == 0 && inputs == 0 {
        return None;
    }
    let count = |n: usize, one: &str, many: &str, tail: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}{tail}")),
        n => Some(format!("{n} {many}{tail}")),
    };
    let parts: Vec<String> = [
        count(on_air, "stream", "streams", " on air"),
        count(callers, "receiver", "receivers", " connected"),
        count(inputs, "input", "inputs", " being received"),
        count(recording, "recording", "recordings", ""),
    ]
    .into_iter()
    .flatten()
    .collect();
    Some(parts.join(", "))
}

/// Watches SIGTERM, SIGINT and SIGHUP: the returned flag is set and the UI
/// woken (so that it sees the flag even when idle or minimised). The
/// signals no longer end the process by themselves: the app does, cleanly.
pub fn watch_signals(ctx: egui::Context) -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    let mut signals = match signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(
                "cannot watch SIGTERM/SIGINT: {e}; a signal ends the app without saving"
            );
            return flag;
        }
    };
    let set = flag.clone();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                tracing::info!("signal {sig}: saving the line-up, stopping streams, quitting");
                set.store(true, Ordering::SeqCst);
                ctx.request_repaint();
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the signal watcher: {e}");
    }
    flag
}

/// The answer to the quit question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitAnswer {
    Quit,
    KeepRunning,
}

/// The question before quitting with streams on air, as a modal. Esc or a
/// click outside keeps running.
pub fn quit_ui(ctx: &egui::Context, summary: &str) -> Option<QuitAnswer> {
    let mut answer = None;
    let modal = egui::Modal::new(egui::Id::unique("quit-question")).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading("Quit SRT Streamer?");
        ui.label(format!("{summary} — Quit and stop them?"));
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let quit = egui::Button::new(
                egui::RichText::new("Quit and stop them").color(egui::Color32::WHITE),
            )
            .fill(egui::Color32::from_rgb(150, 25, 25));
            if ui.add(quit).clicked() {
                answer = Some(QuitAnswer::Quit);
            }
            if ui.button("Keep running").clicked() {
                answer = Some(QuitAnswer::KeepRunning);
            }
        });
    });
    if modal.should_close() && answer.is_none() {
        answer = Some(QuitAnswer::KeepRunning);
    }
    answer
}
