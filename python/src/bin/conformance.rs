//! `conformance`, as the wheel installs it.

fn main() -> std::process::ExitCode {
    conformance::cli::main()
}
