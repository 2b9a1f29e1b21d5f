//! Drawing the new-stream form.

use super::form::*;
use crate::engine::config::{Encryption, LoopMode, Mode};
use crate::engine::receiver_commands::Receiver;
use std::path::PathBuf;

/// Test-signal presets the form offers beside a file.
const TEST_SIGNALS: &[(&str, &str)] = &[
    (
        "H.264 + AAC, 1280×720, 5 Mbit/s",
        "bitrate=5000000,size=1280x720",
    ),
    (
        "H.264 + AAC, 1920×1080, 10 Mbit/s",
        "bitrate=10000000,size=1920x1080",
    ),
    (
        "MPEG-2 + MP2, 720×576, 5 Mbit/s",
        "bitrate=5000000,size=720x576,video=mpeg2,audio=mp2",
    ),
    (
        "H.264 + AAC, moving, beep and flash each second (latency)",
        "bitrate=5000000,size=1280x720,pattern=moving,beep=1",
    ),
];

/// What the user asked the form for.
#[derive(Debug, Clone, PartialEq)]
pub enum FormAction {
    None,
    Start,
    /// Restart the stream being edited with these settings.
    ApplyEdit,
    /// Leave the edit; the stream keeps its settings.
    CancelEdit,
    Browse,
    ChooseFile(PathBuf),
    FillFromUri,
    /// Put the system clipboard into the paste-URI field.
    Paste,
    Copied(&'static str),
}

fn error_line(ui: &mut egui::Ui, errors: &[(Field, String)], field: Field) {
    for (f, msg) in errors {
        if *f == field {
            ui.colored_label(super::palette::color(ui, super::palette::Tone::Bad), msg);
        }
    }
}

/// Under the file field: what the file holds, "probing…" while that is
/// found out, or what a test signal will be.
fn file_info_ui(ui: &mut egui::Ui, form: &StreamForm) {
    let file = form.file.trim();
    if file.is_empty() {
        return;
    }
    if crate::media::testsignal::is_test_signal(file) {
        if let Ok(t) = crate::media::testsignal::TestSignal::parse(file) {
            ui.weak(format!(
                "Test signal, generated live: {}×{}, {:.2} Mbit/s, no end",
                t.width,
                t.height,
                f64::from(t.bitrate_bps) / 1e6
            ));
        }
        return;
    }
    match form.probe_state() {
        None => {
            ui.weak("checked when you leave the field");
        }
        Some(ProbeState::Probing) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("probing…");
            });
        }
        Some(ProbeState::Opened(s)) => {
            ui.label(s.describe(form.bitrate.trim().parse().ok()));
        }
        // Shown as the field's error.
        Some(ProbeState::Failed(_)) => {}
    }
}

/// A grid row: the label (also the field's accessible name), the text field
/// and, under it, what is wrong with it.
#[allow(clippy::too_many_arguments)]
fn field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
    tip: Option<&str>,
    errors: &[(Field, String)],
    which: Option<Field>,
) {
    let l = ui.label(label);
    ui.vertical(|ui| {
        let r = ui
            .add(
                egui::TextEdit::singleline(value)
                    .hint_text(hint)
                    .desired_width(260.0),
            )
            .labelled_by(l.id);
        if let Some(t) = tip {
            r.on_hover_text(t);
        }
        if let Some(f) = which {
            error_line(ui, errors, f);
        }
    });
    ui.end_row();
}

#[allow(clippy::too_many_arguments)]
pub fn form_ui(
    ui: &mut egui::Ui,
    form: &mut StreamForm,
    recent: &[PathBuf],
    media: &[PathBuf],
    this_host: &str,
    last_error: Option<&str>,
    busy_picking: bool,
) -> FormAction {
    let mut action = FormAction::None;
    let errors = form.to_config().err().unwrap_or_default();

    match &form.editing {
        Some((id, name)) => ui.heading(format!("Edit stream #{id} {name}")),
        None => ui.heading("New stream"),
    };
    ui.horizontal(|ui| {
        let l = ui.label("Paste SRT URI");
        let uri = super::widgets::uri_edit(
            ui,
            &mut form.paste_uri,
            "srt://host:port?mode=caller&latency=200",
            340.0,
        )
        .labelled_by(l.id)
            .on_hover_text("Enter, or leaving the field, fills the form from the URI");
        // Enter or leaving the field applies what was typed.
        if uri.lost_focus() && form.uri_pending() {
            action = FormAction::FillFromUri;
        }
        if ui
            .button("Paste")
            .on_hover_text("Paste an SRT URI from the clipboard")
            .clicked()
        {
            action = FormAction::Paste;
        }
        if ui
            .add_enabled(!form.paste_uri.trim().is_empty(), egui::Button::new("Fill form"))
            .on_hover_text("Take mode, host, port, latency, overhead, encryption, stream ID and DSCP from the URI")
            .clicked()
        {
            action = FormAction::FillFromUri;
        }
    });
    error_line(ui, &errors, Field::Uri);
    ui.add_space(6.0);

    egui::Grid::new("stream-form")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            field(
                ui,
                "Name",
                &mut form.name,
                "optional",
                None,
                &errors,
                None,
            );

            let l = ui.label("File");
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    let file = ui
                        .add(
                            egui::TextEdit::singleline(&mut form.file)
                                .hint_text("/path/to/stream.ts")
                                .desired_width(380.0),
                        )
                        .labelled_by(l.id);
                    form.file_focused = file.has_focus();
                    let browse = ui
                        .add_enabled(!busy_picking, egui::Button::new("Browse…"))
                        .on_hover_text(
                            "Choose a file (Ctrl+O). You can also drop a file on the window.",
                        );
                    if browse.clicked() {
                        action = FormAction::Browse;
                    }
                    ui.menu_button("Test signal", |ui| {
                        ui.label("Bars with the stream's name and UTC time burnt in, 1 kHz tone; the settings can be edited in the field");
                        for (label, settings) in TEST_SIGNALS {
                            if ui.button(*label).clicked() {
                                // The ident is the stream's name when it
                                // starts (not the name in the form now).
                                form.file = format!("testsrc:{settings}");
                                ui.close();
                            }
                        }
                    });
                    ui.menu_button("Recent", |ui| {
                        if recent.is_empty() {
                            ui.label("No recent files");
                        }
                        for f in recent {
                            if ui.button(f.display().to_string()).clicked() {
                                action = FormAction::ChooseFile(f.clone());
                                ui.close();
                            }
                        }
                    });
                    ui.menu_button("Media folder", |ui| {
                        if media.is_empty() {
                            ui.label("No .ts files (set the media folder in Settings)");
                        }
                        for f in media {
                            let name = f
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            if ui.button(name).clicked() {
                                action = FormAction::ChooseFile(f.clone());
                                ui.close();
                            }
                        }
                    });
                });
                file_info_ui(ui, form);
                error_line(ui, &errors, Field::File);
            });
            ui.end_row();

            ui.label("Mode").on_hover_text(TIP_MODE);
            ui.horizontal(|ui| {
                ui.radio_value(&mut form.mode, Mode::Listener, "Listener")
                    .on_hover_text(TIP_MODE);
                ui.radio_value(&mut form.mode, Mode::Caller, "Caller")
                    .on_hover_text(TIP_MODE);
                ui.radio_value(&mut form.mode, Mode::Rendezvous, "Rendezvous")
                    .on_hover_text(TIP_MODE);
            });
            ui.end_row();

            // Each mode keeps its own address: nothing moves between them.
            let (host_label, host_value, host_hint) = match form.mode {
                Mode::Listener => ("Bind address", &mut form.bind, "all interfaces"),
                Mode::Caller | Mode::Rendezvous => (
                    "Receiver host",
                    &mut form.host,
                    "IP address or host name",
                ),
            };
            field(
                ui,
                host_label,
                host_value,
                host_hint,
                None,
                &errors,
                Some(Field::Host),
            );
            field(
                ui,
                "Port",
                &mut form.port,
                "9000",
                None,
                &errors,
                Some(Field::Port),
            );
            if form.mode != Mode::Listener {
                field(
                    ui,
                    "Local port",
                    &mut form.local_port,
                    "automatic",
                    None,
                    &errors,
                    Some(Field::LocalPort),
                );
            }
            field(
                ui,
                "Latency (ms)",
                &mut form.latency_ms,
                "120",
                Some(TIP_LATENCY),
                &errors,
                Some(Field::Latency),
            );
            field(
                ui,
                "Overhead (%)",
                &mut form.overhead_percent,
                "25",
                Some(TIP_OVERHEAD),
                &errors,
                Some(Field::Overhead),
            );

            ui.label("Encryption").on_hover_text(TIP_ENCRYPTION);
            ui.horizontal(|ui| {
                for (e, name) in [
                    (Encryption::None, "None"),
                    (Encryption::Aes128, "AES-128"),
                    (Encryption::Aes192, "AES-192"),
                    (Encryption::Aes256, "AES-256"),
                ] {
                    ui.radio_value(&mut form.encryption, e, name)
                        .on_hover_text(TIP_ENCRYPTION);
                }
            });
            ui.end_row();
            if form.encryption != Encryption::None {
                let l = ui.label("Passphrase");
                ui.vertical(|ui| {
                    super::widgets::passphrase_edit(
                        ui,
                        &mut form.passphrase,
                        &mut form.show_passphrase,
                        "10 to 79 characters",
                        260.0,
                    )
                    .labelled_by(l.id)
                    .on_hover_text(TIP_ENCRYPTION);
                    error_line(ui, &errors, Field::Passphrase);
                });
                ui.end_row();
            }
            field(
                ui,
                "Stream ID",
                &mut form.stream_id,
                "optional",
                Some(TIP_STREAM_ID),
                &errors,
                Some(Field::StreamId),
            );

            ui.label("DSCP").on_hover_text(TIP_DSCP);
            ui.horizontal(|ui| {
                for (name, tos) in DSCP_CHOICES {
                    let selected = match tos {
                        None => form.dscp.trim().is_empty(),
                        Some(t) => crate::engine::config::parse_iptos(&form.dscp).ok() == Some(*t),
                    };
                    if ui
                        .selectable_label(selected, *name)
                        .on_hover_text(TIP_DSCP)
                        .clicked()
                    {
                        form.dscp = tos.map(|t| t.to_string()).unwrap_or_default();
                    }
                }
            });
            ui.end_row();
            field(
                ui,
                "TOS byte",
                &mut form.dscp,
                "empty, 184, 0xB8 or EF",
                Some(TIP_DSCP),
                &errors,
                Some(Field::Dscp),
            );

            ui.label("At end of file").on_hover_text(TIP_LOOP);
            ui.horizontal(|ui| {
                ui.radio_value(&mut form.loop_mode, LoopMode::Seamless, "Loop seamlessly")
                    .on_hover_text(TIP_LOOP);
                ui.radio_value(&mut form.loop_mode, LoopMode::Signalled, "Loop, signalled")
                    .on_hover_text(TIP_LOOP);
                ui.radio_value(&mut form.loop_mode, LoopMode::Off, "Stop")
                    .on_hover_text(TIP_LOOP);
            });
            ui.end_row();
            field(
                ui,
                "Bitrate (bit/s)",
                &mut form.bitrate,
                "from PCR",
                Some(TIP_BITRATE),
                &errors,
                Some(Field::Bitrate),
            );
            ui.end_row();
            field(
                ui,
                "PCR PID",
                &mut form.pcr_pid,
                "first programme",
                Some(TIP_PCR_PID),
                &errors,
                Some(Field::PcrPid),
            );
            field(
                ui,
                "FEC",
                &mut form.packet_filter,
                "none, or fec,cols:10,rows:5",
                Some(TIP_FEC),
                &errors,
                Some(Field::PacketFilter),
            );
            if form.mode == Mode::Listener {
                field(
                    ui,
                    "Allowed callers",
                    &mut form.allow,
                    "everyone, or 10.0.0.0/8, …",
                    Some(TIP_ALLOW),
                    &errors,
                    Some(Field::Allow),
                );
            }
        });

    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if form.editing.is_some() {
            let changed = form.edit_changes();
            let apply = ui
                .add_enabled(
                    errors.is_empty() && changed,
                    egui::Button::new("Apply changes"),
                )
                .on_hover_text(
                    "a new name applies at once; other settings restart the stream in place (the row, its plots and events are kept)",
                )
                .on_disabled_hover_text(if changed {
                    "fix the settings first"
                } else {
                    "nothing changed yet"
                });
            if apply.clicked() {
                action = FormAction::ApplyEdit;
            }
            if ui.button("Cancel").clicked() {
                action = FormAction::CancelEdit;
            }
        } else {
            let start = ui
                .add_enabled(errors.is_empty(), egui::Button::new("Start stream"))
                .on_hover_text("Start this stream (Ctrl+Enter)");
            if start.clicked() {
                action = FormAction::Start;
            }
        }
        match errors.len() {
            0 => {}
            1 => {
                ui.colored_label(
                    super::palette::color(ui, super::palette::Tone::Bad),
                    "1 setting to fix",
                );
            }
            n => {
                ui.colored_label(
                    super::palette::color(ui, super::palette::Tone::Bad),
                    format!("{n} settings to fix"),
                );
            }
        }
    });
    if let Some(e) = last_error {
        ui.colored_label(super::palette::color(ui, super::palette::Tone::Bad), e);
    }

    ui.add_space(8.0);
    ui.separator();
    ui.label("Receiver command for this stream:");
    ui.horizontal(|ui| {
        for r in Receiver::ALL {
            let cmd = form.receiver_command(r, this_host);
            let b = ui
                .add_enabled(
                    cmd.is_some(),
                    egui::Button::new(format!("Copy {}", r.label())),
                )
                .on_hover_text(
                    cmd.clone()
                        .unwrap_or_else(|| "fix the settings first".into()),
                );
            if b.clicked() {
                if let Some(c) = cmd {
                    ui.ctx().copy_text(c);
                    action = FormAction::Copied(r.label());
                }
            }
        }
        ui.checkbox(&mut form.commands_with_passphrase, "include passphrase");
    });
    action
}
