//! The `load` binary end to end, at a toy scale: it starts mock-ollama, its own TCP relay and the
//! gateway as processes, loads them, holds streams open, stops them all, and reports. This checks
//! that the benchmark runs and that its report is whole, not what the numbers are.
//!
//! It needs the mock-ollama and gateway executables beside `load` (the test command builds the
//! whole workspace first).

use std::{path::Path, process::Command};

/// The report of `load` run with `args` at a toy scale (one round of one second, two clients,
/// 50 req/s, 20 streams/s), against the servers built beside it; it must exit 0.
fn report_of(args: &[&str]) -> String {
    let toy_scale = ["--rounds", "1", "--seconds", "1", "--clients", "2"];
    let rates = ["--rate", "50", "--stream-rate", "20"];
    output_of(&[&toy_scale[..], &rates, args].concat())
}

/// What `load args… --bin-dir <beside it>` prints; it must exit 0.
fn output_of(args: &[&str]) -> String {
    let load = Path::new(env!("CARGO_BIN_EXE_load"));
    let bin_dir = load
        .parent()
        .unwrap_or_else(|| panic!("{} has a folder", load.display()));
    for server in ["mock-ollama", "gateway"] {
        assert!(
            bin_dir.join(server).exists(),
            "{server} is not built beside load; run `cargo build --workspace` first"
        );
    }
    let output = Command::new(load)
        .args(args)
        .arg("--bin-dir")
        .arg(bin_dir)
        .output()
        .unwrap_or_else(|err| panic!("load runs: {err}"));
    assert!(
        output.status.success(),
        "exit {:?}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Fails naming the first of `parts` that `report` lacks.
fn assert_has_every(report: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            report.contains(part),
            "the report lacks {part:?}:\n{report}"
        );
    }
}

#[test]
fn a_small_run_reports_every_part_with_no_failures() {
    let report = report_of(&[
        "--open-streams",
        "40",
        "--open-rate",
        "400",
        "--hold-seconds",
        "4",
    ]);
    assert_has_every(
        &report,
        &[
            "- date: ",
            "## Non-stream requests",
            "| direct to mock | open loop, 50 req/s | 50 | 0 |",
            "| mock through a TCP relay | open loop, 50 req/s | 50 | 0 |",
            "| gateway | open loop, 50 req/s | 50 | 0 |",
            "| gateway | open loop, 20 streams/s | 20 | 0 |",
            "## What one more hop costs here",
            "## 40 streams held open through the gateway",
            "opened 40 of 40",
            "40 ended properly, 0 failed",
            "| failed requests, all of the above | 0  | ≤ 0  | yes |",
            "| streams that failed or never opened | 0  | ≤ 0  | yes |",
            "## What keys and limits cost",
            "| without `[auth]` |",
            "| key + limits in memory |",
            "failed requests: 0",
        ],
    );
}

#[test]
fn the_keys_part_measures_limits_in_redis_beside_memory() {
    // CI installs redis-server; the part runs without it too, leaving that variant out.
    let has_redis = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok();
    let report = report_of(&["--only", "keys"]);
    let expected = if has_redis {
        "| key + limits in Redis |"
    } else {
        "the Redis variant is left out"
    };
    assert_has_every(
        &report,
        &[
            "## What keys and limits cost",
            expected,
            "failed requests: 0",
        ],
    );
    assert!(!report.contains("## Non-stream requests"), "{report}");
}

#[test]
fn an_openai_upstream_run_relays_the_mocks_openai_layer_with_no_failures() {
    let report = report_of(&["--upstream", "openai", "--only", "requests"]);
    assert_has_every(
        &report,
        &[
            "- upstream: mock-ollama's OpenAI layer",
            "| direct to mock | open loop, 50 req/s | 50 | 0 |",
            "| gateway | open loop, 50 req/s | 50 | 0 |",
            "| gateway | open loop, 20 streams/s | 20 | 0 |",
            "## CPU per request and per chunk",
            "| failed requests, all of the above | 0  | ≤ 0  | yes |",
        ],
    );
}

#[test]
fn upstreams_that_never_end_get_well_formed_answers_and_leave_the_gateway_small() {
    // `load hostile` exits 1 when an answer is not the expected one or the peak RSS passes
    // --max-rss-mib; with a 1 MiB body limit the bound is far below the default 200 MiB.
    let report = output_of(&[
        "hostile",
        "--requests",
        "3",
        "--concurrency",
        "3",
        "--total-ms",
        "600",
        "--max-body-bytes",
        "1048576",
        "--max-rss-mib",
        "64",
    ]);
    let rows: Vec<&str> = report
        .lines()
        .filter(|line| line.starts_with("| Ollama") || line.starts_with("| Openai"))
        .collect();
    assert_eq!(rows.len(), 10, "{report}");
    for row in rows {
        assert!(row.contains("| 3 of 3 |"), "{row}");
    }
}

#[test]
fn a_short_soak_loses_no_event_and_leaves_the_gateway_flat() {
    // `load soak` exits 1 on a malformed answer, one that disagrees with the mock's journal (an
    // event lost or repeated, a second upstream request, a hang-up that did not reach the
    // upstream), an ordinary request failing while the upstream was up, or growth after the
    // warm-up.
    let report = output_of(&[
        "soak",
        "--seconds",
        "12",
        "--restart-every-seconds",
        "4",
        "--concurrency",
        "4",
        "--rate",
        "40",
    ]);
    assert_has_every(
        &report,
        &[
            "### Soak",
            "the upstream killed and restarted 2 times",
            "| Whole |",
            "| Stream |",
            "| SlowStream |",
            "| RateLimited |",
            "| Overloaded |",
            "| BrokenStream |",
            "| HangUp |",
            "At rest, before and after:",
        ],
    );
}
