//! `conformance`: checks any OpenAI-compatible endpoint and reports where it deviates.

fn main() -> std::process::ExitCode {
    conformance::cli::main()
}
