//! The RPM's systemd files as Fedora would read them, checked by this
//! machine's systemd tools (no systemd runs here as PID 1): the unit
//! verified by `systemd-analyze verify` (its ExecStart binary and
//! Documentation links included) in a root laid out as the RPM installs
//! it, and the post-install script's `systemd-sysusers` and
//! `systemd-tmpfiles --create` run into that root: the service's user and
//! group exist, and the config folder is the group's (0770) so that
//! `serve` may rewrite its file.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

const PACKAGING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/linux");

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("the tool runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

fn copy(from: &str, root: &Path, to: &str) {
    let dest = root.join(to.trim_start_matches('/'));
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(from, &dest).unwrap_or_else(|e| panic!("{from} → {}: {e}", dest.display()));
}

/// A root with the RPM's files where it puts them, and systemd's own units.
fn rpm_root(root: &Path) {
    copy(
        env!("CARGO_BIN_EXE_srt-streamer"),
        root,
        "/usr/bin/srt-streamer",
    );
    for (file, dest) in [
        (
            "srt-streamer.service",
            "/usr/lib/systemd/system/srt-streamer.service",
        ),
        (
            "srt-streamer.sysusers",
            "/usr/lib/sysusers.d/srt-streamer.conf",
        ),
        (
            "srt-streamer.tmpfiles",
            "/usr/lib/tmpfiles.d/srt-streamer.conf",
        ),
        ("streams.toml", "/etc/srt-streamer/streams.toml"),
    ] {
        copy(&format!("{PACKAGING}/{file}"), root, dest);
    }
    // The targets the unit names (multi-user, network-online…).
    let units = root.join("usr/lib/systemd/system");
    for entry in std::fs::read_dir("/lib/systemd/system").unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".target") && !units.join(&name).exists() {
            let _ = std::fs::copy(entry.path(), units.join(&name));
        }
    }
    for f in ["passwd", "group", "shadow", "gshadow"] {
        std::fs::write(root.join("etc").join(f), "").unwrap();
    }
    let mut passwd = std::fs::OpenOptions::new()
        .append(true)
        .open(root.join("etc/passwd"))
        .unwrap();
    std::io::Write::write_all(&mut passwd, b"root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
}

#[test]
fn the_shipped_unit_and_its_files_pass_systemds_own_checks() {
    if !have("systemd-analyze") {
        eprintln!("skipped: no systemd-analyze here (Debian package systemd)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    rpm_root(root);
    let (ok, said) = run(Command::new("systemd-analyze")
        .args(["verify", "--man=yes", "--root"])
        .arg(root)
        .arg("srt-streamer.service"));
    assert!(
        ok && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );

    if !have("systemd-sysusers") || !have("systemd-tmpfiles") {
        eprintln!("skipped: no systemd-sysusers / systemd-tmpfiles here");
        return;
    }
    let (ok, said) = run(Command::new("systemd-sysusers").arg("--root").arg(root));
    assert!(ok, "systemd-sysusers: {said}");
    let group = std::fs::read_to_string(root.join("etc/group")).unwrap();
    let gid: u32 = (group.lines())
        .find_map(|l| l.strip_prefix("srt-streamer:x:"))
        .and_then(|rest| rest.split(':').next()?.parse().ok())
        .unwrap_or_else(|| panic!("the service's group: {group}"));
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(
        passwd.contains("srt-streamer:x:"),
        "the service's user: {passwd}"
    );
    if !running_as_root() {
        eprintln!("skipped the tmpfiles check: it sets owners (needs root)");
        return;
    }
    let (ok, said) = run(Command::new("systemd-tmpfiles")
        .args(["--create", "--root"])
        .arg(root)
        .arg(root.join("usr/lib/tmpfiles.d/srt-streamer.conf")));
    assert!(ok, "systemd-tmpfiles --create: {said}");
    let folder = std::fs::metadata(root.join("etc/srt-streamer")).unwrap();
    assert_eq!(
        folder.permissions().mode() & 0o7777,
        0o770,
        "the config folder"
    );
    assert_eq!(
        folder.gid(),
        gid,
        "the config folder is the service group's"
    );
    let file = std::fs::metadata(root.join("etc/srt-streamer/streams.toml")).unwrap();
    assert_eq!(file.permissions().mode() & 0o777, 0o640, "the config file");
    assert_eq!(
        file.gid(),
        gid,
        "the config file is readable by the service"
    );
}

/// This test runs as root (chown works).
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
