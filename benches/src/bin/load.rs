//! `load`: the load benchmark (see `benches::load` and docs/benchmarks.md); run it with
//! `benches/load/run.sh`. With the hidden `--relay-to`, it is instead the TCP relay the benchmark
//! starts as a process of its own.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use benches::load::{
    hostile, limits,
    plan::{Mode, Plan},
    relay::serve_relay,
    run::run,
    soak,
};
use clap::Parser;

fn main() -> ExitCode {
    let args = Plan::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("load: cannot start a runtime: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some(upstream) = args.relay_to {
        return match runtime.block_on(serve_relay(upstream)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("load: relay: {err}");
                ExitCode::from(2)
            }
        };
    }
    let outcome = match &args.mode {
        Some(Mode::Limits(plan)) => runtime.block_on(limits::measure(plan)).map(|found| {
            let rows = limits::rows(&plan.name, plan.urls.len(), &found);
            // Several runs' rows go under one head in --markdown.
            let headed = args.markdown.as_ref().is_some_and(|path| {
                std::fs::read_to_string(path).is_ok_and(|text| text.contains(limits::TABLE_HEAD))
            });
            let table = format!("{}{rows}", limits::TABLE_HEAD);
            let written = if headed { rows } else { table.clone() };
            (table, written, Write::Append)
        }),
        Some(Mode::Hostile(plan)) => match runtime.block_on(hostile::measure(plan)) {
            Ok(outcome) if outcome.failures.is_empty() => {
                Ok((outcome.report.clone(), outcome.report, Write::Replace))
            }
            Ok(outcome) => {
                #[allow(clippy::print_stdout)]
                {
                    println!("{}", outcome.report);
                }
                for failure in &outcome.failures {
                    eprintln!("load hostile: {failure}");
                }
                return ExitCode::FAILURE;
            }
            Err(err) => Err(err.to_string()),
        },
        Some(Mode::Soak(plan)) => match runtime.block_on(soak::measure(plan)) {
            Ok(outcome) if outcome.failures.is_empty() => {
                Ok((outcome.report.clone(), outcome.report, Write::Replace))
            }
            Ok(outcome) => {
                #[allow(clippy::print_stdout)]
                {
                    println!("{}", outcome.report);
                }
                for failure in outcome.failures.iter().take(50) {
                    eprintln!("load soak: {failure}");
                }
                return ExitCode::FAILURE;
            }
            Err(err) => Err(err.to_string()),
        },
        None => runtime
            .block_on(run(&args))
            .map(|report| (report.clone(), report, Write::Replace))
            .map_err(|err| err.to_string()),
    };
    let (shown, written, how) = match outcome {
        Ok(report) => report,
        Err(err) => {
            eprintln!("load: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.markdown
        && let Err(err) = how.write(path, &written)
    {
        eprintln!("load: cannot write {}: {err}", path.display());
        return ExitCode::from(2);
    }
    #[allow(clippy::print_stdout)]
    {
        println!("{shown}");
    }
    ExitCode::SUCCESS
}

/// How the report goes into `--markdown`.
#[derive(Debug, Clone, Copy)]
enum Write {
    /// The file is the report.
    Replace,
    /// The report is added at the file's end.
    Append,
}

impl Write {
    fn write(self, path: &std::path::Path, text: &str) -> std::io::Result<()> {
        match self {
            Write::Replace => std::fs::write(path, text),
            Write::Append => std::io::Write::write_all(
                &mut std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
                text.as_bytes(),
            ),
        }
    }
}
