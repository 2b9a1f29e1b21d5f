//! The desktop app (eframe/egui, glow renderer: works under Mesa llvmpipe and
//! plain Xvfb). One file per screen; the engine is reached only through
//! `engine_link` (commands) and stream readers (snapshots).

pub mod alarms;
pub mod app;
pub mod channel_details;
pub mod channel_form;
pub mod channel_table;
pub mod dashboard;
pub mod details;
pub mod engine_link;
pub mod files;
pub mod form;
pub mod form_ui;
pub mod hosts;
pub mod hosts_client;
pub mod hosts_ui;
pub mod lifecycle;
pub mod media_ui;
pub mod monitor_ui;
pub mod nettest_ui;
pub mod on_air;
pub mod palette;
pub mod plots;
pub mod profile_chooser;
pub mod receive_form;
pub mod receive_ui;
pub mod restore_ui;
pub mod session;
pub mod session_channels;
pub mod settings;
pub mod system;
pub mod toasts;
pub mod widgets;

pub use app::{App, AppOptions};

/// Opens the window, starting `streams` at once; returns the process exit code.
pub fn run(lineup: crate::engine::Lineup) -> i32 {
    let launched = std::time::Instant::now();
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("SRT Streamer")
            .with_app_id("srt-streamer")
            .with_inner_size([1200.0, 760.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let result = eframe::run_native(
        "srt-streamer",
        options,
        Box::new(move |cc| {
            Ok(Box::new(App::new(
                cc,
                AppOptions {
                    streams: lineup.streams,
                    channels: lineup.channels,
                    launched: Some(launched),
                    watch_signals: true,
                    ..Default::default()
                },
            )))
        }),
    );
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot open the window: {e}. Without a display, use `srt-streamer play` (see --help).");
            1
        }
    }
}
