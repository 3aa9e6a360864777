//! The load benchmark's report: the machine and versions it ran on, one Markdown table per
//! measurement, and the ratios against the direct baseline with the targets they answer.

use std::fmt::Write as _;

use super::generator::Measured;

/// A part's Markdown report and what failed in it (`hostile`, `soak`): empty failures when the
/// run passed.
#[derive(Debug)]
pub struct Judged {
    /// The Markdown report.
    pub report: String,
    /// Each answer, figure or bound that was not what the part expects, one line each.
    pub failures: Vec<String>,
}

/// Where and how the numbers were measured.
#[derive(Debug, Clone)]
pub struct Environment {
    /// UTC, RFC 3339.
    pub date: String,
    /// CPU model name.
    pub cpu: String,
    /// CPUs this process may use.
    pub cpus: usize,
    /// Total memory, MiB.
    pub memory_mib: u64,
    /// Kernel release.
    pub kernel: String,
    /// `release` or `debug` (the build profile of this binary and, normally, of the servers).
    pub profile: &'static str,
    /// This workspace's version and commit.
    pub toolkit: String,
    /// `rustc --version`.
    pub rustc: String,
}

impl Environment {
    /// Reads the machine (Linux `/proc`), the build and the clock.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_once(':'))
                .map(|(_, value)| value.trim().to_owned())
        };
        let command = |program: &str, args: &[&str]| {
            std::process::Command::new(program)
                .args(args)
                .output()
                .ok()
                .filter(|out| out.status.success())
                .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        };
        let commit =
            command("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
        Self {
            date: chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
            cpu: field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            memory_mib: field(&meminfo, "MemTotal")
                .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| kb / 1024),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|text| text.trim().to_owned())
                .unwrap_or_else(|_| "unknown".into()),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            toolkit: format!("{} ({commit})", env!("CARGO_PKG_VERSION")),
            rustc: command("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
        }
    }

    /// A Markdown list.
    pub fn render(&self) -> String {
        format!(
            "- date: {}\n- machine: {} × {}, {} MiB, Linux {}\n- build: {} profile; toolkit {}; {}\n",
            self.date,
            self.cpus,
            self.cpu,
            self.memory_mib,
            self.kernel,
            self.profile,
            self.toolkit,
            self.rustc
        )
    }
}

/// One measured row: which server, how it was loaded, what it measured.
#[derive(Debug, Clone)]
pub struct Row {
    /// The server (`direct to mock`, `gateway`, `LiteLLM`).
    pub target: String,
    /// The load (`closed loop, 64 clients`, `open loop, 1000 req/s`).
    pub load: String,
    /// The numbers.
    pub measured: Measured,
}

/// A Markdown table of rows: throughput, latency percentiles in µs, failures, the time the server
/// reported spending itself, schedule lag.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| target | load | ok | failed | req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | own time p50 / p99 µs | send lag p99 µs |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for Row {
        target,
        load,
        measured: m,
    } in rows
    {
        let lag = if m.lag.is_empty() {
            "–".to_owned()
        } else {
            m.lag.value_at_percentile(99.0).to_string()
        };
        let own = if m.server_time.is_empty() {
            "–".to_owned()
        } else {
            format!(
                "{} / {}",
                m.server_time.value_at_percentile(50.0),
                m.server_time.value_at_percentile(99.0)
            )
        };
        let _ = writeln!(
            out,
            "| {target} | {load} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {own} | {lag} |",
            m.ok,
            m.failed,
            m.throughput(),
            m.latency_us(50.0),
            m.latency_us(90.0),
            m.latency_us(99.0),
            m.latency_us(99.9),
            m.latency.max(),
        );
    }
    for Row {
        target,
        load,
        measured,
    } in rows
    {
        if let Some(failure) = &measured.first_failure {
            let _ = writeln!(out, "\nfirst failure, {target}, {load}: {failure}");
        }
    }
    out
}

/// A value measured once per round: its median and range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median (of an even count, the mean of the middle two).
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// How many values.
    pub rounds: usize,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let (first, last) = (*sorted.first()?, *sorted.last()?);
        let middle = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        } else {
            sorted[middle]
        };
        Some(Self {
            median,
            min: first,
            max: last,
            rounds: sorted.len(),
        })
    }

    /// One value, measured once.
    pub fn once(value: f64) -> Self {
        Self {
            median: value,
            min: value,
            max: value,
            rounds: 1,
        }
    }

    /// `median unit (min–max, N rounds)`, or `value unit` for one round.
    pub fn render(&self, unit: &str) -> String {
        if self.rounds > 1 {
            format!(
                "{} {unit} ({}–{}, {} rounds)",
                trim(self.median),
                trim(self.min),
                trim(self.max),
                self.rounds
            )
        } else {
            format!("{} {unit}", trim(self.median))
        }
    }
}

/// One target and whether the measurement met it.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// What was compared.
    pub what: String,
    /// The measured value, with its unit.
    pub measured: String,
    /// The target, with its unit.
    pub target: String,
    /// Whether the target was met.
    pub met: bool,
}

impl Verdict {
    /// Met when the median is `≤ limit`.
    pub fn at_most(what: &str, measured: Spread, limit: f64, unit: &str) -> Self {
        Self::new(what, measured, limit, unit, (measured.median <= limit, "≤"))
    }

    /// Met when the median is `≥ limit`.
    pub fn at_least(what: &str, measured: Spread, limit: f64, unit: &str) -> Self {
        Self::new(what, measured, limit, unit, (measured.median >= limit, "≥"))
    }

    fn new(
        what: &str,
        measured: Spread,
        limit: f64,
        unit: &str,
        (met, sign): (bool, &str),
    ) -> Self {
        Self {
            what: what.to_owned(),
            measured: measured.render(unit),
            target: format!("{sign} {} {unit}", trim(limit)),
            met,
        }
    }
}

fn trim(value: f64) -> String {
    if value.abs() >= 10.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// A Markdown table of verdicts.
pub fn verdicts(verdicts: &[Verdict]) -> String {
    let mut out = String::from("| measure | measured | target | met |\n|---|---:|---:|---|\n");
    for v in verdicts {
        let met = if v.met { "yes" } else { "**no**" };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {met} |",
            v.what, v.measured, v.target
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_say_which_way_the_limit_goes() {
        let faster = Verdict::at_most("added p50", Spread::once(42.0), 100.0, "µs");
        assert!(faster.met);
        assert_eq!(
            (faster.measured.as_str(), faster.target.as_str()),
            ("42 µs", "≤ 100 µs")
        );
        let ratio = Verdict::at_least("throughput ratio", Spread::once(0.55), 0.6, "×");
        assert!(!ratio.met);
        assert_eq!(ratio.target, "≥ 0.60 ×");
        assert!(verdicts(&[ratio]).contains("| **no** |"));
    }

    #[test]
    fn a_verdict_over_rounds_judges_the_median_and_shows_the_range() {
        let rounds = Spread::of(&[180.0, 90.0, 95.0]).unwrap_or_else(|| panic!("three values"));
        assert_eq!((rounds.median, rounds.min, rounds.max), (95.0, 90.0, 180.0));
        let verdict = Verdict::at_most("added p50", rounds, 100.0, "µs");
        assert!(verdict.met);
        assert_eq!(verdict.measured, "95 µs (90–180, 3 rounds)");
        let even = Spread::of(&[1.0, 4.0, 2.0, 3.0]).unwrap_or_else(|| panic!("four values"));
        assert_eq!(even.median, 2.5);
        assert_eq!(Spread::of(&[f64::NAN]), None);
    }
}
