//! Test hosts in network namespaces joined to this host by a veth pair
//! (needs root). Addresses are the project's own, inside 10.231.0.0/16.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

fn ip(args: &[&str]) {
    let ok = Command::new("ip")
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "ip {} failed (tests with network namespaces run as root)",
        args.join(" ")
    );
}

pub struct NetNs {
    pub name: String,
    host_if: String,
    /// This host's address on the link.
    pub host_addr: String,
    /// The namespace's address.
    pub addr: String,
    /// An address on the link that nobody has.
    pub dead_addr: String,
    servers: Vec<Child>,
}

impl NetNs {
    pub fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let tag = (std::process::id() % 40) * 6 + n % 6;
        let name = format!("srtst{}-{n}", std::process::id());
        let host_if = format!("vh{}x{n}", std::process::id() % 100000);
        let ns_if = format!("vn{}x{n}", std::process::id() % 100000);
        let net = format!("10.231.{}", tag + 1);
        ip(&["netns", "add", &name]);
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if,
        ]);
        ip(&["link", "set", &ns_if, "netns", &name]);
        ip(&["addr", "add", &format!("{net}.1/24"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&[
            "-n",
            &name,
            "addr",
            "add",
            &format!("{net}.2/24"),
            "dev",
            &ns_if,
        ]);
        ip(&["-n", &name, "link", "set", &ns_if, "up"]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        Self {
            name,
            host_if,
            host_addr: format!("{net}.1"),
            addr: format!("{net}.2"),
            dead_addr: format!("{net}.3"),
            servers: Vec::new(),
        }
    }

    /// Starts an iperf3 server inside the namespace.
    pub fn iperf_server(&mut self, port: u16) {
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.name,
                "iperf3",
                "-s",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("iperf3 (package iperf3) must be installed");
        self.servers.push(child);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }

    /// Limits what this host sends into the namespace (a token bucket: real
    /// loss once the rate is exceeded).
    pub fn limit_rate(&self, rate: &str) {
        let ok = Command::new("tc")
            .args([
                "qdisc",
                "add",
                "dev",
                &self.host_if,
                "root",
                "tbf",
                "rate",
                rate,
                "burst",
                "16kbit",
                "latency",
                "20ms",
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "tc qdisc tbf failed");
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        for s in &mut self.servers {
            let _ = s.kill();
            let _ = s.wait();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// An iperf3 server on loopback, killed on drop.
pub struct LocalIperf(Child);

impl LocalIperf {
    pub fn start(port: u16) -> Self {
        let c = Command::new("iperf3")
            .args(["-s", "-B", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("iperf3 must be installed");
        std::thread::sleep(std::time::Duration::from_millis(300));
        Self(c)
    }
}

impl Drop for LocalIperf {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl NetNs {
    /// Runs `program args` inside the namespace, output captured.
    pub fn spawn(&self, program: &str, args: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.name, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ip netns exec")
    }
}

/// A namespace of its own whose loopback carries multicast (REFERENCE.md's
/// recipe: lo up, multicast on, 224.0.0.0/4 routed to lo); deleted on drop.
pub struct LoopbackMulticast(pub String);

impl LoopbackMulticast {
    /// `prefix` keeps each test file's namespaces apart.
    pub fn new(prefix: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}{}-{n}", std::process::id());
        ip(&["netns", "add", &name]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        ip(&["-n", &name, "link", "set", "lo", "multicast", "on"]);
        ip(&["-n", &name, "route", "add", "224.0.0.0/4", "dev", "lo"]);
        Self(name)
    }

    /// `python3 -c script args…` run inside the namespace, stdout piped.
    pub fn python(&self, script: &str, args: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.0, "python3", "-c", script])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 in the namespace")
    }
}

impl Drop for LoopbackMulticast {
    fn drop(&mut self) {
        // Gone already if the test deleted it; nothing else to do then.
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}
