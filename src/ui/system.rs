//! The system panel: CPU, memory, network throughput (sysinfo, sampled on a
//! background thread) and the kernel's UDP buffer limits.

use crate::engine::srt_params::send_tuning;
use crate::engine::StreamSnapshot;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SAMPLE_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Default)]
pub struct SystemSample {
    pub cpu_percent: f32,
    pub cores: usize,
    pub memory_used_bytes: u64,
    pub memory_total_bytes: u64,
    pub app_rss_bytes: u64,
    pub app_cpu_percent: f32,
    pub net_rx_bps: f64,
    pub net_tx_bps: f64,
    /// net.core.rmem_max / wmem_max in bytes.
    pub rmem_max: Option<u64>,
    pub wmem_max: Option<u64>,
    /// First non-loopback IPv4 address, for receiver commands.
    pub local_ip: Option<String>,
}

fn read_sysctl(name: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/sys/net/core/{name}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Samples the system every two seconds on its own thread.
pub struct SystemMonitor {
    latest: Arc<Mutex<SystemSample>>,
}

impl SystemMonitor {
    pub fn start(repaint: Arc<dyn Fn() + Send + Sync>) -> Self {
        let latest = Arc::new(Mutex::new(SystemSample::default()));
        let out = latest.clone();
        let spawned = std::thread::Builder::new()
            .name("sysinfo".into())
            .spawn(move || sample_loop(out, repaint));
        if let Err(e) = spawned {
            tracing::warn!("no system panel: cannot start its thread: {e}");
        }
        Self { latest }
    }

    pub fn latest(&self) -> SystemSample {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn sample_loop(out: Arc<Mutex<SystemSample>>, repaint: Arc<dyn Fn() + Send + Sync>) {
    use sysinfo::{Networks, Pid, ProcessesToUpdate, System};
    let (Ok(mut sys), Ok(mut nets)) = (System::new(), Networks::new_with_refreshed_list()) else {
        tracing::warn!("no system panel: sysinfo does not support this system");
        return;
    };
    let pid = Pid::from_u32(std::process::id());
    loop {
        std::thread::sleep(SAMPLE_EVERY);
        sys.refresh_cpu_usage();
        sys.refresh_memory();
        sys.refresh_processes(ProcessesToUpdate::Some(&[pid]), true);
        nets.refresh(true);
        let secs = SAMPLE_EVERY.as_secs_f64();
        let (mut rx, mut tx) = (0u64, 0u64);
        let mut local_ip = None;
        for (name, data) in nets.iter() {
            if name.to_string_lossy() == "lo" {
                continue;
            }
            rx += data.received();
            tx += data.transmitted();
            if local_ip.is_none() {
                local_ip = data
                    .ip_networks()
                    .iter()
                    .find(|n| n.addr.is_ipv4() && !n.addr.is_loopback())
                    .map(|n| n.addr.to_string());
            }
        }
        let (app_rss, app_cpu) = sys
            .process(pid)
            .map(|p| (p.memory(), p.cpu_usage()))
            .unwrap_or_default();
        let sample = SystemSample {
            cpu_percent: sys.global_cpu_usage(),
            cores: sys.cpus().len(),
            memory_used_bytes: sys.used_memory(),
            memory_total_bytes: sys.total_memory(),
            app_rss_bytes: app_rss,
            app_cpu_percent: app_cpu,
            net_rx_bps: rx as f64 * 8.0 / secs,
            net_tx_bps: tx as f64 * 8.0 / secs,
            rmem_max: read_sysctl("rmem_max"),
            wmem_max: read_sysctl("wmem_max"),
            local_ip,
        };
        *out.lock().unwrap_or_else(|e| e.into_inner()) = sample;
        repaint();
    }
}

/// The UDP buffer the largest running stream wants from the kernel, in bytes.
pub fn udp_buffer_needed(streams: &[StreamSnapshot]) -> u64 {
    streams
        .iter()
        .filter(|s| s.state.is_running())
        .map(|s| u64::from(send_tuning(&s.config, s.source.peak_bps).sndbuf_bytes))
        .max()
        .unwrap_or(0)
}

/// A warning with the fix when the kernel's limits are below what is needed.
pub fn udp_limit_warning(sample: &SystemSample, needed: u64) -> Option<String> {
    let limit = sample.wmem_max?.min(sample.rmem_max?);
    (needed > limit).then(|| {
        let want = needed.next_power_of_two().max(8 << 20);
        format!(
            "The kernel's UDP buffer limit ({} KB) is below what the streams want ({} KB): packets may be dropped at high bitrates. Fix: sudo sysctl -w net.core.rmem_max={want} net.core.wmem_max={want} (and put both lines in /etc/sysctl.d/60-srt-streamer.conf to keep them).",
            limit / 1024,
            needed / 1024
        )
    })
}

/// The app's own SRT traffic in bit/s (sent, received), from libsrt's
/// statistics of every connected link: counts loopback too, which the
/// interface counters leave out.
pub fn srt_traffic(
    streams: &[crate::engine::StreamSnapshot],
    receivers: &[crate::engine::receiver::ReceiverSnapshot],
) -> (f64, f64) {
    let links = streams
        .iter()
        .filter(|s| s.state.is_running())
        .filter_map(|s| s.latest.as_ref())
        .chain(
            receivers
                .iter()
                .filter(|r| r.state.is_running())
                .filter_map(|r| r.stats.as_ref()),
        )
        .flat_map(|sample| sample.links.iter().filter(|l| l.is_connected()));
    links.fold((0.0, 0.0), |(tx, rx), l| {
        (
            tx + l.send_bitrate_bps.unwrap_or(0.0),
            rx + l.receive_bitrate_bps.unwrap_or(0.0),
        )
    })
}

/// The status bar. `srt`: the app's own SRT traffic (sent, received), bit/s.
pub fn system_panel_ui(
    ui: &mut egui::Ui,
    s: &SystemSample,
    srt: (f64, f64),
    warning: Option<&str>,
) {
    ui.horizontal_wrapped(|ui| {
        // Each figure wraps as a whole, never inside.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        ui.label(format!(
            "SRT out {:.2} Mbit/s, in {:.2} Mbit/s",
            srt.0 / 1e6,
            srt.1 / 1e6
        ))
        .on_hover_text("This app's SRT links, from libsrt's statistics (loopback included)");
        ui.separator();
        if s.cores == 0 {
            ui.label("System: measuring…");
            return;
        }
        ui.label(format!("CPU {:.0} % ({} cores)", s.cpu_percent, s.cores));
        ui.separator();
        ui.label(format!(
            "Memory {:.1} / {:.1} GB",
            s.memory_used_bytes as f64 / 1e9,
            s.memory_total_bytes as f64 / 1e9
        ));
        ui.separator();
        ui.label(format!(
            "This app: {:.0} MB, CPU {:.1} %",
            s.app_rss_bytes as f64 / 1e6,
            s.app_cpu_percent
        ));
        ui.separator();
        ui.separator();
        ui.label(format!(
            "Interfaces out {:.2} Mbit/s, in {:.2} Mbit/s",
            s.net_tx_bps / 1e6,
            s.net_rx_bps / 1e6
        ))
        .on_hover_text("All traffic of the network interfaces, loopback excluded");
    });
    if let Some(w) = warning {
        ui.colored_label(
            super::palette::color(ui, super::palette::Tone::Warn),
            format!("Warning: {w}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_only_below_the_need_and_gives_the_fix() {
        let s = SystemSample {
            rmem_max: Some(212_992),
            wmem_max: Some(212_992),
            ..Default::default()
        };
        let w = udp_limit_warning(&s, 1_000_000).unwrap();
        assert!(w.contains("sysctl -w net.core.rmem_max=8388608"), "{w}");
        assert!(udp_limit_warning(&s, 100_000).is_none());
    }
}
