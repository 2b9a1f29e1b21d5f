//! `srt-streamer serve` as a test drives it: the binary on a loopback
//! port with its config and token files in a test folder, and an HTTP
//! client (ureq) that returns every status as an answer.

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

pub struct Serve {
    child: Option<Child>,
    pub port: u16,
    pub config: PathBuf,
    pub token_file: PathBuf,
    pub stderr: PathBuf,
    agent: ureq::Agent,
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

impl Serve {
    /// `serve --config DIR/streams.toml --token-file DIR/token` on a free port.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, &dir.join("streams.toml"))
    }

    pub fn start_with(dir: &Path, config: &Path) -> Self {
        Self::start_on(dir, config, "127.0.0.1")
    }

    /// Listening on `host` (the client still calls 127.0.0.1).
    pub fn start_on(dir: &Path, config: &Path, host: &str) -> Self {
        Self::start_args(dir, config, host, &[])
    }

    /// [`Self::start_on`] with more arguments to `serve`.
    pub fn start_args(dir: &Path, config: &Path, host: &str, more: &[&str]) -> Self {
        let port = super::free_port();
        let token_file = dir.join("token");
        let stderr = dir.join(format!("serve-{port}.log"));
        let child = super::srt_streamer()
            .args(["--log-level", "info", "serve", "--config"])
            .arg(config)
            .args(["--listen", &format!("{host}:{port}"), "--token-file"])
            .arg(&token_file)
            .args(more)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("log file"))
            .spawn()
            .expect("srt-streamer serve");
        let s = Self {
            child: Some(child),
            port,
            config: config.to_path_buf(),
            token_file,
            stderr,
            agent: agent(),
        };
        let up = super::wait_until(Duration::from_secs(20), || {
            s.agent.get(s.url("/health")).call().is_ok()
        });
        assert!(up, "serve did not answer /health: {}", s.log());
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(&self.token_file)
            .expect("token file")
            .trim()
            .to_string()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// `METHOD /api/v1PATH` with the token (and `body` as JSON): status
    /// and body text.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        self.call_as(Some(&self.token()), method, path, body)
    }

    pub fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, String) {
        let url = self.url(&format!("/api/v1{path}"));
        let auth = token.map(|t| format!("Bearer {t}"));
        let resp = match (method, body) {
            ("GET", _) => with_auth(self.agent.get(&url), auth.as_deref()).call(),
            ("DELETE", _) => with_auth(self.agent.delete(&url), auth.as_deref()).call(),
            ("POST", b) => with_auth(self.agent.post(&url), auth.as_deref())
                .header("Content-Type", "application/json")
                .send(b.unwrap_or("")),
            ("PUT", b) => with_auth(self.agent.put(&url), auth.as_deref())
                .header("Content-Type", "application/json")
                .send(b.unwrap_or("")),
            _ => panic!("method {method}"),
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (status, text)
    }

    /// Like [`Self::call`], the body parsed as JSON.
    pub fn json(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let (status, text) = self.call(method, path, body);
        let v = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, v)
    }

    /// SIGTERM, then the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        super::relay::signal(child.id(), "TERM");
        let waited = super::wait_until(Duration::from_secs(30), || {
            matches!(child.try_wait(), Ok(Some(_)))
        });
        if !waited {
            let _ = child.kill();
        }
        child.wait().ok().and_then(|s| s.code())
    }

    /// `GET /api/v1/events` read in a thread: each `data:` line as it comes.
    pub fn events(&self) -> std::sync::mpsc::Receiver<String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let url = self.url("/api/v1/events");
        let auth = format!("Bearer {}", self.token());
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let Ok(resp) = agent.get(&url).header("Authorization", &auth).call() else {
                return;
            };
            let mut reader = resp.into_body().into_reader();
            let mut buf = [0u8; 4096];
            let mut line = String::new();
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    return;
                }
                line.push_str(&String::from_utf8_lossy(&buf[..n]));
                while let Some(i) = line.find('\n') {
                    let one: String = line.drain(..=i).collect();
                    if tx.send(one.trim_end().to_string()).is_err() {
                        return;
                    }
                }
            }
        });
        rx
    }
}

fn with_auth<B>(r: ureq::RequestBuilder<B>, auth: Option<&str>) -> ureq::RequestBuilder<B> {
    match auth {
        Some(a) => r.header("Authorization", a),
        None => r,
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// This machine's first address that is not loopback (`hostname -I`).
pub fn outside_address() -> Option<String> {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .map(str::to_string)
}

/// A self-signed certificate for 127.0.0.1 (openssl's default: CA:TRUE,
/// as most users make one) and its key; its SHA-256 fingerprint.
pub fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let (c, k) = (cert.display().to_string(), key.display().to_string());
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        &k,
        "-out",
        &c,
    ]);
    let printed = openssl(&["x509", "-noout", "-fingerprint", "-sha256", "-in", &c]);
    (cert, key, printed.trim().to_string())
}
