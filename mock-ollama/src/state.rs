//! The mock's shared state: configuration, the live scenario with its rule counters, the journal
//! and the models "loaded" so far (for `/api/ps`).

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, MutexGuard},
};

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use crate::{
    exchange::{Exchange, Incoming},
    journal::Journal,
    matching::{self, RequestView, RuleCounter},
    openai::{
        flavor::{Dialect, Flavor},
        response_store::ResponseStore,
    },
    record::Recorder,
    scenario::{ModelSpec, Rule, Scenario, canonical_model_name},
};

/// Settings fixed for the mock's lifetime.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Unmatched generation requests get an error instead of a generated reply.
    pub strict: bool,
    /// Real sleep = virtual delay × this; 0 disables sleeping.
    pub time_scale: f64,
    /// Mixed into every request's seed.
    pub seed: u64,
    /// The fixed instant every reply's `created_at` starts from.
    pub clock_base: DateTime<Utc>,
    /// Start each reply's clock at the real time its request arrived instead (timestamps then
    /// change from run to run, as a real server's do).
    pub real_clock: bool,
    /// What `/api/version` reports.
    pub version: String,
    /// Journal capacity (newest entries kept).
    pub journal_limit: usize,
    /// How many Responses API responses the exact flavour keeps for `previous_response_id` and
    /// `GET /v1/responses/{id}` (newest kept).
    pub stored_responses: usize,
    /// Whose OpenAI dialect `/v1` speaks, unless the scenario names one.
    pub flavor: Flavor,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            strict: false,
            time_scale: 0.0,
            seed: 0,
            clock_base: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            real_clock: false,
            version: "0.13.0".to_owned(),
            journal_limit: 10_000,
            stored_responses: 1_000,
            flavor: Flavor::default(),
        }
    }
}

impl MockConfig {
    /// The instant a reply's clock starts from: the fixed base, or now with a real clock.
    pub fn clock_start(&self) -> DateTime<Utc> {
        if self.real_clock {
            DateTime::<Utc>::from(std::time::SystemTime::now())
        } else {
            self.clock_base
        }
    }
}

/// One rule's expectation and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectationReport {
    /// Rule name.
    pub rule: String,
    /// Required number of answers.
    pub expected: u64,
    /// Actual number of answers.
    pub actual: u64,
}

impl ExpectationReport {
    /// True when the rule answered exactly as often as expected.
    pub fn satisfied(&self) -> bool {
        self.expected == self.actual
    }
}

#[derive(Debug)]
struct Live {
    scenario: Arc<Scenario>,
    counters: Vec<RuleCounter>,
    /// How often each recorded exchange was replayed.
    replays: Vec<u64>,
}

impl Live {
    fn new(scenario: Arc<Scenario>) -> Self {
        let counters = vec![RuleCounter::default(); scenario.rules.len()];
        let replays = vec![0; scenario.exchanges.len()];
        Self {
            scenario,
            counters,
            replays,
        }
    }
}

/// State shared by every handler.
#[derive(Debug)]
pub struct MockState {
    /// Fixed settings.
    pub config: MockConfig,
    /// Every request received.
    pub journal: Arc<Journal>,
    /// The recording proxy, when the mock records from (or replays for) a real server.
    pub recorder: Option<Arc<Recorder>>,
    /// Responses kept for `previous_response_id` and retrieval.
    pub responses: ResponseStore,
    initial: Arc<Scenario>,
    live: Mutex<Live>,
    loaded: Mutex<BTreeSet<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MockState {
    /// State serving `scenario`, recording through `recorder` if there is one.
    pub fn new(config: MockConfig, scenario: Scenario, recorder: Option<Arc<Recorder>>) -> Self {
        let initial = Arc::new(scenario);
        Self {
            journal: Arc::new(Journal::new(config.journal_limit)),
            responses: ResponseStore::new(config.stored_responses),
            recorder,
            config,
            live: Mutex::new(Live::new(initial.clone())),
            initial,
            loaded: Mutex::new(BTreeSet::new()),
        }
    }

    /// The OpenAI dialect `/v1` speaks now: the scenario's flavour, else the mock's.
    pub fn dialect(&self) -> &'static Dialect {
        self.scenario()
            .flavor
            .unwrap_or(self.config.flavor)
            .dialect()
    }

    /// The scenario being served now.
    pub fn scenario(&self) -> Arc<Scenario> {
        lock(&self.live).scenario.clone()
    }

    /// Serves `scenario` from now on, with fresh counters.
    pub fn replace_scenario(&self, scenario: Scenario) {
        *lock(&self.live) = Live::new(Arc::new(scenario));
    }

    /// Installs a model (a pull, copy or create); one of the same name is replaced.
    pub fn install_model(&self, model: ModelSpec) {
        self.edit_models(|models| {
            models.retain(|existing| {
                canonical_model_name(&existing.name) != canonical_model_name(&model.name)
            });
            models.push(model);
        });
    }

    /// Removes a model (a delete); false when there was none of that name.
    pub fn remove_model(&self, name: &str) -> bool {
        let wanted = canonical_model_name(name);
        let mut removed = false;
        self.edit_models(|models| {
            let before = models.len();
            models.retain(|existing| canonical_model_name(&existing.name) != wanted);
            removed = models.len() != before;
        });
        lock(&self.loaded).retain(|loaded| canonical_model_name(loaded) != wanted);
        removed
    }

    /// Changes the live scenario's model list; rule counters are kept.
    fn edit_models(&self, edit: impl FnOnce(&mut Vec<ModelSpec>)) {
        let mut live = lock(&self.live);
        let mut scenario = (*live.scenario).clone();
        edit(&mut scenario.models);
        live.scenario = Arc::new(scenario);
    }

    /// Appends a rule (it matches after the existing ones).
    pub fn add_rule(&self, rule: Rule) {
        let mut live = lock(&self.live);
        let mut scenario = (*live.scenario).clone();
        scenario.rules.push(rule);
        live.scenario = Arc::new(scenario);
        live.counters.push(RuleCounter::default());
    }

    /// Appends a recorded exchange (it matches after the existing ones).
    pub fn add_exchange(&self, exchange: Exchange) {
        let mut live = lock(&self.live);
        let mut scenario = (*live.scenario).clone();
        scenario.exchanges.push(exchange);
        live.scenario = Arc::new(scenario);
        live.replays.push(0);
    }

    /// The recorded exchange answering `incoming`, counted as replayed: the first matching one
    /// not replayed yet, so a request recorded twice replays its two replies in order; once all
    /// were replayed, the last one again.
    pub fn select_exchange(&self, incoming: &Incoming<'_>) -> Option<(Arc<Scenario>, usize)> {
        let mut live = lock(&self.live);
        let live = &mut *live;
        let matching: Vec<usize> = live
            .scenario
            .exchanges
            .iter()
            .enumerate()
            .filter(|(_, exchange)| exchange.request.matches(incoming))
            .map(|(index, _)| index)
            .collect();
        let chosen = matching
            .iter()
            .copied()
            .find(|&index| live.replays[index] == 0)
            .or(matching.last().copied())?;
        live.replays[chosen] += 1;
        Some((live.scenario.clone(), chosen))
    }

    /// Back to the start-up scenario, with an empty journal, no stored responses and no loaded
    /// models.
    pub fn reset(&self) {
        *lock(&self.live) = Live::new(self.initial.clone());
        self.journal.clear();
        self.responses.clear();
        lock(&self.loaded).clear();
    }

    /// Picks the rule answering `request` (first match wins) and counts it.
    pub fn select(&self, request: &RequestView<'_>) -> (Arc<Scenario>, Option<usize>) {
        let mut live = lock(&self.live);
        let live = &mut *live;
        let chosen = matching::select(&live.scenario.rules, &mut live.counters, request);
        (live.scenario.clone(), chosen)
    }

    /// Every rule with an `expect`, and how often it answered.
    pub fn expectations(&self) -> Vec<ExpectationReport> {
        let live = lock(&self.live);
        live.scenario
            .rules
            .iter()
            .zip(&live.counters)
            .enumerate()
            .filter_map(|(index, (rule, counter))| {
                rule.expect.map(|expected| ExpectationReport {
                    rule: rule.display_name(index),
                    expected,
                    actual: counter.hits,
                })
            })
            .collect()
    }

    /// Notes that a model served a request.
    pub fn mark_loaded(&self, name: &str) {
        let mut loaded = lock(&self.loaded);
        if !loaded.contains(name) {
            loaded.insert(name.to_owned());
        }
    }

    /// Models that served a request since start or reset, by name.
    pub fn loaded(&self) -> Vec<String> {
        lock(&self.loaded).iter().cloned().collect()
    }
}
