//! Time plots shared by the Details and Receive screens: a title above each
//! plot, a value axis in the series' unit scaled to its range ("12 Mbit/s",
//! "250 ms", "1.2k pkts"), time as elapsed (m:ss) or local wall clock
//! (HH:MM:SS), and hover showing series, time and value with its unit.

use super::dashboard::fmt_duration;
use crate::engine::stats::ReceivePoint;
use egui_plot::{GridInput, GridMark, HoverPosition, Legend, Line, LineStyle, Plot};

/// Smallest plot height; what is left of the window is shared above that.
pub const MIN_PLOT_HEIGHT: f32 = 110.0;

/// Line colours in order: blue, orange, green; none of them the red kept
/// for limits.
const LINE_COLORS: [egui::Color32; 3] = [
    egui::Color32::from_rgb(90, 170, 255),
    egui::Color32::from_rgb(255, 170, 60),
    egui::Color32::from_rgb(110, 200, 110),
];

/// A limit the other lines are read against (latency): red, dashed.
const REFERENCE_COLOR: egui::Color32 = egui::Color32::from_rgb(230, 70, 60);

/// What a series measures: decides the axis scaling and the unit shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bits per second.
    BitRate,
    /// Milliseconds.
    Ms,
    /// Percent.
    Percent,
    /// Packets.
    Packets,
}

impl Unit {
    /// The value span shown when every value is zero (a scale still shows).
    fn min_span(self) -> f64 {
        match self {
            Unit::BitRate => 1e6,
            Unit::Ms => 10.0,
            Unit::Percent => 1.0,
            Unit::Packets => 10.0,
        }
    }

    /// Divisor and suffix (with its separator) for values around `magnitude`.
    fn scale(self, magnitude: f64) -> (f64, &'static str) {
        let m = magnitude.abs();
        match self {
            Unit::BitRate if m >= 1e9 => (1e9, " Gbit/s"),
            Unit::BitRate if m >= 1e6 => (1e6, " Mbit/s"),
            Unit::BitRate if m >= 1e3 => (1e3, " kbit/s"),
            Unit::BitRate => (1.0, " bit/s"),
            Unit::Ms if m >= 1000.0 => (1000.0, " s"),
            Unit::Ms if m > 0.0 && m < 1.0 => (1e-3, " µs"),
            Unit::Ms => (1.0, " ms"),
            Unit::Percent => (1.0, " %"),
            Unit::Packets if m >= 1e6 => (1e6, "M pkts"),
            Unit::Packets if m >= 1e3 => (1e3, "k pkts"),
            Unit::Packets => (1.0, " pkts"),
        }
    }
}

/// `x` with three significant digits, without trailing zeros.
fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let decimals = (2 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    trim_zeros(format!("{x:.decimals$}"))
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A value with its unit, scaled to its own size: "2.5 Mbit/s", "500 µs".
pub fn fmt_value(v: f64, unit: Unit) -> String {
    let (div, suffix) = unit.scale(v);
    format!("{}{suffix}", significant(v / div))
}

/// A tick of the value axis: scaled like the axis' largest value (one unit
/// along the axis) with the decimals its step needs.
pub fn fmt_tick(v: f64, unit: Unit, axis_max: f64, step: f64) -> String {
    let (div, suffix) = unit.scale(axis_max);
    let step = step / div;
    let decimals = (0..6)
        .find(|d| {
            let k = step * 10f64.powi(*d);
            (k - k.round()).abs() < 1e-6 * k.max(1.0)
        })
        .unwrap_or(6) as usize;
    format!("{:.decimals$}{suffix}", v / div)
}

/// The smallest of 1, 2, 5 × 10ⁿ at least `min`.
fn nice_step(min: f64) -> f64 {
    if !(min > 0.0 && min.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(min.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|k| k * p)
        .find(|s| *s >= min * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

/// Marks every `step` in `bounds`, aligned so that `value + shift` is a multiple.
fn marks(bounds: (f64, f64), step: f64, shift: f64) -> Vec<GridMark> {
    if step.is_nan() || step <= 0.0 || bounds.1 < bounds.0 || (bounds.1 - bounds.0) / step > 1000.0
    {
        return Vec::new();
    }
    let mut v = ((bounds.0 + shift) / step).ceil() * step - shift;
    let mut out = Vec::new();
    while v <= bounds.1 {
        // No "-0" tick where rounding lands just below zero.
        let value = if v.abs() < step * 1e-9 { 0.0 } else { v };
        out.push(GridMark {
            value,
            step_size: step,
        });
        v += step;
    }
    out
}

/// Value-axis ticks 1-2-5 apart, about 32 points or more.
fn value_marks(input: GridInput) -> Vec<GridMark> {
    marks(input.bounds, nice_step(input.base_step_size * 4.0), 0.0)
}

/// Time steps that read well as clock times (seconds).
const TIME_STEPS: [f64; 17] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    10800.0, 21600.0, 43200.0,
];

/// `HH:MM:SS` of a time `offset_secs` ahead of UTC.
pub fn fmt_clock(unix_secs: f64, offset_secs: i64) -> String {
    let s = (unix_secs.floor() as i64 + offset_secs).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The local time zone's offset from UTC at `unix_secs` (0 if unknown).
pub fn local_offset_secs(unix_secs: i64) -> i64 {
    let t = unix_secs as libc::time_t;
    // SAFETY: `localtime_r` writes only into the `tm` we pass and reads `t`;
    // a zeroed `tm` is a valid value of this plain C struct.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            0
        } else {
            tm.tm_gmtoff
        }
    }
}

/// The time axis of a screen's plots: the range shown, in seconds since
/// the stream started, and how those seconds are labelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    pub from: f64,
    pub to: f64,
    /// Unix seconds at elapsed 0 and the local UTC offset, when labelled by
    /// the wall clock.
    wall: Option<(f64, i64)>,
}

impl TimeAxis {
    /// Elapsed time from `from` to `to`; with `wall_clock` and a sample's
    /// wall-clock time (`unix_ms` at `elapsed_secs`), local clock times.
    pub fn new(from: f64, to: f64, wall_clock: bool, sample: Option<(i64, f64)>) -> Self {
        let wall = sample.filter(|_| wall_clock).map(|(ms, elapsed)| {
            let origin = ms as f64 / 1000.0 - elapsed;
            (origin, local_offset_secs((origin + to) as i64))
        });
        Self { from, to, wall }
    }

    /// The label of time `x` (seconds since the start).
    pub fn label(&self, x: f64) -> String {
        match self.wall {
            Some((origin, offset)) => fmt_clock(origin + x, offset),
            None => fmt_duration(x.max(0.0)),
        }
    }

    /// Ticks at round clock or elapsed times, about 88 points or more apart
    /// (room for "HH:MM:SS").
    fn marks(&self, input: GridInput) -> Vec<GridMark> {
        let min = input.base_step_size * 11.0;
        let step = TIME_STEPS
            .into_iter()
            .find(|s| *s >= min)
            .unwrap_or(86_400.0);
        let shift = self.wall.map(|(o, off)| o + off as f64).unwrap_or(0.0);
        marks(input.bounds, step, shift)
    }
}

/// One line of a plot.
pub struct Series {
    pub name: String,
    pub points: Vec<[f64; 2]>,
    /// A limit the other lines are read against (latency): dashed, red.
    pub reference: bool,
}

impl Series {
    pub fn line(name: &str, points: Vec<[f64; 2]>) -> Self {
        Self {
            name: name.into(),
            points,
            reference: false,
        }
    }

    pub fn reference(name: &str, points: Vec<[f64; 2]>) -> Self {
        Self {
            reference: true,
            ..Self::line(name, points)
        }
    }
}

/// Height for each of `rows` rows of plots sharing `available` points
/// (each with its title), never under [`MIN_PLOT_HEIGHT`].
pub fn plot_height(available: f32, rows: usize) -> f32 {
    let title = 22.0;
    (available / rows.max(1) as f32 - title).max(MIN_PLOT_HEIGHT)
}

/// A titled time plot with a scaled, unit-labelled value axis, a legend and
/// hover values; zero at the bottom, the highest value a fifth below the top.
pub fn time_plot(
    ui: &mut egui::Ui,
    id: impl egui::AsIdSalt,
    title: &str,
    unit: Unit,
    series: Vec<Series>,
    time: &TimeAxis,
    height: f32,
) {
    ui.label(egui::RichText::new(title).strong());
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p[1]))
        .fold(0.0, f64::max);
    let top = (y_max * 1.25).max(unit.min_span());
    let time = *time;
    Plot::new(id)
        .height(height)
        .legend(Legend::default().follow_insertion_order(true))
        .include_x(time.from)
        .include_x(time.to)
        .include_y(0.0)
        .include_y(top)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .x_grid_spacer(move |input| time.marks(input))
        .y_grid_spacer(value_marks)
        .x_axis_formatter(move |m, _| time.label(m.value))
        .y_axis_formatter(move |m, range| fmt_tick(m.value, unit, *range.end(), m.step_size))
        .label_formatter(move |pos| {
            Some(match pos {
                HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => format!(
                    "{plot_name}\n{}\n{}",
                    time.label(position.x),
                    fmt_value(position.y, unit)
                ),
                HoverPosition::Elsewhere { position } => {
                    format!(
                        "{}\n{}",
                        time.label(position.x),
                        fmt_value(position.y, unit)
                    )
                }
            })
        })
        .show(ui, |p| {
            let mut colors = LINE_COLORS.iter().cycle();
            for s in series {
                let line = Line::new(s.name, s.points);
                p.line(if s.reference {
                    line.style(LineStyle::dashed_loose()).color(REFERENCE_COLOR)
                } else {
                    line.color(*colors.next().unwrap_or(&REFERENCE_COLOR))
                });
            }
        });
}

/// The Receive screen's plots of one receiver: what libsrt reports on the
/// receiving side, all of its history (at most an hour).
pub fn receiver_plots(
    ui: &mut egui::Ui,
    id: impl egui::AsIdSalt + Copy,
    history: &[ReceivePoint],
    uptime_secs: f64,
    wall_clock: &mut bool,
) {
    ui.horizontal(|ui| {
        ui.strong("Statistics");
        ui.checkbox(wall_clock, "Wall clock").on_hover_text(
            "label the time axis with the local time of day instead of the time since the start",
        );
    });
    let last = history.last().map(|p| (p.unix_ms, p.elapsed_secs));
    let from = history.first().map(|p| p.elapsed_secs).unwrap_or(0.0);
    let time = TimeAxis::new(from, uptime_secs.max(from), *wall_clock, last);
    let series = |f: fn(&ReceivePoint) -> Option<f64>| -> Vec<[f64; 2]> {
        history
            .iter()
            .filter_map(|p| f(p).map(|v| [p.elapsed_secs, v]))
            .collect()
    };
    // Two rows sharing most of the visible height (the scroll area's), so a
    // single receiver's plots fill a large window and several still fit.
    let height = plot_height(ui.clip_rect().height() * 0.6, 2);
    ui.columns(2, |cols| {
        time_plot(
            &mut cols[0],
            ("rx-rate", id),
            "Received bitrate",
            Unit::BitRate,
            vec![Series::line("received", series(|p| p.receive_bitrate_bps))],
            &time,
            height,
        );
        time_plot(
            &mut cols[1],
            ("rx-rtt", id),
            "Round-trip time",
            Unit::Ms,
            vec![Series::line("RTT", series(|p| p.rtt_ms))],
            &time,
            height,
        );
        time_plot(
            &mut cols[0],
            ("rx-loss", id),
            "Loss and drops (% of packets due)",
            Unit::Percent,
            vec![
                Series::line("lost", series(|p| p.loss_percent)),
                Series::line("dropped (too late)", series(|p| p.drop_percent)),
            ],
            &time,
            height,
        );
        // What arrives waits in the receive buffer until its play time: it
        // fills up to about the latency; far below means the sender lags.
        time_plot(
            &mut cols[1],
            ("rx-buffer", id),
            "Receive buffer against latency",
            Unit::Ms,
            vec![
                Series::line("receive buffer", series(|p| p.receive_buffer_ms)),
                Series::reference("latency", series(|p| p.latency_ms)),
            ],
            &time,
            height,
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_scale_to_their_unit() {
        assert_eq!(fmt_value(0.0012, Unit::Percent), "0.0012 %");
        assert_eq!(fmt_value(0.5, Unit::Percent), "0.5 %");
        assert_eq!(fmt_value(12.0, Unit::Percent), "12 %");
        assert_eq!(fmt_value(0.0012, Unit::Ms), "1.2 µs");
        assert_eq!(fmt_value(0.5, Unit::Ms), "500 µs");
        assert_eq!(fmt_value(12.0, Unit::Ms), "12 ms");
        assert_eq!(fmt_value(250.0, Unit::Ms), "250 ms");
        assert_eq!(fmt_value(1500.0, Unit::Ms), "1.5 s");
        assert_eq!(fmt_value(0.5, Unit::BitRate), "0.5 bit/s");
        assert_eq!(fmt_value(1500.0, Unit::BitRate), "1.5 kbit/s");
        assert_eq!(fmt_value(2.5e6, Unit::BitRate), "2.5 Mbit/s");
        assert_eq!(fmt_value(12.345e6, Unit::BitRate), "12.3 Mbit/s");
        assert_eq!(fmt_value(12.0, Unit::Packets), "12 pkts");
        assert_eq!(fmt_value(1500.0, Unit::Packets), "1.5k pkts");
        assert_eq!(fmt_value(2.5e6, Unit::Packets), "2.5M pkts");
        assert_eq!(fmt_value(0.0, Unit::Ms), "0 ms");
    }

    #[test]
    fn ticks_share_the_axis_scale_and_show_the_step_decimals() {
        // An axis up to 12.5 Mbit/s ticking every 2.5 Mbit/s.
        assert_eq!(fmt_tick(0.0, Unit::BitRate, 12.5e6, 2.5e6), "0.0 Mbit/s");
        assert_eq!(fmt_tick(5e6, Unit::BitRate, 12.5e6, 2.5e6), "5.0 Mbit/s");
        assert_eq!(fmt_tick(7.5e6, Unit::BitRate, 12.5e6, 2.5e6), "7.5 Mbit/s");
        // Every 500 kbit/s below 1.2 Mbit/s still reads in Mbit/s.
        assert_eq!(fmt_tick(5e5, Unit::BitRate, 1.2e6, 5e5), "0.5 Mbit/s");
        assert_eq!(fmt_tick(250.0, Unit::Ms, 300.0, 50.0), "250 ms");
        assert_eq!(fmt_tick(0.02, Unit::Percent, 0.05, 0.01), "0.02 %");
        assert_eq!(fmt_tick(1200.0, Unit::Packets, 2000.0, 200.0), "1.2k pkts");
    }

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(6.0), 10.0);
        assert_eq!(nice_step(2.0e5), 2.0e5);
        let m = marks((0.0, 12.5e6), 2.5e6, 0.0);
        let values: Vec<f64> = m.iter().map(|m| m.value).collect();
        assert_eq!(values, [0.0, 2.5e6, 5e6, 7.5e6, 10e6, 12.5e6]);
        // The axis starts a little below zero: its zero tick is a plain 0.
        let m = marks((-0.03, 1.0), 0.2, 0.0);
        assert!(m[0].value.is_sign_positive() && m[0].value == 0.0);
        assert_eq!(fmt_tick(m[0].value, Unit::Percent, 1.0, 0.2), "0.0 %");
    }

    #[test]
    fn clock_labels_are_local_time_of_day() {
        // 2024-02-29T23:59:58Z (a leap day).
        let t = 1_709_251_198.0;
        assert_eq!(fmt_clock(t, 0), "23:59:58");
        assert_eq!(fmt_clock(t, 3600), "00:59:58");
        assert_eq!(fmt_clock(t, -5 * 3600), "18:59:58");
        assert_eq!(fmt_clock(t + 0.999, 0), "23:59:58");
    }

    #[test]
    fn time_axis_labels_elapsed_or_wall_clock_and_ticks_on_round_times() {
        let elapsed = TimeAxis::new(0.0, 300.0, false, Some((1_709_251_198_000, 100.0)));
        assert_eq!(elapsed.label(65.0), "1:05");
        // The sample at 100 s was taken at 23:59:58 UTC: 0 s is 23:58:18.
        let mut wall = TimeAxis::new(0.0, 300.0, true, Some((1_709_251_198_000, 100.0)));
        wall.wall = wall.wall.map(|(o, _)| (o, 0));
        assert_eq!(wall.label(0.0), "23:58:18");
        assert_eq!(wall.label(100.0), "23:59:58");
        // Ticks at whole minutes of the clock, not of the elapsed time.
        let m = wall.marks(GridInput {
            bounds: (0.0, 300.0),
            base_step_size: 5.0,
        });
        assert_eq!(m[0].step_size, 60.0);
        assert_eq!(wall.label(m[0].value), "23:59:00");
        assert_eq!(wall.label(m[1].value), "00:00:00");
        // Without a sample there is no wall clock to show.
        assert_eq!(TimeAxis::new(0.0, 10.0, true, None).label(5.0), "0:05");
    }

    #[test]
    fn plots_grow_with_the_space_and_keep_a_minimum() {
        assert_eq!(plot_height(300.0, 3), MIN_PLOT_HEIGHT);
        assert!(plot_height(900.0, 3) > 250.0);
    }
}
