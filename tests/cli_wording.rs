//! Refusals of a relay's or player's settings say what is wrong in the
//! user's own terms and what to do, through the binary as a user types them.

mod common;

use common::*;

/// `relay ARGS…` refused: its exit code and stderr.
fn refused(args: &[&str]) -> String {
    let out = srt_streamer()
        .arg("relay")
        .args(args)
        .args(["--duration", "1"])
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?} refused:\n{text}");
    text
}

#[test]
fn a_udp_uri_without_a_port_is_told_in_udp_terms() {
    for (args, form) in [
        (
            [
                "--input",
                "udp://239.1.1.1",
                "--output",
                "udp://127.0.0.1:5000",
            ],
            "udp://@GROUP:PORT",
        ),
        (
            ["--input", "udp://:5000", "--output", "udp://239.1.1.1"],
            "udp://HOST:PORT",
        ),
    ] {
        let e = refused(&args);
        assert!(e.contains("UDP port") && e.contains(form), "{e}");
        assert!(!e.contains("SRT") && !e.contains("srt://"), "{e}");
    }
}

#[test]
fn a_udp_port_out_of_range_is_not_called_srt() {
    let e = refused(&[
        "--input",
        "udp://:99999",
        "--output",
        "udp://127.0.0.1:5000",
    ]);
    assert!(e.contains("1 to 65535") && !e.contains("SRT"), "{e}");
}

#[test]
fn a_negative_number_is_refused_as_negative() {
    for (output, key) in [
        ("udp://127.0.0.1:5001?delay=-5", "delay=-5"),
        ("udp://239.1.1.1:5001?ttl=-1", "ttl=-1"),
        ("srt://:9000?latency=-5", "latency=-5"),
    ] {
        let e = refused(&["--input", "udp://:5000", "--output", output]);
        assert!(e.contains(key) && e.contains("0 or more"), "{e}");
        assert!(!e.contains("not a number"), "{e}");
    }
}

#[test]
fn an_unknown_repair_mode_names_the_repair_option_and_its_values() {
    let e = refused(&[
        "--repair",
        "foo",
        "--input",
        "udp://:5000",
        "--output",
        "udp://127.0.0.1:5001",
    ]);
    assert!(e.contains("--repair") && e.contains("repair mode"), "{e}");
    for word in ["seamless", "signalled", "off"] {
        assert!(e.contains(word), "{e}");
    }
    assert!(!e.contains("loop mode"), "{e}");
}

#[test]
fn an_unknown_interface_is_named_with_the_ones_that_exist() {
    for (input, output, given) in [
        (
            "udp://@239.1.1.1:5000?iface=nosuch0",
            "udp://127.0.0.1:5001",
            "nosuch0",
        ),
        (
            "udp://:5000",
            "udp://239.1.1.1:5001?iface=nosuch0",
            "nosuch0",
        ),
        (
            "udp://:5000",
            "udp://239.1.1.1:5001?iface=10.9.9.9",
            "10.9.9.9",
        ),
    ] {
        let e = refused(&["--input", input, "--output", output]);
        assert!(e.contains(given), "{e}");
        assert!(e.contains("lo 127.0.0.1"), "the interfaces listed: {e}");
    }
}

/// An interface given by name is the one used: a multicast output on `lo`
/// starts (and is refused by nothing).
#[test]
fn an_interface_given_by_name_is_accepted() {
    let port = free_port();
    let out = srt_streamer()
        .args(["relay", "--input", &format!("udp://:{port}"), "--output"])
        .arg(format!("udp://239.1.1.1:{}?iface=lo", free_port()))
        .args(["--duration", "1"])
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
}
