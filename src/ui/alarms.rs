//! What needs the operator: conditions raised by events (a caller rejected,
//! the link lost or failing, an error, a monitor alarm), each once per
//! stream (or, for a caller asking a port for a stream it does not serve,
//! once per port) with a repeat count. Each has a level: a rejected caller is
//! a warning; a lost link, an error or a black/frozen/silent picture an
//! alarm. An alarm clears when its condition does, when it has been quiet
//! (not repeated) for the quiet time, or when the operator acknowledges it
//! (a repeat after that raises it again). Lasting conditions (a link down, a
//! monitor alarm) clear only with their condition or an acknowledgement.
//! The streams table shows them; toasts mirror them.

use super::palette::Tone;
use super::toasts::{ToastKind, Toasts};
use crate::engine::{EventKind, StreamEvent, StreamId};
use std::time::{Duration, Instant};

/// What an alarm belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A player or a receiver (one id space).
    Stream(StreamId),
    /// A listening port shared by streams (a caller asked it for a stream
    /// ID none of them has).
    Port(u16),
}

/// How much it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth knowing; the stream is on air (a caller turned away).
    Warning,
    /// The stream is hurt (link lost, error, black, frozen, silent).
    Alarm,
}

impl Level {
    pub fn tone(self) -> Tone {
        match self {
            Level::Warning => Tone::Warn,
            Level::Alarm => Tone::Bad,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Warning => "WARNING",
            Level::Alarm => "ALARM",
        }
    }

    fn toast(self) -> ToastKind {
        match self {
            Level::Warning => ToastKind::Warning,
            Level::Alarm => ToastKind::Error,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub subject: Subject,
    /// The condition ("rejected", "link", "error", "monitor:…", "unknown-id").
    pub key: String,
    pub level: Level,
    /// In words, without the stream's name.
    pub text: String,
    pub count: u32,
    /// Repeats of the coalesced event last seen (the engine counts repeats of
    /// one event; a new event of the same condition adds one).
    event_repeats: u32,
    /// When it last happened (the UI's clock).
    last: Instant,
    /// Clears only with its condition (or an acknowledgement), never by
    /// being quiet: the link is still down, the picture still black.
    lasting: bool,
    /// The operator acknowledged it: hidden until it happens again.
    acked: bool,
}

impl Alarm {
    /// The text with its count, as the Alarms column shows it.
    pub fn shown(&self) -> String {
        if self.count > 1 {
            format!("{} (\u{d7}{})", self.text, self.count)
        } else {
            self.text.clone()
        }
    }

    /// The key of the toast that mirrors it.
    pub fn toast_key(&self) -> String {
        toast_key(self.subject, &self.key)
    }
}

struct Raise {
    subject: Subject,
    key: String,
    level: Level,
    text: String,
    lasting: bool,
}

enum Effect {
    Raise(Raise),
    Clear(Vec<&'static str>),
    ClearMonitor(String),
    ClearAll,
    Nothing,
}

fn host(address: &str) -> &str {
    address.rsplit_once(':').map(|(h, _)| h).unwrap_or(address)
}

fn effect(stream: StreamId, e: &EventKind) -> Effect {
    use EventKind as K;
    let on = |key: &str, level, text: String, lasting| {
        Effect::Raise(Raise {
            subject: Subject::Stream(stream),
            key: key.into(),
            level,
            text,
            lasting,
        })
    };
    match e {
        K::CallerRejected {
            address,
            stream_id,
            port: Some(port),
            ..
        } => Effect::Raise(Raise {
            subject: Subject::Port(*port),
            key: "unknown-id".into(),
            level: Level::Warning,
            text: if stream_id.is_empty() {
                format!(
                    "port {port}: caller {} gave no stream ID (this port serves each stream by its stream ID)",
                    host(address)
                )
            } else {
                format!(
                    "port {port}: caller {} asked for unknown stream ID '{stream_id}'",
                    host(address)
                )
            },
            lasting: false,
        }),
        K::CallerRejected { .. } => on("rejected", Level::Warning, e.to_string(), false),
        K::ConnectFailed { reason, .. } => on(
            "link",
            Level::Alarm,
            format!("cannot connect: {reason}"),
            true,
        ),
        K::ConnectionLost { .. } => on("link", Level::Alarm, e.to_string(), true),
        K::Error { message } => on("error", Level::Alarm, message.clone(), false),
        K::AlarmRaised { alarm } => on(
            &format!("monitor:{alarm}"),
            Level::Alarm,
            alarm.clone(),
            true,
        ),
        K::AlarmCleared { alarm } => Effect::ClearMonitor(format!("monitor:{alarm}")),
        K::CallerAdded { .. } | K::Connected => Effect::Clear(vec!["rejected", "link"]),
        K::Started { .. } | K::Stopped => Effect::ClearAll,
        K::CallerRemoved { .. }
        | K::Looped { .. }
        | K::Warning { .. }
        | K::Ended
        | K::SettingsChanged { .. } => Effect::Nothing,
    }
}

#[derive(Debug, Default)]
pub struct Alarms {
    list: Vec<Alarm>,
}

fn toast_key(subject: Subject, key: &str) -> String {
    match subject {
        Subject::Stream(id) => format!("{id}:{key}"),
        Subject::Port(port) => format!("port{port}:{key}"),
    }
}

impl Alarms {
    /// Applies one event of stream `stream` (named `name`) seen at `now`,
    /// raising or clearing its conditions here and in `toasts`.
    pub fn apply(
        &mut self,
        stream: StreamId,
        name: &str,
        e: &StreamEvent,
        toasts: &mut Toasts,
        now: Instant,
    ) {
        match effect(stream, &e.kind) {
            Effect::Raise(r) => self.raise(r, name, e.repeats, toasts, now),
            Effect::Clear(keys) => {
                for k in keys {
                    self.clear(Subject::Stream(stream), k, toasts);
                }
            }
            Effect::ClearMonitor(k) => self.clear(Subject::Stream(stream), &k, toasts),
            Effect::ClearAll => self.forget(stream, toasts),
            Effect::Nothing => {}
        }
    }

    fn raise(&mut self, r: Raise, name: &str, repeats: u32, toasts: &mut Toasts, now: Instant) {
        let found = self
            .list
            .iter_mut()
            .find(|a| a.subject == r.subject && a.key == r.key);
        let a = match found {
            Some(a) => {
                let more = if repeats > a.event_repeats {
                    repeats - a.event_repeats
                } else {
                    1
                };
                // Acknowledged: what happens after counts anew.
                a.count = if a.acked { more } else { a.count + more };
                a.acked = false;
                a.text = r.text;
                a.level = r.level;
                a
            }
            None => {
                self.list.push(Alarm {
                    subject: r.subject,
                    key: r.key,
                    level: r.level,
                    text: r.text,
                    count: repeats + 1,
                    event_repeats: 0,
                    last: now,
                    lasting: r.lasting,
                    acked: false,
                });
                let i = self.list.len() - 1;
                &mut self.list[i]
            }
        };
        a.event_repeats = repeats;
        a.last = now;
        let text = match a.subject {
            Subject::Stream(_) => format!("{name}: {}", a.text),
            Subject::Port(_) => a.text.clone(),
        };
        toasts.raise(&a.toast_key(), a.level.toast(), text, a.count);
    }

    fn clear(&mut self, subject: Subject, key: &str, toasts: &mut Toasts) {
        self.list
            .retain(|a| !(a.subject == subject && a.key == key));
        toasts.clear(&toast_key(subject, key));
    }

    /// Every condition of a stream clears (it restarted, stopped or went).
    pub fn forget(&mut self, stream: StreamId, toasts: &mut Toasts) {
        let subject = Subject::Stream(stream);
        for a in self.list.iter().filter(|a| a.subject == subject) {
            toasts.clear(&a.toast_key());
        }
        self.list.retain(|a| a.subject != subject);
    }

    /// Conditions not repeated for `quiet` by `now` clear (lasting ones
    /// wait for their condition).
    pub fn expire(&mut self, now: Instant, quiet: Duration, toasts: &mut Toasts) {
        let (gone, kept): (Vec<Alarm>, Vec<Alarm>) = std::mem::take(&mut self.list)
            .into_iter()
            .partition(|a| !a.lasting && now.saturating_duration_since(a.last) >= quiet);
        for a in gone {
            toasts.clear(&a.toast_key());
        }
        self.list = kept;
    }

    /// When the next quiet condition clears (to repaint then).
    pub fn next_expiry(&self, quiet: Duration) -> Option<Instant> {
        self.list
            .iter()
            .filter(|a| !a.lasting)
            .map(|a| a.last + quiet)
            .min()
    }

    /// The operator saw it: hidden (and its toast gone) until it happens again.
    pub fn ack(&mut self, subject: Subject, key: &str, toasts: &mut Toasts) {
        for a in self
            .list
            .iter_mut()
            .filter(|a| a.subject == subject && a.key == key)
        {
            a.acked = true;
            toasts.clear(&a.toast_key());
        }
    }

    /// Acknowledges the alarm a toast stands for.
    pub fn ack_toast(&mut self, toast: &str, toasts: &mut Toasts) {
        let found = self
            .list
            .iter()
            .find(|a| a.toast_key() == toast)
            .map(|a| (a.subject, a.key.clone()));
        if let Some((subject, key)) = found {
            self.ack(subject, &key, toasts);
        }
    }

    /// The alarms of a stream the operator has not acknowledged.
    pub fn of(&self, stream: StreamId) -> impl Iterator<Item = &Alarm> {
        self.shown()
            .filter(move |a| a.subject == Subject::Stream(stream))
    }

    /// The alarms of ports, not acknowledged.
    pub fn of_ports(&self) -> impl Iterator<Item = &Alarm> {
        self.shown()
            .filter(|a| matches!(a.subject, Subject::Port(_)))
    }

    fn shown(&self) -> impl Iterator<Item = &Alarm> {
        self.list.iter().filter(|a| !a.acked)
    }
}

/// One alarm as a line: an Ack button, then its level in its colour and the
/// text (cut by `cut`, whole in the tooltip). The button comes first, as on a
/// toast: a wrapped text after it takes only the room left, where a button
/// after the text was squeezed to one letter a line. True when acknowledged.
pub fn alarm_line_ui(ui: &mut egui::Ui, a: &Alarm, cut: impl Fn(&str) -> String) -> bool {
    let mut acked = false;
    ui.horizontal(|ui| {
        acked = ui
            .small_button("Ack")
            .on_hover_text("Acknowledge: hide it until it happens again")
            .clicked();
        let c = super::palette::color(ui, a.level.tone());
        let text = format!("{}: {}", a.level.label(), a.shown());
        ui.colored_label(c, cut(&text)).on_hover_text(&text);
    });
    acked
}

#[cfg(test)]
#[path = "alarms_tests.rs"]
mod tests;
