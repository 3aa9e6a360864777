//! Request generators and what they measured. Open loop: requests leave on a fixed schedule whether
//! or not earlier ones have answered, so a slow server meets a queue instead of a politely waiting
//! client, and its tails show. Closed loop: a fixed number of clients, each sending its next
//! request when the last one answers; that finds the most a server can serve.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use tokio::sync::mpsc;

use super::answer::{Answer, Probe, ProbeError};

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From sending each request to the moment its probe reports, in µs.
    pub latency: Histogram<u64>,
    /// The time the server reported spending itself, in µs (empty when it reports none).
    pub server_time: Histogram<u64>,
    /// How late each open-loop request left against its schedule, in µs (empty for closed loop).
    /// Small lag means the generator kept the schedule and the latencies are not flattered.
    pub lag: Histogram<u64>,
    /// Requests that answered correctly.
    pub ok: u64,
    /// Requests that failed.
    pub failed: u64,
    /// The first failure, to say what went wrong.
    pub first_failure: Option<String>,
    /// From the first request sent to the last answer.
    pub elapsed: Duration,
    /// CPU time the target's own process spent over the run (from `/proc`), when known.
    pub cpu: Option<Duration>,
}

impl Measured {
    fn new() -> Self {
        // 1 µs to 10 min at 3 significant digits.
        let histogram = || {
            Histogram::new_with_bounds(1, 600_000_000, 3)
                .unwrap_or_else(|err| panic!("histogram bounds are valid: {err}"))
        };
        Self {
            latency: histogram(),
            server_time: histogram(),
            lag: histogram(),
            ok: 0,
            failed: 0,
            first_failure: None,
            elapsed: Duration::ZERO,
            cpu: None,
        }
    }

    fn record(&mut self, sent: Instant, outcome: Result<Answer, ProbeError>) {
        match outcome {
            Ok(answer) => {
                self.ok += 1;
                self.latency
                    .saturating_record(micros(answer.at.saturating_duration_since(sent)));
                if let Some(server_time) = answer.server_time {
                    self.server_time.saturating_record(micros(server_time));
                }
            }
            Err(error) => {
                self.failed += 1;
                self.first_failure.get_or_insert_with(|| error.to_string());
            }
        }
    }

    /// Adds `other`'s requests to these: the histograms merge, the counts and durations add up.
    pub fn absorb(&mut self, other: &Measured) {
        // Same bounds on both sides, so merging cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.server_time.add(&other.server_time);
        let _ = self.lag.add(&other.lag);
        self.ok += other.ok;
        self.failed += other.failed;
        if self.first_failure.is_none() {
            self.first_failure.clone_from(&other.first_failure);
        }
        self.elapsed += other.elapsed;
        self.cpu = match (self.cpu, other.cpu) {
            (Some(mine), Some(theirs)) => Some(mine + theirs),
            _ => None,
        };
    }

    /// Correct answers per second over the run.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// CPU time of the target's process per correct answer, in µs.
    pub fn cpu_per_answer_us(&self) -> Option<f64> {
        let cpu = self.cpu?;
        (self.ok > 0).then(|| cpu.as_secs_f64() * 1e6 / self.ok as f64)
    }

    /// The latency at `percentile` (0–100), in µs.
    pub fn latency_us(&self, percentile: f64) -> u64 {
        self.latency.value_at_percentile(percentile)
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Sends `rate` requests per second for `duration`, each made by `probe`, on the current runtime.
/// A dedicated thread keeps the schedule (tokio's timer ticks in whole milliseconds, too coarse
/// for 1,000 req/s); latency counts from the moment each request actually left, and the lag
/// histogram shows how well the schedule was kept.
pub async fn open_loop<F>(rate: f64, duration: Duration, probe: F) -> Measured
where
    F: Fn() -> Probe + Send + Sync + 'static,
{
    if !(rate.is_finite() && rate > 0.0) {
        // Nothing to schedule; the command line refuses such rates.
        return Measured::new();
    }
    let total = (rate * duration.as_secs_f64()).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let runtime = tokio::runtime::Handle::current();
    let (results, mut answers) = mpsc::unbounded_channel();
    let (lags, mut lag_values) = mpsc::unbounded_channel();
    let started = Instant::now();
    let dispatcher = std::thread::spawn(move || {
        let probe = Arc::new(probe);
        for n in 0..total {
            let due = started + interval * u32::try_from(n).unwrap_or(u32::MAX);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let sent = Instant::now();
            let _ = lags.send(sent.saturating_duration_since(due));
            let request = probe();
            let results = results.clone();
            runtime.spawn(async move {
                let _ = results.send((sent, request.await));
            });
        }
    });
    let mut measured = Measured::new();
    while let Some((sent, outcome)) = answers.recv().await {
        measured.record(sent, outcome);
    }
    measured.elapsed = started.elapsed();
    let _ = tokio::task::spawn_blocking(move || dispatcher.join()).await;
    while let Ok(lag) = lag_values.try_recv() {
        measured.lag.saturating_record(micros(lag));
    }
    measured
}

/// Keeps `clients` requests in flight for `duration`: each client sends its next request as soon
/// as the last one answers.
pub async fn closed_loop<F>(clients: usize, duration: Duration, probe: F) -> Measured
where
    F: Fn() -> Probe + Send + Sync + 'static,
{
    let probe = Arc::new(probe);
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let probe = Arc::clone(&probe);
            tokio::spawn(async move {
                let mut measured = Measured::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let outcome = probe().await;
                    measured.record(sent, outcome);
                }
                measured
            })
        })
        .collect();
    let mut measured = Measured::new();
    for worker in workers {
        match worker.await {
            // Every worker ran for the same wall time; the run's elapsed time is set below.
            Ok(part) => measured.absorb(&part),
            Err(error) => {
                measured.failed += 1;
                measured
                    .first_failure
                    .get_or_insert_with(|| error.to_string());
            }
        }
    }
    measured.elapsed = started.elapsed();
    measured
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answering_after(delay: Duration) -> impl Fn() -> Probe + Send + Sync + 'static {
        move || {
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                Ok(Answer {
                    at: Instant::now(),
                    server_time: None,
                })
            })
        }
    }

    #[tokio::test]
    async fn open_loop_sends_the_scheduled_number_without_waiting_for_answers() {
        // 200 req/s for 0.25 s is 50 requests; each takes 100 ms, far longer than the 5 ms between
        // sends, so a generator that waited for answers could not have sent them all in time.
        let measured = open_loop(
            200.0,
            Duration::from_millis(250),
            answering_after(Duration::from_millis(100)),
        )
        .await;
        assert_eq!((measured.ok, measured.failed), (50, 0));
        assert_eq!(measured.lag.len(), 50);
        assert!(
            measured.latency_us(50.0) >= 100_000,
            "{}",
            measured.latency_us(50.0)
        );
        // Waiting for each answer before the next send would have taken 50 × 100 ms = 5 s.
        assert!(
            measured.elapsed < Duration::from_millis(2_500),
            "{:?}",
            measured.elapsed
        );
    }

    #[tokio::test]
    async fn failures_are_counted_and_the_first_is_kept() {
        let probe = || -> Probe { Box::pin(async { Err(ProbeError::Status(503)) }) };
        let measured = open_loop(100.0, Duration::from_millis(50), probe).await;
        assert_eq!((measured.ok, measured.failed), (0, 5));
        assert_eq!(measured.first_failure.as_deref(), Some("HTTP 503"));
    }

    #[tokio::test]
    async fn closed_loop_keeps_each_client_busy_until_the_deadline() {
        // 4 clients, 20 ms per request, 100 ms: at least one each, at most 6 each.
        let measured = closed_loop(
            4,
            Duration::from_millis(100),
            answering_after(Duration::from_millis(20)),
        )
        .await;
        assert!((4..=24).contains(&measured.ok), "{}", measured.ok);
        assert_eq!(measured.failed, 0);
        assert!(measured.lag.is_empty());
    }
}
