//! The app's side of the line-up and of leaving: the line-up saved at every
//! change, the restore offer at launch, the question before quitting with
//! streams on air, and a clean exit on a signal.

use super::super::lifecycle::{on_air_summary, quit_ui, QuitAnswer};
use super::super::on_air::{Locked, Unlocked};
use super::super::restore_ui::{offer_ui, OfferAnswer, RestoreOffer};
use super::super::session::{needs_passphrase, LineUp};
use super::{App, Command, Screen};
use crate::engine::{StreamSnapshot, StreamState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long restored entries count as on air while the engine starts them.
const RESTORING: Duration = Duration::from_secs(10);

/// Where leaving stands.
#[derive(Default)]
pub(crate) struct Leaving {
    /// Set by SIGTERM/SIGINT/SIGHUP (when the app watches signals).
    pub signal: Option<Arc<AtomicBool>>,
    /// The quit question on screen, with what would go off air.
    pub asking: Option<String>,
    /// Quitting: the line-up is final and the window may close.
    pub closing: bool,
    /// Restored entries the engine is starting, and since when.
    pub restored: Option<(LineUp, Instant)>,
}

impl App {
    /// At launch: the previous line-up is offered (or restored at once when
    /// the settings say so).
    pub(super) fn launch_lineup(&mut self, previous: LineUp) {
        if previous.is_empty() {
            return;
        }
        self.screen = Screen::Streams;
        if self.settings.restore_session {
            self.restore(previous);
        } else {
            self.offer = Some(RestoreOffer::new(previous));
        }
    }

    /// Starts a saved line-up; encrypted entries without a stored
    /// passphrase wait for it on the Streams screen.
    fn restore(&mut self, lineup: LineUp) {
        for s in &lineup.streams {
            let c = s.restored();
            if needs_passphrase(&c) {
                self.locked.push(Locked::player(c));
            } else {
                self.engine.send(Command::Start(Box::new(c)));
            }
        }
        for r in &lineup.receivers {
            let req = r.restored();
            if needs_passphrase(&req.config) {
                self.locked.push(Locked::receiver(req));
            } else {
                self.engine.send(Command::StartReceiver(Box::new(req)));
            }
        }
        self.restore_channels(&lineup.channels);
        self.leaving.restored = Some((lineup, Instant::now()));
    }

    /// A restored stream whose passphrase was typed.
    pub(super) fn unlocked(&mut self, u: Unlocked) {
        match u {
            Unlocked::Player(c) => self.engine.send(Command::Start(c)),
            Unlocked::Receiver(r) => self.engine.send(Command::StartReceiver(r)),
        }
    }

    /// The line-up now: players and receivers not stopped by the user,
    /// restored entries still starting or waiting for their passphrase, and
    /// an offer not answered yet (so that an exit never loses it).
    fn lineup_now(&self, streams: &[StreamSnapshot]) -> LineUp {
        let keep = self.settings.store_passphrases;
        let players = streams
            .iter()
            .filter(|s| s.state != StreamState::Stopped)
            .map(|s| s.config.clone());
        let receivers: Vec<_> = self
            .engine
            .receivers()
            .into_iter()
            .filter(|r| r.snapshot().state != StreamState::Stopped)
            .map(|r| r.request())
            .collect();
        let mut lineup = LineUp::of(players, receivers.into_iter(), keep);
        lineup.channels = self
            .channel_configs()
            .iter()
            .map(|c| super::super::session_channels::SavedChannel::of(c, keep))
            .collect();
        let locked = LineUp::of(
            self.locked
                .iter()
                .filter(|l| l.receiver.is_none())
                .map(|l| l.config.clone()),
            self.locked
                .iter()
                .filter_map(|l| l.receiver.as_deref().cloned()),
            keep,
        );
        lineup.merge(&locked);
        if let Some((restored, since)) = &self.leaving.restored {
            if since.elapsed() < RESTORING {
                lineup.merge(restored);
            }
        }
        if let Some(offer) = &self.offer {
            lineup.merge(&offer.lineup);
        }
        lineup
    }

    /// The receivers as the engine has them now.
    pub fn receivers_now(&self) -> Vec<crate::engine::receiver::ReceiverSnapshot> {
        self.engine
            .receivers()
            .iter()
            .map(|r| r.snapshot())
            .collect()
    }

    /// What quitting now would take off air (None: nothing).
    fn on_air(&self, streams: &[StreamSnapshot]) -> Option<String> {
        let channels = self.channel_configs().len();
        let relays = match channels {
            0 => None,
            1 => Some("1 channel on air".to_string()),
            n => Some(format!("{n} channels on air")),
        };
        match (on_air_summary(streams, &self.receivers_now()), relays) {
            (Some(s), Some(c)) => Some(format!("{s}, {c}")),
            (s, c) => s.or(c),
        }
    }

    /// Each pass, before drawing: a signal closes the window without asking;
    /// the window's close button and Ctrl+Q ask first when anything is on air.
    pub(super) fn leaving_logic(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers, ViewportCommand};
        let quit_key = KeyboardShortcut::new(Modifiers::COMMAND, Key::Q);
        let ctrl_q = ctx.input_mut(|i| i.consume_shortcut(&quit_key));
        let close = ctx.input(|i| i.viewport().close_requested());
        let signalled = self
            .leaving
            .signal
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst));
        if self.leaving.closing {
            return;
        }
        let streams = self.streams_now();
        if signalled {
            tracing::info!("closing on a signal");
            self.quit_now(ctx, &streams);
            return;
        }
        if !(close || ctrl_q) {
            return;
        }
        match self.on_air(&streams) {
            Some(summary) => {
                if close {
                    ctx.send_viewport_cmd(ViewportCommand::CancelClose);
                }
                self.leaving.asking = Some(summary);
            }
            None if close => self.leaving.closing = true,
            None => self.quit_now(ctx, &streams),
        }
    }

    /// Saves the line-up as it is and closes the window (the engine stops
    /// everything in `on_exit`).
    fn quit_now(&mut self, ctx: &egui::Context, streams: &[StreamSnapshot]) {
        let lineup = self.lineup_now(streams);
        self.session.save(lineup);
        self.leaving.closing = true;
        self.leaving.asking = None;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// Each frame, after the screens: the quit question, the restore offer,
    /// and the line-up saved if it changed.
    pub(super) fn leaving_ui(&mut self, ctx: &egui::Context, streams: &[StreamSnapshot]) {
        if let Some(summary) = self.leaving.asking.clone() {
            match quit_ui(ctx, &summary) {
                Some(QuitAnswer::Quit) => self.quit_now(ctx, streams),
                Some(QuitAnswer::KeepRunning) => self.leaving.asking = None,
                None => {}
            }
        }
        if let Some(offer) = &mut self.offer {
            if let Some(answer) = offer_ui(ctx, offer) {
                self.offer = None;
                match answer {
                    OfferAnswer::Restore(l) => self.restore(l),
                    OfferAnswer::Discard => tracing::info!("the last line-up was discarded"),
                }
            }
        }
        if !self.leaving.closing {
            let lineup = self.lineup_now(streams);
            self.session.save(lineup);
        }
    }

    /// At exit: the line-up written, every stream stopped and every
    /// recording flushed (the engine thread joined).
    pub(super) fn exit_cleanly(&mut self) {
        if !self.leaving.closing {
            let streams = self.streams_now();
            let lineup = self.lineup_now(&streams);
            self.session.save(lineup);
            self.leaving.closing = true;
        }
        self.session.flush();
        self.engine.shutdown();
        tracing::info!("every stream stopped; exiting");
    }
}
