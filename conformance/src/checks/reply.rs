//! How a check reads the reply to one of the runner's valid requests: the reply it can judge, or
//! the outcome saying why it cannot. When the reason is the server's own misbehaviour (a 5xx, no
//! answer at all, JSON where SSE was asked for), that outcome is a failure — never a skip that
//! hides it. Only the runner's own limits (a cut), refused credentials, a rate limit and an
//! optional feature declined with a 4xx leave a check unjudged without blame.

use serde_json::Value;

use super::exchange;
use crate::{
    check::Outcome,
    exchange::Exchange,
    probes::{Observations, StreamView, name},
};

/// The exchange of valid request `probe`, answered with a 2xx; or the graded reason it cannot
/// be judged. The media type is HTTP-001's and HTTP-002's business: a body is judged for what it
/// is, whatever its label.
pub fn answered<'a>(o: &'a Observations, probe: &str) -> Result<&'a Exchange, Outcome> {
    let exchange = exchange(o, probe)?;
    if let Some(cut) = exchange.cut() {
        return Err(Outcome::Skip(format!("{probe}: {cut}")));
    }
    let Some(status) = exchange.status else {
        return Err(Outcome::Fail(format!(
            "{probe}: no answer to a valid request: {}",
            exchange.summary()
        )));
    };
    let summary = exchange.summary();
    match status {
        200..=299 => Ok(exchange),
        401 | 403 => Err(Outcome::Skip(format!(
            "{probe}: the credentials were refused ({summary}); give the key with --api-key or --header"
        ))),
        429 => Err(Outcome::Skip(format!("{probe}: rate-limited ({summary})"))),
        400..=499 if name::OPTIONAL.contains(&probe) => Err(Outcome::Unsupported(format!(
            "{probe}: declined: {summary}"
        ))),
        _ => Err(Outcome::Fail(format!(
            "{probe}: {summary} for a valid request"
        ))),
    }
}

/// The JSON reply of valid non-stream request `probe`, or why it cannot be judged.
pub fn success_json(o: &Observations, probe: &str) -> Result<Value, Outcome> {
    let exchange = answered(o, probe)?;
    exchange.json().ok_or_else(|| {
        Outcome::Fail(format!(
            "{probe}: the body is not JSON: {}",
            exchange.summary()
        ))
    })
}

/// The stream of valid streamed request `probe`, or why it cannot be judged: a whole JSON body
/// where a stream was asked for is a failure. A connection that dropped mid-stream still yields
/// what arrived: the stream checks judge how it ended.
pub fn stream<'a>(o: &'a Observations, probe: &str) -> Result<&'a StreamView, Outcome> {
    let exchange = answered(o, probe)?;
    match o.stream(probe) {
        Some(view) if exchange.json().is_none() => Ok(view),
        _ => Err(Outcome::Fail(format!(
            "{probe}: a JSON body where a stream was asked for: {}",
            exchange.summary()
        ))),
    }
}

/// Judges each of `probes` by its Content-Type: `media`, for valid requests of a dialect.
pub fn served_as(o: &Observations, probes: &[&'static str], media: &str) -> Outcome {
    per_probe(
        probes,
        |probe| answered(o, probe),
        |exchange| {
            (exchange.media_type().as_deref() != Some(media))
                .then(|| format!("Content-Type {:?}", exchange.header("content-type")))
        },
    )
}

/// The first event whose SSE `event:` name is not its JSON `type`, as evidence: what a client
/// that dispatches on the name (Anthropic's SDKs, Open Responses readers) gets wrong.
pub fn misnamed<'a>(events: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Option<String> {
    events
        .into_iter()
        .find(|(name, event)| event["type"].as_str() != Some(*name))
        .map(|(name, event)| format!("event: {name} for type {}", super::show(&event["type"])))
}

/// Judges `problem` on the reply of each of `probes` that `read` can judge. The evidence names
/// every probe's outcome. Any problem fails; one judged reply without a problem passes; when no
/// reply could be judged, the gravest reason decides (fail, then unsupported, then skip).
pub fn per_probe<T>(
    probes: &[&'static str],
    read: impl Fn(&'static str) -> Result<T, Outcome>,
    problem: impl Fn(T) -> Option<String>,
) -> Outcome {
    let mut lines = Vec::new();
    let mut judged = 0;
    let mut failed = false;
    let mut unjudged = Vec::new();
    for &probe in probes {
        match read(probe) {
            Ok(reply) => {
                judged += 1;
                match problem(reply) {
                    Some(problem) => {
                        failed = true;
                        lines.push(format!("{probe}: {problem}"));
                    }
                    None => lines.push(format!("{probe}: ok")),
                }
            }
            Err(outcome) => {
                lines.push(format!("not judged, {}", outcome.evidence()));
                unjudged.push(outcome);
            }
        }
    }
    let evidence = lines.join("; ");
    if failed {
        return Outcome::Fail(evidence);
    }
    if judged > 0 {
        return Outcome::Pass(evidence);
    }
    if unjudged.iter().any(|o| matches!(o, Outcome::Fail(_))) {
        Outcome::Fail(evidence)
    } else if unjudged
        .iter()
        .any(|o| matches!(o, Outcome::Unsupported(_)))
    {
        Outcome::Unsupported(evidence)
    } else {
        Outcome::Skip(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(replies: &[Result<bool, Outcome>]) -> Outcome {
        const PROBES: &[&str] = &["a", "b", "c"];
        per_probe(
            &PROBES[..replies.len()],
            |probe| {
                let index = PROBES.iter().position(|p| *p == probe).unwrap_or(0);
                replies[index].clone()
            },
            |ok| (!ok).then(|| "bad".to_owned()),
        )
    }

    fn skip() -> Result<bool, Outcome> {
        Err(Outcome::Skip("b: cut".into()))
    }

    #[test]
    fn each_probe_is_named_with_its_outcome() {
        assert_eq!(
            judge(&[Ok(true), skip(), Ok(false)]),
            Outcome::Fail("a: ok; not judged, b: cut; c: bad".into())
        );
    }

    #[test]
    fn one_judged_reply_is_enough_to_pass_and_a_misbehaving_one_is_still_named() {
        let outcome = judge(&[Ok(true), Err(Outcome::Fail("b: HTTP 500".into()))]);
        assert_eq!(
            outcome,
            Outcome::Pass("a: ok; not judged, b: HTTP 500".into())
        );
    }

    #[test]
    fn with_nothing_judged_the_gravest_reason_decides() {
        let fail = || Err(Outcome::Fail("x".into()));
        let declined = || Err(Outcome::Unsupported("x".into()));
        assert!(matches!(judge(&[skip(), fail()]), Outcome::Fail(_)));
        assert!(matches!(
            judge(&[skip(), declined()]),
            Outcome::Unsupported(_)
        ));
        assert!(matches!(judge(&[skip(), skip()]), Outcome::Skip(_)));
    }
}
