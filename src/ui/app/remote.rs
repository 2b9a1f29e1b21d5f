//! The app's side of remote hosts: their workers' answers become toasts
//! (a refusal in the host engine's words) and state of the screens.

use super::super::channel_details::AddOutputField;
use super::super::channel_form::ChannelForm;
use super::super::hosts_client::HostReply;
use super::{App, Screen};

impl App {
    /// What the hosts' workers answered since the last frame.
    pub(super) fn host_replies(&mut self) {
        for (host, reply) in self.hosts.replies() {
            match reply {
                HostReply::Done(text) => self.toasts.info(format!("{host} {text}")),
                HostReply::Alarm(text) => self.toasts.error(format!("{host} {text}")),
                HostReply::Failed(text) => self.toasts.error(format!("{host} {text}")),
                HostReply::Created { name, id } => {
                    self.toasts
                        .info(format!("{host} #{id} channel {name}: started"));
                    self.channels.form_error = None;
                    self.channels.form = ChannelForm::default();
                    self.channels.note = None;
                    self.screen = Screen::Streams;
                }
                HostReply::CreateRefused(message) => {
                    self.toasts
                        .error(format!("{host}: channel not started: {message}"));
                    self.channels.form_error = Some((message, self.channels.form.clone()));
                }
                HostReply::OutputAdded { id, number } => {
                    self.toasts
                        .info(format!("{host} #{id}: output {number} added"));
                    self.channels.add = AddOutputField::default();
                }
                HostReply::OutputRefused { id, message } => {
                    self.toasts.error(format!("{host} #{id}: {message}"));
                    self.channels.add.error = Some(message);
                }
            }
        }
    }
}
