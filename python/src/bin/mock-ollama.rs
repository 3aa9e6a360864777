//! `mock-ollama`, as the wheel installs it.

fn main() -> std::process::ExitCode {
    mock_ollama::cli::main()
}
