//! The servers under load, each in its own process so that the load generator never shares a
//! runtime or a core scheduler with them and their memory is their own: started on
//! loopback, found by the `listening on http://…` line they log, stopped on drop.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The executable is missing or cannot be run.
    #[error(
        "cannot run {path}: {source} (build it first: cargo build --release --workspace --bins)"
    )]
    Spawn {
        /// The executable.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// It exited, or never logged its address, within the deadline.
    #[error(
        "{name} did not report `listening on http://…` within {seconds} s; its last log lines:\n{log}"
    )]
    NoAddress {
        /// The server.
        name: String,
        /// The deadline.
        seconds: u64,
        /// What it logged.
        log: String,
    },
    /// No free loopback port could be found for a server that must be given one.
    #[error("no free loopback port: {0}")]
    NoPort(std::io::Error),
    /// A server that says nothing of its address never accepted a connection at the one it
    /// was given.
    #[error("{name} did not accept connections at {address} within {seconds} s{exited}")]
    NotListening {
        /// The server.
        name: String,
        /// Where it was to listen.
        address: String,
        /// The deadline.
        seconds: u64,
        /// `; it exited with …` when it did.
        exited: String,
    },
}

/// A server process; killed when dropped.
#[derive(Debug)]
pub struct Server {
    url: String,
    child: Child,
}

impl Server {
    /// Runs `program args…` with `env`, and waits up to `deadline` for it to log where it listens.
    /// Its log is drained in the background, so a chatty server never blocks on a full pipe.
    pub fn start(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        deadline: Duration,
    ) -> Result<Self, StartError> {
        let mut child = spawn(program, args, env, Stdio::piped)?;
        let (lines, found) = mpsc::channel::<String>();
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
        }
        drop(lines);
        let mut log = Vec::new();
        let started = std::time::Instant::now();
        while let Some(left) = deadline.checked_sub(started.elapsed()) {
            match found.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = listening_url(&line) {
                        // Keep draining: the threads above end with the process.
                        std::thread::spawn(move || while found.recv().is_ok() {});
                        return Ok(Self { url, child });
                    }
                    log.push(line);
                }
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let tail = log.len().saturating_sub(20);
        Err(StartError::NoAddress {
            name: name.to_owned(),
            seconds: deadline.as_secs(),
            log: log[tail..].join("\n"),
        })
    }

    /// Runs `program args…`, told by `args` to listen at `url` (`scheme://host:port`), and waits
    /// up to `deadline` for a connection there to succeed; for servers, like `redis-server`,
    /// whose log line is not [`Server::start`]'s. Its output is discarded.
    pub fn start_at(
        name: &str,
        program: &Path,
        args: &[&str],
        url: &str,
        deadline: Duration,
    ) -> Result<Self, StartError> {
        let mut child = spawn(program, args, &[], Stdio::null)?;
        let address = url.split_once("://").map_or(url, |(_, address)| address);
        let started = std::time::Instant::now();
        let mut exited = String::new();
        while started.elapsed() < deadline {
            if std::net::TcpStream::connect(address).is_ok() {
                return Ok(Self {
                    url: url.to_owned(),
                    child,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                exited = format!("; it exited with {status}");
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(StartError::NotListening {
            name: name.to_owned(),
            address: address.to_owned(),
            seconds: deadline.as_secs(),
            exited,
        })
    }

    /// Where it listens: `http://127.0.0.1:<port>`, or the URL given to [`Server::start_at`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its memory and open descriptors now, from `/proc` (Linux only).
    pub fn usage(&self) -> Option<Usage> {
        Usage::of(self.pid())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `redis-server` (`program`) on a free loopback port, without persistence, at
/// `redis://127.0.0.1:<port>`; stopped when dropped.
pub fn start_redis(program: &Path) -> Result<Server, StartError> {
    let port = free_port().map_err(StartError::NoPort)?.to_string();
    Server::start_at(
        "redis-server",
        program,
        &[
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        &format!("redis://127.0.0.1:{port}"),
        Duration::from_secs(10),
    )
}

/// A free loopback port, for servers that do not say which one they took.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Runs `program args…` with `env` besides this process's, no stdin, and its stdout and stderr
/// as `output` makes them.
fn spawn(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    output: fn() -> Stdio,
) -> Result<Child, StartError> {
    Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output())
        .spawn()
        .map_err(|source| StartError::Spawn {
            path: program.to_owned(),
            source,
        })
}

/// The CPU time (user and system, all threads) process `pid` has used so far, from
/// `/proc/<pid>/stat` (in clock ticks of 1/100 s, Linux's `USER_HZ`).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its `)` are plain.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// A process's resident memory and open file descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Resident set size now (`VmRSS`), bytes.
    pub rss: u64,
    /// Peak resident set size (`VmHWM`), bytes.
    pub peak_rss: u64,
    /// Open file descriptors (sockets included).
    pub fds: usize,
}

impl Usage {
    /// Reads `/proc/<pid>/status` and `/proc/<pid>/fd`.
    pub fn of(pid: u32) -> Option<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
        Some(Self {
            rss: status_kib(&status, "VmRSS:")? * 1024,
            peak_rss: status_kib(&status, "VmHWM:")? * 1024,
            fds,
        })
    }
}

/// `line` without its ANSI colour sequences (`ESC [ … m`).
fn strip_ansi(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// A `Key:   1234 kB` line of `/proc/<pid>/status`, in KiB.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The URL in a `… listening on http://host:port …` log line (ours, ANSI colours and all), in
/// uvicorn's `Uvicorn running on http://host:port` (LiteLLM's), or in crabllm's
/// `crabllm listening addr=host:port` (a port of its own choosing is not reported: give it one).
fn listening_url(line: &str) -> Option<String> {
    let plain: String = strip_ansi(line);
    if let Some(at) = plain.find("crabllm listening addr=") {
        let addr: String = plain[at + "crabllm listening addr=".len()..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        return Some(format!("http://{addr}"));
    }
    let at = ["listening on http://", "running on http://"]
        .iter()
        .find_map(|marker| {
            line.find(marker)
                .map(|at| at + marker.len() - "http://".len())
        })?;
    let url: String = line[at..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\u{1b}' && *c != '"')
        .collect();
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_read_from_either_binarys_log_line() {
        let gateway = "2026-11-25T19:00:00Z  INFO gateway: gateway listening on http://127.0.0.1:41234 backends=[\"mock\"]";
        assert_eq!(
            listening_url(gateway).as_deref(),
            Some("http://127.0.0.1:41234")
        );
        let coloured =
            "\u{1b}[32m INFO\u{1b}[0m mock-ollama listening on http://127.0.0.1:5\u{1b}[0m";
        assert_eq!(
            listening_url(coloured).as_deref(),
            Some("http://127.0.0.1:5")
        );
        let uvicorn = "INFO:     Uvicorn running on http://127.0.0.1:4000 (Press CTRL+C to quit)";
        assert_eq!(
            listening_url(uvicorn).as_deref(),
            Some("http://127.0.0.1:4000")
        );
        let crabllm = "\u{1b}[2m2026-11-29T06:35:17Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m crabllm listening \u{1b}[3maddr\u{1b}[0m\u{1b}[2m=\u{1b}[0m127.0.0.1:18555 \u{1b}[3mmodels\u{1b}[0m=1";
        assert_eq!(
            listening_url(crabllm).as_deref(),
            Some("http://127.0.0.1:18555")
        );
        assert_eq!(listening_url("Application startup complete."), None);
    }

    #[test]
    fn status_lines_are_read_in_kib() {
        let status = "Name:\tgateway\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(10240));
        assert_eq!(status_kib(status, "VmHWM:"), Some(20480));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn this_process_has_a_usage() {
        let usage = Usage::of(std::process::id()).unwrap_or_else(|| panic!("/proc is readable"));
        assert!(
            usage.rss > 0 && usage.peak_rss >= usage.rss && usage.fds >= 3,
            "{usage:?}"
        );
    }
}
