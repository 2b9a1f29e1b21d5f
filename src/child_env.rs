//! Child processes (ping, iperf3, ffprobe, curl) must not inherit the
//! AppImage's library and GStreamer paths: they are the system's programs.

/// Variables the AppImage's AppRun sets for this program only.
pub const APPIMAGE_VARS: &[&str] = &[
    "LD_LIBRARY_PATH",
    "GST_PLUGIN_SYSTEM_PATH_1_0",
    "GST_PLUGIN_PATH_1_0",
    "GST_PLUGIN_SCANNER_1_0",
    "GST_REGISTRY_1_0",
    "GST_REGISTRY_REUSE_PLUGIN_SCANNER",
    "GST_REGISTRY_FORK",
];

/// True when running from the AppImage (its AppRun sets APPDIR).
pub fn in_appimage() -> bool {
    std::env::var_os("SRT_STREAMER_APPDIR").is_some()
}

/// What each AppImage variable should be in a child: the user's own value
/// from before AppRun changed it, or `None` (removed). Empty outside the AppImage.
fn child_overrides() -> Vec<(&'static str, Option<std::ffi::OsString>)> {
    if !in_appimage() {
        return Vec::new();
    }
    APPIMAGE_VARS
        .iter()
        .map(|v| {
            let orig = std::env::var_os(format!("SRT_STREAMER_ORIG_{v}")).filter(|o| !o.is_empty());
            (*v, orig)
        })
        .collect()
}

/// Removes the AppImage's variables from a command (no-op outside the AppImage),
/// restoring what the user had before AppRun changed them.
pub fn clean_std(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for (v, orig) in child_overrides() {
        match orig {
            Some(o) => cmd.env(v, o),
            None => cmd.env_remove(v),
        };
    }
    cmd
}

pub fn clean_tokio(cmd: &mut tokio::process::Command) -> &mut tokio::process::Command {
    for (v, orig) in child_overrides() {
        match orig {
            Some(o) => cmd.env(v, o),
            None => cmd.env_remove(v),
        };
    }
    cmd
}
