//! What every part of the load benchmark starts from: the servers under test started in their
//! own processes (the gateway, crabllm, LiteLLM) with their configurations, the HTTP client,
//! the closed loop that counts a process's CPU time, progress lines, and why a run failed.
//! The parts (`run.rs`'s and `keys.rs`'s) import from here, never from each other.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use super::{
    answer::Probe,
    generator::{Measured, closed_loop},
    plan::{Plan, Upstream},
    process::{Server, cpu_time, free_port},
    scenario::MODEL,
};

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Start(#[from] super::process::StartError),
    #[error("{0}")]
    Setup(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// A working directory of this process's own for a part's scenario and configuration files,
/// removed when dropped.
#[derive(Debug)]
pub(crate) struct WorkDir(PathBuf);

impl WorkDir {
    /// Creates `llm-gateway-{part}-{pid}` in the temporary directory.
    pub(crate) fn create(part: &str) -> Result<WorkDir, LoadError> {
        let path = std::env::temp_dir().join(format!("llm-gateway-{part}-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(WorkDir(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The gateway's configuration: one backend, the mock at `mock_url` in the dialect `--upstream`
/// names, with room for every held stream besides the closed-loop load (the bound is the
/// gateway's protection, not what is measured).
pub(crate) fn gateway_config(plan: &Plan, mock_url: &str) -> String {
    format!(
        "[server]\nmax_concurrent_requests = {}\n\n[[backends]]\nname = \"mock\"\nkind = \"{}\"\nbase_url = \"{}\"\n",
        plan.open_streams + 4_096,
        match plan.upstream {
            Upstream::Ollama => "ollama",
            Upstream::Openai => "openai",
        },
        upstream_base(plan, mock_url),
    )
}

/// Where the servers' executables are: `--bin-dir`, else beside this one.
pub(crate) fn bin_dir(given: Option<&Path>) -> Result<PathBuf, LoadError> {
    match given {
        Some(dir) => Ok(dir.to_owned()),
        None => std::env::current_exe()?
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| LoadError::Setup("cannot tell where this executable is".into())),
    }
}

/// The gateway with the configuration file `config`, `worker_threads` (its
/// `TOKIO_WORKER_THREADS`; one per CPU when `None`), and `env` besides.
pub(crate) fn start_gateway(
    worker_threads: Option<u16>,
    bin_dir: &Path,
    config: &Path,
    env: &[(&str, &str)],
) -> Result<Server, LoadError> {
    let worker_threads = worker_threads.map(|n| n.to_string());
    let mut gateway_env = vec![("RUST_LOG", "warn,gateway=info")];
    if let Some(threads) = &worker_threads {
        gateway_env.push(("TOKIO_WORKER_THREADS", threads));
    }
    gateway_env.extend_from_slice(env);
    Ok(Server::start(
        "gateway",
        &bin_dir.join("gateway"),
        &[
            "--config",
            &config.to_string_lossy(),
            "--listen",
            "127.0.0.1:0",
        ],
        &gateway_env,
        Duration::from_secs(30),
    )?)
}

pub(crate) fn http1_client() -> Result<reqwest::Client, LoadError> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(usize::MAX)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|err| LoadError::Setup(format!("HTTP client: {err}")))
}

pub(crate) fn progress(what: &str) {
    eprintln!("==> {what}");
}

/// A closed loop of `--clients` running `probe` for `--seconds`, with the CPU time process
/// `pid` spent meanwhile.
pub(crate) async fn counting_cpu<F>(plan: &Plan, what: &str, pid: u32, probe: F) -> Measured
where
    F: Fn() -> Probe + Clone + Send + Sync + 'static,
{
    progress(&format!(
        "{what}: closed loop, {} clients, {} s",
        plan.clients, plan.seconds
    ));
    let before = cpu_time(pid);
    let mut measured = closed_loop(plan.clients, Duration::from_secs(plan.seconds), probe).await;
    measured.cpu = before
        .zip(cpu_time(pid))
        .map(|(before, after)| after.saturating_sub(before));
    measured
}

/// The base URL of the mock's API the servers under test relay to.
fn upstream_base(plan: &Plan, mock_url: &str) -> String {
    match plan.upstream {
        Upstream::Ollama => mock_url.to_owned(),
        Upstream::Openai => format!("{mock_url}/v1"),
    }
}

/// crabllm relaying to the mock's OpenAI layer, on a free loopback port, key `sk-load`.
pub(crate) fn start_crabllm(
    program: &Path,
    mock_url: &str,
    work: &Path,
) -> Result<Server, LoadError> {
    let config = work.join("crabllm.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{}\"\nadmin_token = \"sk-admin-load\"\n\n[[keys]]\nname = \"load\"\nkey = \"sk-load\"\nmodels = [\"*\"]\n\n[providers.mock]\nkind = \"openai\"\napi_key = \"sk-upstream\"\nbase_url = \"{mock_url}/v1\"\nmodels = [\"{MODEL}\"]\n",
            free_port()?
        ),
    )?;
    progress("crabllm: starting");
    Ok(Server::start(
        "crabllm",
        program,
        &["serve", "--config", &config.to_string_lossy()],
        &[("RUST_LOG", "warn,crabllm=info")],
        Duration::from_secs(30),
    )?)
}

/// LiteLLM's proxy routed to the mock (its native API or its OpenAI layer, as `--upstream`
/// says), on a free loopback port.
pub(crate) fn start_litellm(
    plan: &Plan,
    program: &Path,
    mock_url: &str,
    work: &Path,
) -> Result<Server, LoadError> {
    let port = free_port()?;
    let provider = match plan.upstream {
        Upstream::Ollama => format!("model: ollama_chat/{MODEL}\n      api_base: {mock_url}"),
        Upstream::Openai => format!(
            "model: openai/{MODEL}\n      api_base: {mock_url}/v1\n      api_key: sk-upstream"
        ),
    };
    let config = work.join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: {MODEL}\n    litellm_params:\n      {provider}\n\
             litellm_settings:\n  telemetry: false\n  drop_params: true\n  request_timeout: 60\n\
             general_settings:\n  master_key: sk-load\n"
        ),
    )?;
    progress("LiteLLM: starting (this takes a while)");
    Ok(Server::start(
        "LiteLLM",
        program,
        &[
            "--config",
            &config.to_string_lossy(),
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--num_workers",
            &plan.litellm_workers.to_string(),
        ],
        &[],
        Duration::from_secs(300),
    )?)
}
