//! Which rule answers a request: every condition of a rule's `match` must hold; the first rule
//! that matches wins.
//!
//! `nth` counts per rule: each rule counts the requests that meet its *other* conditions (whether
//! or not it answered them), and a rule with `nth: 2` answers only the second of those.

use serde::Serialize;
use wire::ollama::Tool;

use crate::scenario::{Endpoint, Rule, canonical_model_name};

/// The parts of a generation request that rules can look at.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// Which endpoint was called.
    pub endpoint: Endpoint,
    /// Model name as sent.
    pub model: &'a str,
    /// Content of the last `user` message (the prompt, for generate).
    pub last_user: &'a str,
    /// Role of the last message (`user` for generate).
    pub last_role: &'a str,
    /// Tools the request offers.
    pub tools: &'a [Tool],
    /// `format`: `"json"` or a JSON Schema; generated replies honour it.
    pub format: Option<&'a serde_json::Value>,
}

/// Per-rule bookkeeping: how many requests met its conditions and how many it answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RuleCounter {
    /// Requests that met the rule's conditions other than `nth`.
    pub seen: u64,
    /// Requests the rule answered.
    pub hits: u64,
}

/// Picks the answering rule and updates the counters.
pub fn select(
    rules: &[Rule],
    counters: &mut [RuleCounter],
    request: &RequestView<'_>,
) -> Option<usize> {
    let mut chosen = None;
    for (index, (rule, counter)) in rules.iter().zip(counters.iter_mut()).enumerate() {
        if !conditions_hold(rule, request) {
            continue;
        }
        counter.seen += 1;
        let turn_ok = rule.when.nth.is_none_or(|nth| nth == counter.seen);
        if chosen.is_none() && turn_ok {
            chosen = Some(index);
        }
    }
    if let Some(index) = chosen {
        counters[index].hits += 1;
    }
    chosen
}

fn conditions_hold(rule: &Rule, request: &RequestView<'_>) -> bool {
    let when = &rule.when;
    when.model
        .as_ref()
        .is_none_or(|model| canonical_model_name(model) == canonical_model_name(request.model))
        && match when.endpoint {
            Some(endpoint) => endpoint == request.endpoint,
            None => matches!(request.endpoint, Endpoint::Chat | Endpoint::Generate),
        }
        && when
            .last_user_contains
            .as_ref()
            .is_none_or(|needle| request.last_user.contains(needle.as_str()))
        && when
            .last_user_regex
            .as_ref()
            .is_none_or(|regex| regex.is_match(request.last_user))
        && when
            .last_role
            .as_ref()
            .is_none_or(|role| role.eq_ignore_ascii_case(request.last_role))
        && when
            .has_tools
            .is_none_or(|wanted| wanted != request.tools.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn rules(json: &str) -> Vec<Rule> {
        Scenario::from_json("test", json).expect("valid").rules
    }

    fn view(last_user: &'static str) -> RequestView<'static> {
        RequestView {
            endpoint: Endpoint::Chat,
            model: "llama3.2",
            last_user,
            last_role: "user",
            tools: &[],
            format: None,
        }
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = rules(
            r#"{"rules":[{"match":{"last_user_contains":"weather"}},{"match":{"last_user_regex":"^w"}}]}"#,
        );
        let mut counters = vec![RuleCounter::default(); 2];
        assert_eq!(
            select(&rules, &mut counters, &view("weather today")),
            Some(0)
        );
        assert_eq!(select(&rules, &mut counters, &view("what")), Some(1));
        assert_eq!(select(&rules, &mut counters, &view("hello")), None);
    }

    #[test]
    fn nth_answers_only_that_occurrence() {
        let rules = rules(r#"{"rules":[{"match":{"nth":2}},{"name":"rest"}]}"#);
        let mut counters = vec![RuleCounter::default(); 2];
        let picks: Vec<_> = (0..3)
            .map(|_| select(&rules, &mut counters, &view("x")))
            .collect();
        assert_eq!(picks, vec![Some(1), Some(0), Some(1)]);
        assert_eq!(counters[0], RuleCounter { seen: 3, hits: 1 });
    }

    #[test]
    fn has_tools_and_endpoint_filter() {
        let rules =
            rules(r#"{"rules":[{"match":{"has_tools":true}},{"match":{"endpoint":"generate"}}]}"#);
        let mut counters = vec![RuleCounter::default(); 2];
        assert_eq!(select(&rules, &mut counters, &view("x")), None);
    }
}
