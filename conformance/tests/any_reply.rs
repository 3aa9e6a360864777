//! Whatever a server answers, the runner judges it and writes its reports: no byte sequence,
//! status or content type makes a check, the transcript or a report panic.
#![allow(clippy::unwrap_used)]

use conformance::{
    Exchange, Profile, Report,
    probes::{Observations, name},
    report, runner,
    transcript::Transcript,
};
use proptest::prelude::*;

/// A body a server might send: random bytes, or SSE-looking or JSON-looking text built from the
/// pieces that make checks look deeper.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just("data: ".to_owned()),
        Just("data:".to_owned()),
        Just("\n".to_owned()),
        Just("\r".to_owned()),
        Just("\r\n".to_owned()),
        Just(": ping".to_owned()),
        Just("event: error".to_owned()),
        Just("id: 1".to_owned()),
        Just("[DONE]".to_owned()),
        Just("\u{feff}".to_owned()),
        Just(r#"{"choices":[{"index":0,"delta":{"content":"x","tool_calls":[{"index":0,"function":{"arguments":"{"}}]},"finish_reason":null}]}"#.to_owned()),
        Just(r#"{"choices":[{"index":1,"finish_reason":"stop","message":{"role":"assistant","content":null}}],"usage":{"prompt_tokens":-1}}"#.to_owned()),
        Just(r#"{"error":{"message":7,"type":null}}"#.to_owned()),
        Just(r#"{"object":"list","data":[{"id":3}]}"#.to_owned()),
        "[ -~]{0,12}",
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat().into_bytes()),
    ]
}

/// How reading a reply ended.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Clean,
    Reset,
    /// The runner's deadline.
    TimedOut,
    /// The runner's body cap.
    Truncated,
}

type Reply = (Option<u16>, &'static str, Vec<u8>, Ending, bool);

fn reply() -> impl Strategy<Value = Reply> {
    (
        prop_oneof![Just(None), (100u16..600).prop_map(Some)],
        prop_oneof![
            Just("application/json"),
            Just("text/event-stream"),
            Just("text/event-stream; charset=utf-8"),
            Just("text/html"),
            Just(""),
        ],
        body(),
        prop_oneof![
            Just(Ending::Clean),
            Just(Ending::Reset),
            Just(Ending::TimedOut),
            Just(Ending::Truncated),
        ],
        // Whether the request asked for a stream.
        any::<bool>(),
    )
}

fn observations(replies: Vec<Reply>) -> Observations {
    let exchanges = name::ALL.iter().zip(replies).map(
        |(&probe, (status, content_type, body, ending, streamed))| Exchange {
            probe,
            request: serde_json::json!({"stream": streamed}),
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body,
            truncated: matches!(ending, Ending::Truncated),
            timed_out: matches!(ending, Ending::TimedOut),
            error: matches!(ending, Ending::Reset).then(|| "connection reset".to_owned()),
            head_ms: Some(1.0),
            total_ms: 2.0,
        },
    );
    let target = conformance::Target {
        expect_auth: true,
        ..conformance::Target::new("http://fuzz/v1", "m")
    };
    Observations::of(&target, exchanges)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_replies_are_judged_and_reported(
        replies in proptest::collection::vec(reply(), name::ALL.len())
    ) {
        let observations = observations(replies);
        for profile in [Profile::Strict, Profile::Compat] {
            let verdicts = runner::judge(&observations, profile, None);
            prop_assert_eq!(verdicts.len(), conformance::checks::all().len());
            let report = Report {
                target: "http://fuzz/v1".to_owned(),
                tls_verified: true,
                model: "m".to_owned(),
                profile,
                verdicts,
                dialects: runner::dialects(&observations),
                capabilities: Vec::new(),
                cut: runner::cut(&observations),
                transcript: Transcript::of(&observations),
            };
            for text in [report::table(&report), report::json(&report), report::junit(&report), report::markdown(&report)] {
                prop_assert!(!text.is_empty());
            }
        }
    }
}
