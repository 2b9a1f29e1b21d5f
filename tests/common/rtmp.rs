//! A real RTMP server for tests: nginx with Debian's libnginx-mod-rtmp in
//! a temp folder, on a free port, recording every published stream to an
//! FLV file (what the server received, whole), killed on drop. And the
//! sources: H.264 + AAC (or MPEG-2 + MP2) TS made by ffmpeg, a white flash
//! and a 1 kHz beep at the start of every second, so A/V sync can be
//! measured in what comes back.

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const RTMP_MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/// A port free for TCP (nginx) from the per-process range.
pub fn free_tcp_port() -> u16 {
    loop {
        let p = super::free_port();
        if TcpListener::bind(("127.0.0.1", p)).is_ok() && UdpSocket::bind(("127.0.0.1", p)).is_ok()
        {
            return p;
        }
    }
}

pub struct Nginx {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
}

impl Nginx {
    pub fn start(dir: &Path) -> Self {
        Self::start_on(dir, free_tcp_port())
    }

    /// nginx on `port` (again after [`Self::kill`]: same folder, same port).
    pub fn start_on(dir: &Path, port: u16) -> Self {
        assert!(
            Path::new(RTMP_MODULE).exists(),
            "nginx's RTMP module is missing: apt install nginx-light libnginx-mod-rtmp (install-deps --test)"
        );
        let rec = dir.join("rec");
        std::fs::create_dir_all(&rec).expect("rec folder");
        let conf = format!(
            "load_module {RTMP_MODULE};\ndaemon off;\nmaster_process off;\npid nginx.pid;\n\
             error_log error.log info;\nevents {{ worker_connections 64; }}\n\
             rtmp {{ server {{ listen 127.0.0.1:{port}; application live {{ live on; \
             record all; record_path {}; record_append on; }} }} }}\n",
            rec.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (apt install nginx-light libnginx-mod-rtmp)");
        let up = super::wait_until(Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "nginx did not listen on {port}");
        Self {
            child: Some(child),
            port,
            dir: dir.to_path_buf(),
        }
    }

    pub fn url(&self, key: &str) -> String {
        format!("rtmp://127.0.0.1:{}/live/{key}", self.port)
    }

    /// What the server recorded of stream `key`.
    pub fn recording(&self, key: &str) -> PathBuf {
        self.dir.join("rec").join(format!("{key}.flv"))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// Gone at once, as a crashed server (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `secs`-second TS by ffmpeg: a white flash on black (one frame) and a
/// 100 ms beep at the start of every second; `mpeg2` gives MPEG-2 video +
/// MP2 audio instead of H.264 + AAC.
pub fn flash_beep_ts(dir: &Path, secs: u32, mpeg2: bool) -> PathBuf {
    let name = if mpeg2 { "mpeg2-mp2.ts" } else { "h264-aac.ts" };
    let out = dir.join(name);
    let codecs: &[&str] = if mpeg2 {
        &[
            "-c:v",
            "mpeg2video",
            "-b:v",
            "2M",
            "-c:a",
            "mp2",
            "-b:a",
            "192k",
        ]
    } else {
        &[
            "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-pix_fmt", "yuv420p", "-c:a",
            "aac", "-b:a", "128k",
        ]
    };
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("color=c=black:size=640x360:rate=25,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,1)\\,0.04)'")
        .args(["-f", "lavfi", "-i"])
        .arg("sine=frequency=1000:sample_rate=48000:samples_per_frame=480,volume=volume='if(lt(mod(t\\,1)\\,0.1)\\,1\\,0)':eval=frame")
        .args(["-t", &secs.to_string(), "-g", "25"])
        .args(codecs)
        .args(["-f", "mpegts"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg could not make {name}");
    out
}

/// Codec names (sorted) and the container's duration, by ffprobe (a file or a URL).
pub fn probe(what: &str) -> (Vec<String>, f64) {
    let out = Command::new("timeout")
        .args(["20", "ffprobe", "-v", "error", "-show_entries"])
        .args(["stream=codec_name:format=duration", "-of", "json", what])
        .output()
        .expect("ffprobe");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let mut codecs: Vec<String> = v["streams"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["codec_name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    codecs.sort();
    let duration = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0);
    (codecs, duration)
}

/// The times (s) of each flash (video brighter than mid-grey after a dark
/// frame) and of each beep onset (audio peak above −20 dBFS after quiet,
/// measured on 5 ms blocks) in a media file, decoded by ffmpeg.
pub fn flash_and_beep_times(file: &Path) -> (Vec<f64>, Vec<f64>) {
    let dir = file.parent().expect("folder");
    let (v, a) = (dir.join("luma.txt"), dir.join("peak.txt"));
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(file)
        .arg("-vf")
        .arg(format!(
            "signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG:file={}",
            v.display()
        ))
        .arg("-af")
        .arg(format!("asetnsamples=n=240,astats=metadata=1:reset=1,ametadata=mode=print:key=lavfi.astats.Overall.Peak_level:file={}", a.display()))
        .args(["-f", "null", "-"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg could not decode {}", file.display());
    (onsets(&v, 100.0), onsets(&a, -20.0))
}

/// The times a value printed by ffmpeg's metadata filter rises above `level`.
fn onsets(path: &Path, level: f64) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let (mut t, mut was_on, mut out) = (0.0, false, Vec::new());
    for line in text.lines() {
        if let Some(pts) = line.split("pts_time:").nth(1) {
            t = pts.trim().parse().unwrap_or(t);
        } else if let Some((_, value)) = line.split_once('=') {
            let on = value.trim().parse::<f64>().is_ok_and(|x| x > level);
            if on && !was_on {
                out.push(t);
            }
            was_on = on;
        }
    }
    out
}

/// Each beep's offset (s) from the flash nearest to it (audio minus video).
pub fn av_offsets(flashes: &[f64], beeps: &[f64]) -> Vec<f64> {
    beeps
        .iter()
        .filter_map(|b| {
            flashes
                .iter()
                .map(|f| b - f)
                .min_by(|x, y| x.abs().total_cmp(&y.abs()))
        })
        .filter(|d| d.abs() < 0.5)
        .collect()
}

/// A self-signed certificate for 127.0.0.1 (openssl), as (cert, key) files.
pub fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "openssl could not make a certificate");
    (cert, key)
}

/// A TLS terminator in front of an RTMP server (nginx-light has no stream
/// module here): TLS on its own port, plain TCP to `to_port`. Returns
/// the port it listens on; it runs until the test process ends.
pub fn tls_proxy(cert: &Path, key: &Path, to_port: u16) -> u16 {
    use std::sync::Arc;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .expect("cert")
        .collect::<Result<_, _>>()
        .expect("cert");
    let key = PrivateKeyDer::from_pem_file(key).expect("key");
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("TLS config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let port = free_tcp_port();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("tokio");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return; // the client refused our certificate
                    };
                    let Ok(mut server) =
                        tokio::net::TcpStream::connect(("127.0.0.1", to_port)).await
                    else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
    });
    port
}
