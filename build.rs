//! Links the system libsrt (1.5.x) through pkg-config and compiles a tiny C
//! file that reports libsrt's struct layouts, so a unit test can compare them
//! with our hand-written `#[repr(C)]` structs (src/engine/srt/ffi.rs).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/engine/srt/layout.c");

    let srt = match pkg_config::Config::new()
        .atleast_version("1.5.0")
        .probe("srt")
    {
        Ok(lib) => lib,
        Err(e) => {
            eprintln!(
                "\nSRT Streamer needs the libsrt 1.5 development files (pkg-config name `srt`).\n\
                 Install them with packaging/install-deps.sh, or by hand:\n\
                 \x20 Debian/Ubuntu: sudo apt-get install libsrt-gnutls-dev   (or libsrt-openssl-dev)\n\
                 \x20 Fedora/RHEL:   sudo dnf install srt-devel\n\
                 pkg-config said: {e}\n"
            );
            std::process::exit(1);
        }
    };

    // The header the layout test parses to list every SRT_TRACEBSTATS field.
    let header = srt
        .include_paths
        .iter()
        .map(|p| p.join("srt.h"))
        .chain(
            srt.include_paths
                .iter()
                .map(|p| p.join("srt").join("srt.h")),
        )
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/usr/include/srt/srt.h"));
    println!("cargo:rustc-env=SRT_HEADER={}", header.display());

    let mut build = cc::Build::new();
    build.file("src/engine/srt/layout.c");
    for dir in &srt.include_paths {
        build.include(dir);
    }
    build.compile("srtlayout");
}
