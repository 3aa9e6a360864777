//! `mock-ollama`: the mock as a standalone server for offline development and CI.

// Replies allocate and free many small JSON values, often on another worker thread than the one
// that made them (a stored response replaced by the next); mimalloc's thread-local free lists
// cost far less there than glibc's arenas (mock-ollama/README.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mock_ollama::cli::main()
}
