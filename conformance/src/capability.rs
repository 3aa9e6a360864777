//! Model-capability probes, apart from the protocol checks: whether the *model* behind the
//! endpoint makes a forced tool call, follows a JSON schema, and stops at a stop sequence. Real
//! models are not deterministic, so each probe is repeated and scored pass (every attempt), flaky
//! (some), fail (none) or unsupported (the server refuses the feature with a 4xx). These scores
//! are reported; they do not change the run's exit status.

use serde::Serialize;
use serde_json::{Value, json};

use crate::exchange::{Body, ProbeRequest, Target, send};

/// How a capability fared over the attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Score {
    /// Every attempt succeeded.
    Pass,
    /// Some attempts succeeded.
    Flaky,
    /// No attempt succeeded.
    Fail,
    /// The server refused the feature (4xx).
    Unsupported,
}

/// One capability's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapabilityResult {
    /// `forced_tool_call`, `structured_output` or `stop_adherence`.
    pub name: &'static str,
    /// What success means.
    pub description: &'static str,
    /// The score.
    pub score: Score,
    /// Successful attempts.
    pub successes: usize,
    /// Attempts made.
    pub attempts: usize,
    /// The first failing attempt's reply, or the refusal.
    pub evidence: String,
}

/// Scores `successes` out of `attempts`; a refusal wins over everything.
pub fn score(successes: usize, attempts: usize, refused: bool) -> Score {
    match (refused, successes) {
        (true, _) => Score::Unsupported,
        (false, 0) => Score::Fail,
        (false, n) if n == attempts => Score::Pass,
        _ => Score::Flaky,
    }
}

struct Probe {
    name: &'static str,
    description: &'static str,
    body: fn(&str) -> Value,
    succeeded: fn(&Value) -> bool,
}

const PROBES: &[Probe] = &[
    Probe {
        name: "forced_tool_call",
        description: "with tool_choice naming get_weather, the reply calls it with a string city",
        body: |model| {
            json!({"model": model, "max_tokens": 128, "temperature": 0,
            "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
                "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}}})
        },
        succeeded: |reply| {
            let call = &reply["choices"][0]["message"]["tool_calls"][0]["function"];
            call["name"] == "get_weather"
                && call["arguments"]
                    .as_str()
                    .and_then(|a| serde_json::from_str::<Value>(a).ok())
                    .is_some_and(|a| a["city"].is_string())
        },
    },
    Probe {
        name: "structured_output",
        description: "with a strict json_schema response_format, the content is exactly {city, country} strings",
        body: |model| {
            json!({"model": model, "max_tokens": 128, "temperature": 0,
            "messages": [{"role": "user", "content": "Give the capital of France as JSON with the keys city and country."}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "capital", "strict": true, "schema": {
                "type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                "required": ["city", "country"], "additionalProperties": false}}}})
        },
        succeeded: |reply| {
            reply["choices"][0]["message"]["content"]
                .as_str()
                .and_then(|c| serde_json::from_str::<Value>(c).ok())
                .and_then(|v| v.as_object().cloned())
                .is_some_and(|o| {
                    o.len() == 2
                        && o.get("city").is_some_and(Value::is_string)
                        && o.get("country").is_some_and(Value::is_string)
                })
        },
    },
    Probe {
        name: "stop_adherence",
        description: "with stop [\"5\"], counting to 10 stops before 5 with finish_reason stop",
        body: |model| {
            json!({"model": model, "max_tokens": 64, "temperature": 0, "stop": ["5"],
            "messages": [{"role": "user", "content": "Count from 1 to 10, separated by spaces."}]})
        },
        succeeded: |reply| {
            let choice = &reply["choices"][0];
            choice["finish_reason"] == "stop"
                && choice["message"]["content"]
                    .as_str()
                    .is_some_and(|c| !c.contains('5'))
        },
    },
];

/// Runs every capability probe `repeats` times.
pub async fn probe(
    client: &reqwest::Client,
    target: &Target,
    repeats: usize,
) -> Vec<CapabilityResult> {
    if repeats == 0 {
        return Vec::new();
    }
    let mut results = Vec::new();
    for probe in PROBES {
        let mut successes = 0;
        let mut refused = false;
        let mut evidence = String::new();
        for _ in 0..repeats {
            let body = Body::Json((probe.body)(&target.model));
            let exchange = send(
                client,
                target,
                ProbeRequest::post("capability", "/chat/completions", body),
            )
            .await;
            if exchange.status.is_some_and(|s| (400..500).contains(&s)) {
                refused = true;
                evidence = exchange.summary();
                break;
            }
            let ok = exchange.is_success()
                && exchange
                    .json()
                    .is_some_and(|reply| (probe.succeeded)(&reply));
            if ok {
                successes += 1;
            } else if evidence.is_empty() {
                evidence = exchange.summary();
            }
        }
        let attempts = if refused { successes + 1 } else { repeats };
        results.push(CapabilityResult {
            name: probe.name,
            description: probe.description,
            score: score(successes, attempts, refused),
            successes,
            attempts,
            evidence,
        });
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        assert_eq!(score(3, 3, false), Score::Pass);
        assert_eq!(score(1, 3, false), Score::Flaky);
        assert_eq!(score(0, 3, false), Score::Fail);
        assert_eq!(score(0, 1, true), Score::Unsupported);
    }
}
