//! Settings → Hosts (remote `serve` hosts added and removed; a token is
//! typed masked and never shown again), the hosts' states in words on the
//! Streams screen, and their channels as rows of the channels' table.

use super::channel_form::ChannelForm;
use super::channel_table::ChannelRow;
use super::hosts::{Host, HostEntry, HostState, Token};
use super::hosts_client::{check_url, HostCommand, HostReply};
use super::palette::{color, Tone};
use std::path::PathBuf;
use std::sync::Arc;

/// The fields of a host being added.
#[derive(Default)]
pub struct NewHost {
    pub name: String,
    pub url: String,
    pub token: String,
    /// HTTPS with a self-signed certificate: the host's certificate file…
    pub cert_file: String,
    /// … or its SHA-256 fingerprint.
    pub cert_sha256: String,
    pub error: Option<String>,
}

/// The remote hosts and their workers.
pub struct Hosts {
    pub list: Vec<Host>,
    next_key: u64,
    /// Where the hosts are saved (None: not saved, e.g. in tests).
    path: Option<PathBuf>,
    pub new: NewHost,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

impl Hosts {
    /// The hosts saved at `path` (if any), their workers started.
    pub fn open(path: Option<PathBuf>, repaint: Arc<dyn Fn() + Send + Sync>) -> Self {
        let saved = path.as_deref().map(super::hosts::load).unwrap_or_default();
        let mut hosts = Self {
            list: Vec::new(),
            next_key: 1,
            path,
            new: NewHost::default(),
            repaint,
        };
        for entry in saved {
            hosts.start(entry);
        }
        hosts
    }

    fn start(&mut self, entry: HostEntry) {
        let key = self.next_key;
        self.next_key += 1;
        self.list
            .push(Host::start(key, entry, self.repaint.clone()));
    }

    fn save(&self) -> Option<String> {
        let path = self.path.as_ref()?;
        let entries: Vec<HostEntry> = self.list.iter().map(|h| h.entry.clone()).collect();
        super::hosts::save(path, &entries)
            .err()
            .map(|e| format!("hosts not saved to {}: {e}", path.display()))
    }

    /// Adds the host typed in the fields; a bad URL or name is refused.
    fn add_typed(&mut self) {
        let name = self.new.name.trim().to_string();
        let refused = match check_url(&self.new.url) {
            _ if name.is_empty() => Some("give the host a name".to_string()),
            _ if self.list.iter().any(|h| h.entry.name == name) => {
                Some(format!("a host is already called {name}"))
            }
            Err(e) => Some(e.to_string()),
            Ok(url) => match typed_trust(&self.new) {
                Err(e) => Some(e.to_string()),
                Ok((cert_file, cert_sha256)) => {
                    let token = Token::new(&self.new.token);
                    self.start(HostEntry {
                        name,
                        url,
                        token,
                        cert_file,
                        cert_sha256,
                    });
                    self.new = NewHost::default();
                    self.save()
                }
            },
        };
        self.new.error = refused;
    }

    pub fn get(&self, key: u64) -> Option<&Host> {
        self.list.iter().find(|h| h.key == key)
    }

    /// Sends `cmd` to host `key`'s worker.
    pub fn send(&self, key: u64, cmd: HostCommand) {
        if let Some(h) = self.get(key) {
            h.send(cmd);
        }
    }

    /// Every host's channels as table rows.
    pub fn rows(&self) -> Vec<ChannelRow> {
        self.list
            .iter()
            .flat_map(|h| {
                let name = h.entry.name.clone();
                h.view().channels.into_iter().map(move |c| ChannelRow {
                    host: Some(h.key),
                    host_name: name.clone(),
                    id: c.id,
                    snap: c.snap,
                })
            })
            .collect()
    }

    /// The answers of every host's worker since the last call.
    pub fn replies(&self) -> Vec<(String, HostReply)> {
        self.list
            .iter()
            .flat_map(|h| {
                let name = h.entry.name.clone();
                h.take_replies().into_iter().map(move |r| (name.clone(), r))
            })
            .collect()
    }

    /// Settings → Hosts.
    pub fn settings_ui(&mut self, ui: &mut egui::Ui) {
        ui.strong("Hosts");
        ui.label("Remote srt-streamer serve hosts: their channels show in the Streams table.");
        let mut remove = None;
        for h in &self.list {
            ui.horizontal_wrapped(|ui| {
                ui.label(&h.entry.name);
                ui.label(&h.entry.url);
                ui.weak(if h.entry.token.is_empty() {
                    "no token"
                } else {
                    "token ••••••"
                });
                if let Some(f) = &h.entry.cert_file {
                    ui.weak(format!("certificate {}", f.display()));
                }
                if h.entry.cert_sha256.is_some() {
                    ui.weak("certificate pinned (SHA-256)");
                }
                state_label(ui, &h.view().state);
                if ui.button(format!("Remove {}", h.entry.name)).clicked() {
                    remove = Some(h.key);
                }
            });
        }
        if let Some(key) = remove {
            self.list.retain(|h| h.key != key);
            self.new.error = self.save();
        }
        ui.horizontal_wrapped(|ui| {
            let n = &mut self.new;
            for (label, text, hint, secret) in [
                ("Host name", &mut n.name, "rack-a", false),
                ("Host URL", &mut n.url, "http://10.0.0.2:8080", false),
                ("Host token", &mut n.token, "the serve token", true),
            ] {
                let l = ui.label(label);
                ui.add(
                    egui::TextEdit::singleline(text)
                        .hint_text(hint)
                        .password(secret)
                        .desired_width(if secret { 160.0 } else { 180.0 }),
                )
                .labelled_by(l.id);
            }
            if ui.button("Add host").clicked() {
                self.add_typed();
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.weak("HTTPS with a self-signed certificate:");
            let n = &mut self.new;
            for (label, text, hint) in [
                (
                    "Host certificate file",
                    &mut n.cert_file,
                    "/path/to/cert.pem",
                ),
                (
                    "or its SHA-256",
                    &mut n.cert_sha256,
                    "AB:CD:… (openssl x509 -fingerprint -sha256)",
                ),
            ] {
                let l = ui.label(label);
                ui.add(
                    egui::TextEdit::singleline(text)
                        .hint_text(hint)
                        .desired_width(220.0),
                )
                .labelled_by(l.id);
            }
        });
        if let Some(e) = &self.new.error {
            ui.colored_label(color(ui, Tone::Bad), e);
        }
        if let Some(p) = &self.path {
            ui.weak(format!("Saved in {} (readable by you only)", p.display()));
        }
    }

    /// One line per host on the Streams screen: its name and state.
    pub fn states_ui(&self, ui: &mut egui::Ui) {
        if self.list.is_empty() {
            return;
        }
        ui.add_space(6.0);
        for h in &self.list {
            let view = h.view();
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("Host {}:", h.entry.name));
                state_label(ui, &view.state);
                if view.state.is_connected() {
                    ui.weak(format!("{} channels", view.channels.len()));
                }
                if view.live {
                    ui.weak("live events:");
                    for e in view.last_events.iter().rev() {
                        ui.weak(super::widgets::drawable(e));
                    }
                }
            });
        }
    }

    /// Where the New channel form starts its channel: a combo of this
    /// computer and the hosts (None: this computer).
    pub fn target_ui(&self, ui: &mut egui::Ui, target: &mut Option<u64>) {
        if self.list.is_empty() {
            *target = None;
            return;
        }
        if target.is_some_and(|k| self.get(k).is_none()) {
            *target = None;
        }
        let name = |t: &Option<u64>| match t.and_then(|k| self.get(k)) {
            Some(h) => h.entry.name.clone(),
            None => super::channel_table::LOCAL_HOST.to_string(),
        };
        ui.horizontal(|ui| {
            let l = ui.label("Run on");
            egui::ComboBox::from_id_salt("channel-host")
                .selected_text(name(target))
                .show_ui(ui, |ui| {
                    ui.selectable_value(target, None, name(&None));
                    for h in &self.list {
                        ui.selectable_value(target, Some(h.key), h.entry.name.clone());
                    }
                })
                .response
                .labelled_by(l.id);
        });
    }
}

/// The certificate file and fingerprint typed for a new host, checked
/// now (a file that cannot be read, a fingerprint that is not one).
fn typed_trust(
    n: &NewHost,
) -> Result<(Option<PathBuf>, Option<String>), super::hosts_tls::TrustError> {
    let file = Some(n.cert_file.trim())
        .filter(|f| !f.is_empty())
        .map(PathBuf::from);
    let pin = Some(n.cert_sha256.trim()).filter(|p| !p.is_empty());
    if let Some(f) = &file {
        super::hosts_tls::read_certs(f)?;
    }
    if let Some(p) = pin {
        super::hosts_tls::parse_fingerprint(p)?;
    }
    Ok((file, pin.map(str::to_string)))
}

fn state_label(ui: &mut egui::Ui, state: &HostState) {
    let tone = match state {
        HostState::Connected => Tone::Good,
        HostState::Connecting => Tone::Busy,
        _ => Tone::Bad,
    };
    // Words from the network (a TLS library's error) drawn whatever they hold.
    ui.colored_label(color(ui, tone), super::widgets::drawable(&state.words()));
}

/// The form as a `[[channel]]` table for a remote host's `POST /channels`
/// (checked there, by its engine: paths are the host's).
pub fn form_table(form: &ChannelForm) -> serde_json::Value {
    use super::channel_form::filled;
    let mut v = serde_json::json!({
        "name": form.name.trim(),
        "inputs": filled(&form.inputs),
        "outputs": filled(&form.outputs),
        "switch_after_ms": form.switch_after_ms,
        "return_after_secs": form.return_after_secs,
        "repair": form.repair,
    });
    if !form.slate.trim().is_empty() {
        v["slate"] = serde_json::json!(form.slate.trim());
    }
    v
}

/// A remote channel's analysis report, as its host gave it: the verdict,
/// the rate, and each TR 101 290 indicator that counted something.
pub fn remote_report_ui(ui: &mut egui::Ui, report: Option<&(u64, serde_json::Value)>) {
    let Some((output, r)) = report else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("Analysis (output {})", output + 1));
        let verdict = r["verdict"].as_str().unwrap_or("");
        let tone = if verdict == "ok" {
            Tone::Good
        } else {
            Tone::Warn
        };
        ui.colored_label(color(ui, tone), format!("verdict: {verdict}"));
        if let Some(bps) = r["bitrate_bps"].as_f64() {
            ui.label(format!("{:.2} Mbit/s", bps / 1e6));
        }
    });
    let counted = (r["tr101290"].as_object().into_iter().flatten())
        .filter_map(|(name, v)| Some((name, v["count"].as_u64().filter(|n| *n > 0)?)));
    ui.horizontal_wrapped(|ui| {
        for (name, n) in counted {
            ui.colored_label(color(ui, Tone::Bad), format!("{name}: {n}"));
        }
    });
}

/// A remote channel's table (its GET's JSON) in the channel form, to edit
/// and send back with `PUT` (masked passphrases stay `***`: the host keeps
/// the stored ones).
pub fn table_form(v: &serde_json::Value) -> ChannelForm {
    let strings = |v: &serde_json::Value| -> Vec<String> {
        (v.as_array().into_iter().flatten())
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let mut inputs = strings(&v["inputs"]);
    if let Some(one) = v["input"].as_str() {
        inputs.insert(0, one.to_string());
    }
    let d = ChannelForm::default();
    let number =
        |key: &str, or: u32| (v[key].as_u64()).map_or(or, |n| u32::try_from(n).unwrap_or(or));
    ChannelForm {
        name: v["name"].as_str().unwrap_or("").to_string(),
        inputs: if inputs.is_empty() {
            d.inputs.clone()
        } else {
            inputs
        },
        slate: v["slate"].as_str().unwrap_or("").to_string(),
        switch_after_ms: number("switch_after_ms", d.switch_after_ms),
        return_after_secs: number("return_after_secs", d.return_after_secs),
        repair: serde_json::from_value(v["repair"].clone()).unwrap_or(d.repair),
        outputs: strings(&v["outputs"]),
    }
}
