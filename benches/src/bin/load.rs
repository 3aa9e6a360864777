//! `load`: the load benchmark (see `benches::load` and docs/benchmarks.md); run it with
//! `benches/load/run.sh`. With the hidden `--relay-to`, it is instead the TCP relay the benchmark
//! starts as a process of its own.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use benches::load::{
    limits,
    plan::{Mode, Plan},
    relay::serve_relay,
    run::run,
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
    if let Some(Mode::Limits(plan)) = &args.mode {
        return match runtime.block_on(limits::measure(plan)) {
            Ok(found) => {
                let rows = limits::rows(&plan.name, plan.urls.len(), &found);
                let table = format!("{}{rows}", limits::TABLE_HEAD);
                if let Some(path) = &args.markdown {
                    // Rows of several runs go under one head.
                    let headed = std::fs::read_to_string(path)
                        .is_ok_and(|text| text.contains(limits::TABLE_HEAD));
                    let text = if headed { rows } else { table.clone() };
                    let appended = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
                    if let Err(err) = appended {
                        eprintln!("load: cannot write {}: {err}", path.display());
                        return ExitCode::from(2);
                    }
                }
                #[allow(clippy::print_stdout)]
                {
                    println!("{table}");
                }
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("load: {err}");
                ExitCode::from(2)
            }
        };
    }
    match runtime.block_on(run(&args)) {
        Ok(report) => {
            if let Some(path) = &args.markdown
                && let Err(err) = std::fs::write(path, &report)
            {
                eprintln!("load: cannot write {}: {err}", path.display());
                return ExitCode::from(2);
            }
            #[allow(clippy::print_stdout)]
            {
                println!("{report}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("load: {err}");
            ExitCode::from(2)
        }
    }
}
