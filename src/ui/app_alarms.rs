//! The app's alarms, edits and test accessors, apart from app.rs: events of
//! players and receivers into alarms (cleared when quiet), the toasts'
//! strip, the end of an edit, and the alarm settings.

use super::{App, Settings, StreamForm, StreamId, StreamSnapshot};
use std::time::Instant;

impl App {
    /// The event log of a player or receiver, as its Details show it.
    pub fn events_of(&self, id: StreamId) -> Vec<crate::engine::StreamEvent> {
        if let Some(r) = self.engine.readers().into_iter().find(|r| r.id() == id) {
            return r.events_since(0).0;
        }
        self.engine
            .receivers()
            .into_iter()
            .find(|r| r.id() == id)
            .map(|r| r.events_since(0).0)
            .unwrap_or_default()
    }

    /// How many statistics points a player's plots hold.
    pub fn history_len(&self, id: StreamId) -> usize {
        self.engine
            .readers()
            .into_iter()
            .find(|r| r.id() == id)
            .map(|r| r.history().len())
            .unwrap_or(0)
    }

    /// Conditions of players and receivers (rejections, lost links, errors,
    /// monitor alarms) become alarms: one per condition, counted, cleared
    /// with the condition or after the quiet time without a repeat.
    pub(super) fn collect_alarms(
        &mut self,
        streams: &[(crate::engine::StreamReader, StreamSnapshot)],
    ) {
        let now = Instant::now();
        let mut logs: Vec<(StreamId, String, Vec<crate::engine::StreamEvent>, u64)> = Vec::new();
        for (reader, snap) in streams {
            let since = self.seen_events.get(&snap.id).copied().unwrap_or(0);
            let (events, total) = reader.events_since(since);
            logs.push((snap.id, snap.name.clone(), events, total));
        }
        for rx in self.engine.receivers() {
            let since = self.seen_events.get(&rx.id()).copied().unwrap_or(0);
            let (events, total) = rx.events_since(since);
            logs.push((
                rx.id(),
                format!("receiver {}", rx.snapshot().name),
                events,
                total,
            ));
        }
        for (id, name, events, total) in logs {
            for e in &events {
                self.alarms.apply(id, &name, e, &mut self.toasts, now);
            }
            self.seen_events.insert(id, total);
        }
        let quiet = self.settings.alarm_quiet();
        self.alarms.expire(now, quiet, &mut self.toasts);
        if let Some(at) = self.alarms.next_expiry(quiet) {
            self.repaint_at = Some(at);
        }
    }

    /// The edit is over (applied or left): the next new stream starts from
    /// the defaults, not from the edited stream's port, name or passphrase.
    pub(super) fn end_edit(&mut self) {
        if self.form.editing.is_some() {
            self.form = StreamForm::new(&self.settings.defaults, self.default_file.clone());
        }
    }

    /// The toasts' strip above the status bar; Ack on a toast acknowledges
    /// its alarm.
    pub(super) fn toasts_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(key) = self.toasts.panel_ui(ui) {
            self.alarms.ack_toast(&key, &mut self.toasts);
        }
    }
}

/// How alarms behave: the quiet time after which one clears by itself.
pub(super) fn alarm_settings_ui(ui: &mut egui::Ui, settings: &mut Settings) {
    ui.horizontal(|ui| {
        let l = ui.label("Alarms clear after");
        ui.add(
            egui::DragValue::new(&mut settings.alarm_quiet_secs)
                .range(1..=3600)
                .suffix(" s"),
        )
        .labelled_by(l.id)
        .on_hover_text("an alarm that does not repeat for this long clears by itself (a lost link or a monitor alarm waits for its condition); Ack clears one at once");
        ui.label("without a repeat");
    });
}
