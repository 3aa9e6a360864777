//! `mock-ollama`: the mock as a standalone server for offline development and CI.

fn main() -> std::process::ExitCode {
    mock_ollama::cli::main()
}
