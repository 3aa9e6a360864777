//! `load`: the load benchmark (see `benches::load` and docs/benchmarks.md); run it with
//! `benches/load/run.sh`. With the hidden `--relay-to`, it is instead the TCP relay the benchmark
//! starts as a process of its own.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use benches::load::{
    hostile, limits,
    plan::{Mode, Plan},
    relay::serve_relay,
    report::Judged,
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
        Some(Mode::Hostile(plan)) => {
            match judged("hostile", runtime.block_on(hostile::measure(plan))) {
                Some(outcome) => outcome,
                None => return ExitCode::FAILURE,
            }
        }
        Some(Mode::Soak(plan)) => match judged("soak", runtime.block_on(soak::measure(plan))) {
            Some(outcome) => outcome,
            None => return ExitCode::FAILURE,
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

/// A judged part's report to show and write, an error when it could not run, or `None` when it
/// ran and failed: then the report and the first failures have been printed here.
fn judged(
    part: &str,
    outcome: Result<Judged, impl std::fmt::Display>,
) -> Option<Result<(String, String, Write), String>> {
    match outcome {
        Ok(judged) if judged.failures.is_empty() => {
            Some(Ok((judged.report.clone(), judged.report, Write::Replace)))
        }
        Ok(judged) => {
            #[allow(clippy::print_stdout)]
            {
                println!("{}", judged.report);
            }
            for failure in judged.failures.iter().take(50) {
                eprintln!("load {part}: {failure}");
            }
            if judged.failures.len() > 50 {
                eprintln!("load {part}: … and {} more", judged.failures.len() - 50);
            }
            None
        }
        Err(err) => Some(Err(err.to_string())),
    }
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
