//! Scenarios as data: the models the mock serves and the scripted replies it gives.
//!
//! A scenario is a JSON document (see `mock-ollama/README.md` for the format and examples). It is
//! plain data: [`Scenario::load`] reads and validates it once, so a broken fixture fails at start-up
//! with the file name and the problem, never at request time.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::{
    exchange::Exchange, fault::Fault, openai::flavor::Flavor, reply::Reply, timing::Timing,
};

/// Everything the mock serves: its models, its scripted rules (first match wins) and its recorded
/// exchanges.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Models listed by `/api/tags` and accepted by the generation endpoints.
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    /// Timing applied to every reply that does not set its own.
    #[serde(default)]
    pub timing: Timing,
    /// Scripted replies, tried in order; the first whose `match` holds answers.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Whose OpenAI dialect `/v1` speaks (overrides the mock's `--flavor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<Flavor>,
    /// The models `/api/pull` can fetch; absent, any well-formed name can be pulled (and arrives
    /// as a completion model with default details).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Vec<ModelSpec>>,
    /// Recorded exchanges, replayed byte for byte before any rule or route is consulted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: cannot read scenario: {source}")]
    Read {
        /// File that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The JSON does not describe a scenario.
    #[error("{origin}: invalid scenario: {source}")]
    Parse {
        /// File name, or `<inline>` for scenarios given as text.
        origin: String,
        /// serde's message, with line and column.
        source: serde_json::Error,
    },
    /// The JSON parsed but says something impossible.
    #[error("{origin}: {problem}")]
    Invalid {
        /// File name, or `<inline>`.
        origin: String,
        /// What is wrong, naming the rule or model.
        problem: String,
    },
}

impl Scenario {
    /// Parses and validates a scenario from JSON text; `origin` names it in errors.
    pub fn from_json(origin: &str, text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario =
            serde_json::from_str(text).map_err(|source| ScenarioError::Parse {
                origin: origin.to_owned(),
                source,
            })?;
        scenario
            .validate()
            .map_err(|problem| ScenarioError::Invalid {
                origin: origin.to_owned(),
                problem,
            })?;
        Ok(scenario)
    }

    fn parse(origin: &str, text: &str) -> Result<Self, ScenarioError> {
        serde_json::from_str(text).map_err(|source| ScenarioError::Parse {
            origin: origin.to_owned(),
            source,
        })
    }

    /// Loads a scenario file, or every `*.json` file of a directory (sorted by name).
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        Self::load_all(&[path])
    }

    /// Loads and merges scenario files and directories in order: models and rules are
    /// concatenated, the last file that sets `timing` wins. Files may use each other's models,
    /// so the merged scenario is validated once at the end.
    pub fn load_all<P: AsRef<Path>>(paths: &[P]) -> Result<Self, ScenarioError> {
        let mut merged = Scenario::default();
        for path in paths {
            for file in scenario_files(path.as_ref())? {
                let text =
                    std::fs::read_to_string(&file).map_err(|source| ScenarioError::Read {
                        path: file.clone(),
                        source,
                    })?;
                merged.merge(Self::parse(&file.display().to_string(), &text)?);
            }
        }
        merged
            .validate()
            .map_err(|problem| ScenarioError::Invalid {
                origin: paths
                    .iter()
                    .map(|path| path.as_ref().display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                problem,
            })?;
        Ok(merged)
    }

    /// Appends another scenario's models and rules to this one.
    pub fn merge(&mut self, other: Scenario) {
        self.models.extend(other.models);
        self.rules.extend(other.rules);
        self.exchanges.extend(other.exchanges);
        if other.timing != Timing::default() {
            self.timing = other.timing;
        }
        if other.flavor.is_some() {
            self.flavor = other.flavor;
        }
        if let Some(registry) = other.registry {
            self.registry.get_or_insert_with(Vec::new).extend(registry);
        }
    }

    /// The built-in scenario served when no fixtures are given: a chat model with tools, a
    /// thinking model, a vision model and an embedding model, and the [`fault_rules`]
    /// (every other request gets a generated reply).
    ///
    /// [`fault_rules`]: Scenario::fault_rules
    pub fn builtin() -> Self {
        let model = |name: &str, family: &str, size: &str, caps: &[Capability]| ModelSpec {
            name: name.to_owned(),
            family: family.to_owned(),
            parameter_size: size.to_owned(),
            capabilities: caps.to_vec(),
            ..ModelSpec::default()
        };
        use Capability::*;
        Scenario {
            models: vec![
                model("llama3.2:latest", "llama", "3.2B", &[Completion, Tools]),
                model(
                    "qwen3:0.6b",
                    "qwen3",
                    "751.63M",
                    &[Completion, Tools, Thinking],
                ),
                model("llava:7b", "llama", "7B", &[Completion, Vision]),
                model(
                    "nomic-embed-text:latest",
                    "nomic-bert",
                    "137M",
                    &[Embedding],
                ),
            ],
            timing: Timing::default(),
            rules: Self::fault_rules(),
            flavor: None,
            registry: None,
            exchanges: Vec::new(),
        }
    }

    /// The rules of `fixtures/scenarios/30-faults.json`: a last user message containing
    /// `[fault:429]`, `[fault:503]`, `[fault:499]`, `[fault:mid-stream-error]`, `[fault:eof]`,
    /// `[fault:malformed]`, `[fault:truncated]`, `[fault:stall]`, `[fault:drip]`,
    /// `[fault:endless-line]` or `[fault:endless-chunks]` gets that fault, so a gateway's error paths can be driven by prompts alone (the conformance runner's
    /// `--mock-faults`).
    pub fn fault_rules() -> Vec<Rule> {
        const ORIGIN: &str = "fixtures/scenarios/30-faults.json";
        // Checked by a test: the committed file always parses.
        Self::from_json(
            ORIGIN,
            include_str!("../../fixtures/scenarios/30-faults.json"),
        )
        .map(|faults| faults.rules)
        .unwrap_or_default()
    }

    /// Finds a model by the name a client sent: case-insensitive, `name` ≡ `name:latest`.
    pub fn model(&self, requested: &str) -> Option<&ModelSpec> {
        let wanted = canonical_model_name(requested);
        self.models
            .iter()
            .find(|model| canonical_model_name(&model.name) == wanted)
    }

    /// Checks what serde cannot: unique rule names, known models, one status per rule, …
    pub fn validate(&self) -> Result<(), String> {
        for model in &self.models {
            if model.name.trim().is_empty() {
                return Err("a model has an empty name".to_owned());
            }
        }
        for (index, exchange) in self.exchanges.iter().enumerate() {
            exchange.validate().map_err(|problem| {
                let name = exchange
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("exchange-{index}"));
                format!("exchange {name:?}: {problem}")
            })?;
        }
        let mut names = std::collections::HashSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let name = rule.display_name(index);
            if !names.insert(name.clone()) {
                return Err(format!("rule name {name:?} is used twice"));
            }
            if rule.when.nth == Some(0) {
                return Err(format!("rule {name:?}: match.nth counts from 1"));
            }
            // A pull or create names a model the scenario may not list yet.
            let installs = matches!(rule.when.endpoint, Some(Endpoint::Pull | Endpoint::Create));
            if let Some(model) = &rule.when.model
                && !installs
                && self.model(model).is_none()
            {
                return Err(format!(
                    "rule {name:?} matches model {model:?}, which the scenario does not list"
                ));
            }
            if !rule.reply.text.is_empty() && !rule.reply.chunks.is_empty() {
                return Err(format!(
                    "rule {name:?}: reply has both `text` and `chunks`; use one"
                ));
            }
            for fault in &rule.faults {
                fault
                    .validate()
                    .map_err(|problem| format!("rule {name:?}: {problem}"))?;
            }
            if rule.faults.iter().filter(|f| f.is_pre_stream()).count() > 1 {
                return Err(format!(
                    "rule {name:?}: more than one http_error fault; a response has one status"
                ));
            }
        }
        Ok(())
    }
}

fn scenario_files(path: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path).map_err(|source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|file| file.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    Ok(files)
}

pub use wire::ollama::canonical_model_name;

/// What a model can do; decides which requests Ollama accepts for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// Text generation (chat and generate).
    Completion,
    /// Tool calling.
    Tools,
    /// Reasoning output (`think`).
    Thinking,
    /// Image inputs.
    Vision,
    /// Embeddings only.
    Embedding,
    /// Fill-in-the-middle (`suffix`).
    Insert,
}

impl Capability {
    /// The name Ollama uses in `/api/show`.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Completion => "completion",
            Capability::Tools => "tools",
            Capability::Thinking => "thinking",
            Capability::Vision => "vision",
            Capability::Embedding => "embedding",
            Capability::Insert => "insert",
        }
    }
}

/// A model the mock pretends to have installed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSpec {
    /// `name:tag` as `/api/tags` lists it.
    pub name: String,
    /// Architecture family, e.g. `llama`.
    pub family: String,
    /// e.g. `3.2B`.
    pub parameter_size: String,
    /// e.g. `Q4_K_M`.
    pub quantization_level: String,
    /// What requests the model accepts.
    pub capabilities: Vec<Capability>,
    /// Context window reported by `/api/show` and `/api/ps`.
    pub context_length: u64,
    /// Vector size of `/api/embed` replies.
    pub embedding_length: usize,
    /// Bytes on disk.
    pub size: u64,
    /// RFC 3339 with an offset, as Ollama reports local times.
    pub modified_at: String,
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self {
            name: String::new(),
            family: "llama".to_owned(),
            parameter_size: "3.2B".to_owned(),
            quantization_level: "Q4_K_M".to_owned(),
            capabilities: vec![Capability::Completion],
            context_length: 4096,
            embedding_length: 768,
            size: 2_019_393_189,
            modified_at: "2026-05-04T17:37:44.706015396-07:00".to_owned(),
        }
    }
}

impl ModelSpec {
    /// True when the model declares the capability.
    pub fn can(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// A stable fake sha256 digest (64 hex digits) derived from the name.
    pub fn digest(&self) -> String {
        (0u64..4)
            .map(|salt| {
                format!(
                    "{:016x}",
                    crate::seed::hash_parts(&[&self.name, &salt.to_string()])
                )
            })
            .collect()
    }
}

/// A scripted reply and the requests it answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Name used in the journal and in expectation reports; defaults to `rule-<position>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Conditions on the request; all must hold.
    #[serde(rename = "match", default)]
    pub when: Match,
    /// What to stream back.
    #[serde(default)]
    pub reply: Reply,
    /// Overrides the scenario's timing for this reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Misbehaviour to inject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
    /// How many times this rule must answer, checked by `verify` (wiremock-style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<u64>,
}

impl Rule {
    /// The rule's name, or `rule-<index>` when it has none.
    pub fn display_name(&self, index: usize) -> String {
        self.name.clone().unwrap_or_else(|| format!("rule-{index}"))
    }
}

/// Conditions a request must meet for a rule to answer it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Model name (case-insensitive, `:latest` implied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `chat`, `generate`, `pull`, `push` or `create`; absent: `chat` and `generate` (a rule
    /// for a transfer must name its endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
    /// Substring of the last user message (the prompt, for generate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_user_contains: Option<String>,
    /// Regex searched in the last user message.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "regex_serde")]
    pub last_user_regex: Option<Regex>,
    /// Role of the last message (`user`, `tool`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_role: Option<String>,
    /// Whether the request offers tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_tools: Option<bool>,
    /// Answer only the n-th request (from 1) that meets the other conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
}

/// An endpoint rules can answer: generation, or a model transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    /// `POST /api/chat` (and `/v1/chat/completions`).
    Chat,
    /// `POST /api/generate` (and `/v1/completions`).
    Generate,
    /// `POST /api/pull`.
    Pull,
    /// `POST /api/push`.
    Push,
    /// `POST /api/create`.
    Create,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::Chat => "/api/chat",
            Endpoint::Generate => "/api/generate",
            Endpoint::Pull => "/api/pull",
            Endpoint::Push => "/api/push",
            Endpoint::Create => "/api/create",
        })
    }
}

mod regex_serde {
    use regex::Regex;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(regex: &Option<Regex>, s: S) -> Result<S::Ok, S::Error> {
        match regex {
            Some(regex) => s.serialize_str(regex.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Regex>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|pattern| Regex::new(&pattern).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_lookup_is_case_insensitive_and_defaults_to_latest() {
        let scenario = Scenario::builtin();
        assert!(scenario.model("LLAMA3.2").is_some());
        assert!(scenario.model("llama3.2:latest").is_some());
        assert!(scenario.model("qwen3").is_none());
        assert!(scenario.model("Qwen3:0.6B").is_some());
    }

    #[test]
    fn the_builtin_scenario_answers_every_fault_prompt() {
        let names: Vec<String> = Scenario::builtin()
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| rule.display_name(index))
            .collect();
        assert_eq!(
            names,
            [
                "fault-429",
                "fault-503-busy",
                "fault-499-canceled",
                "fault-error-mid-stream",
                "fault-eof",
                "fault-malformed",
                "fault-truncated",
                "fault-stall",
                "fault-drip",
                "fault-endless-line",
                "fault-endless-chunks"
            ]
        );
    }

    #[test]
    fn broken_regex_names_the_origin() {
        let err = Scenario::from_json(
            "broken.json",
            r#"{"rules":[{"match":{"last_user_regex":"("}}]}"#,
        )
        .expect_err("invalid regex");
        let text = err.to_string();
        assert!(text.starts_with("broken.json: invalid scenario:"), "{text}");
        assert!(text.contains("regex"), "{text}");
    }

    #[test]
    fn rule_for_unknown_model_is_rejected() {
        let err = Scenario::from_json(
            "f.json",
            r#"{"models":[{"name":"a"}],"rules":[{"name":"r","match":{"model":"b"}}]}"#,
        )
        .expect_err("unknown model");
        assert_eq!(
            err.to_string(),
            r#"f.json: rule "r" matches model "b", which the scenario does not list"#
        );
    }

    #[test]
    fn unknown_keys_are_rejected_so_typos_surface() {
        let err = Scenario::from_json("t.json", r#"{"rules":[{"replly":{}}]}"#).expect_err("typo");
        assert!(err.to_string().contains("unknown field `replly`"), "{err}");
    }
}
