//! What needs the operator, per stream: conditions raised by events (a caller
//! rejected, the link lost or failing, an error, a monitor alarm), each once
//! per stream with a repeat count, and cleared when the condition clears. The
//! streams table shows them in its Alarms column; toasts mirror them.

use super::toasts::{ToastKind, Toasts};
use crate::engine::{EventKind, StreamEvent, StreamId};

#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub stream: StreamId,
    /// The condition ("rejected", "link", "error", "monitor:…").
    pub key: String,
    pub kind: ToastKind,
    /// In words, without the stream's name.
    pub text: String,
    pub count: u32,
    /// Repeats of the coalesced event last seen (the engine counts repeats of
    /// one event; a new event of the same condition adds one).
    event_repeats: u32,
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
}

enum Effect {
    Raise(String, ToastKind, String),
    Clear(Vec<String>),
    ClearAll,
    Nothing,
}

fn effect(e: &EventKind) -> Effect {
    use EventKind as K;
    match e {
        K::CallerRejected { .. } => {
            Effect::Raise("rejected".into(), ToastKind::Error, e.to_string())
        }
        K::ConnectFailed { reason, .. } => Effect::Raise(
            "link".into(),
            ToastKind::Warning,
            format!("cannot connect: {reason}"),
        ),
        K::ConnectionLost { .. } => Effect::Raise("link".into(), ToastKind::Error, e.to_string()),
        K::Error { message } => Effect::Raise("error".into(), ToastKind::Error, message.clone()),
        K::AlarmRaised { alarm } => {
            Effect::Raise(format!("monitor:{alarm}"), ToastKind::Error, alarm.clone())
        }
        K::AlarmCleared { alarm } => Effect::Clear(vec![format!("monitor:{alarm}")]),
        K::CallerAdded { .. } | K::Connected => {
            Effect::Clear(vec!["rejected".into(), "link".into()])
        }
        K::Started { .. } | K::Stopped => Effect::ClearAll,
        K::CallerRemoved { .. } | K::Looped { .. } | K::Warning { .. } | K::Ended => {
            Effect::Nothing
        }
    }
}

#[derive(Debug, Default)]
pub struct Alarms {
    list: Vec<Alarm>,
}

fn toast_key(stream: StreamId, key: &str) -> String {
    format!("{stream}:{key}")
}

impl Alarms {
    /// Applies one event of stream `stream` (named `name`), raising or
    /// clearing its conditions here and in `toasts`.
    pub fn apply(&mut self, stream: StreamId, name: &str, e: &StreamEvent, toasts: &mut Toasts) {
        match effect(&e.kind) {
            Effect::Raise(key, kind, text) => {
                let a = match self
                    .list
                    .iter_mut()
                    .find(|a| a.stream == stream && a.key == key)
                {
                    Some(a) => {
                        a.count += if e.repeats > a.event_repeats {
                            e.repeats - a.event_repeats
                        } else {
                            1
                        };
                        a.text = text;
                        a.kind = kind;
                        a
                    }
                    None => {
                        self.list.push(Alarm {
                            stream,
                            key,
                            kind,
                            text,
                            count: e.repeats + 1,
                            event_repeats: 0,
                        });
                        self.list.last_mut().expect("just pushed")
                    }
                };
                a.event_repeats = e.repeats;
                toasts.raise(
                    &toast_key(stream, &a.key),
                    a.kind,
                    format!("{name}: {}", a.text),
                    a.count,
                );
            }
            Effect::Clear(keys) => {
                for k in keys {
                    self.clear(stream, &k, toasts);
                }
            }
            Effect::ClearAll => self.forget(stream, toasts),
            Effect::Nothing => {}
        }
    }

    fn clear(&mut self, stream: StreamId, key: &str, toasts: &mut Toasts) {
        self.list.retain(|a| !(a.stream == stream && a.key == key));
        toasts.clear(&toast_key(stream, key));
    }

    /// Every condition of a stream clears (it restarted, stopped or went).
    pub fn forget(&mut self, stream: StreamId, toasts: &mut Toasts) {
        for a in self.list.iter().filter(|a| a.stream == stream) {
            toasts.clear(&toast_key(stream, &a.key));
        }
        self.list.retain(|a| a.stream != stream);
    }

    pub fn of(&self, stream: StreamId) -> impl Iterator<Item = &Alarm> {
        self.list.iter().filter(move |a| a.stream == stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(port: u16) -> EventKind {
        EventKind::CallerRejected {
            address: format!("10.0.0.9:{port}"),
            stream_id: String::new(),
            reason: "wrong passphrase".into(),
        }
    }

    #[test]
    fn repeats_count_on_one_alarm_and_a_connection_clears_it() {
        let (mut alarms, mut toasts) = (Alarms::default(), Toasts::default());
        let mut log = crate::engine::status::StreamLog::default();
        let mut since = 0;
        // The UI sees the log at frame times: some repeats between frames.
        for batch in [1, 3, 1] {
            for i in 0..batch {
                log.push(StreamEvent::new(f64::from(i), rejected(5000 + i)));
            }
            let (events, next) = log.since(since);
            since = next;
            for e in &events {
                alarms.apply(7, "feed", e, &mut toasts);
            }
        }
        let a: Vec<_> = alarms.of(7).collect();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].count, 5);
        assert_eq!(toasts.list().len(), 1);
        assert!(toasts.list()[0].shown().ends_with("(\u{d7}5)"));
        // Another stream's condition is its own.
        alarms.apply(8, "other", &StreamEvent::new(0.0, rejected(1)), &mut toasts);
        assert_eq!(toasts.list().len(), 2);
        alarms.apply(
            7,
            "feed",
            &StreamEvent::new(
                9.0,
                EventKind::CallerAdded {
                    address: "10.0.0.9:1".into(),
                },
            ),
            &mut toasts,
        );
        assert_eq!(alarms.of(7).count(), 0);
        assert_eq!(alarms.of(8).count(), 1);
        assert_eq!(toasts.list().len(), 1);
    }

    #[test]
    fn a_monitor_alarm_clears_with_its_own_condition() {
        let (mut alarms, mut toasts) = (Alarms::default(), Toasts::default());
        let raise = |a: &str| EventKind::AlarmRaised { alarm: a.into() };
        let clear = |a: &str| EventKind::AlarmCleared { alarm: a.into() };
        alarms.apply(
            1,
            "s",
            &StreamEvent::new(0.0, raise("black picture")),
            &mut toasts,
        );
        alarms.apply(
            1,
            "s",
            &StreamEvent::new(0.0, raise("audio silent")),
            &mut toasts,
        );
        alarms.apply(
            1,
            "s",
            &StreamEvent::new(1.0, clear("black picture")),
            &mut toasts,
        );
        let left: Vec<_> = alarms.of(1).map(|a| a.text.clone()).collect();
        assert_eq!(left, ["audio silent"]);
        alarms.apply(
            1,
            "s",
            &StreamEvent::new(2.0, EventKind::Stopped),
            &mut toasts,
        );
        assert_eq!(alarms.of(1).count(), 0);
        assert!(toasts.list().is_empty());
    }
}
