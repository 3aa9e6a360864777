"""What the official `openai` SDK sees from a server, written down byte for byte.

    python sdk_transcript.py BASE_URL MODEL OUT [--mask KEY,KEY]

Makes a fixed set of calls (a model list, a whole and a streamed chat completion with usage, a
request for a model that does not exist) and writes, for each, the status, the content type, the
raw body bytes as the SDK's HTTP layer received them and what the SDK parsed from them. Run it
once against a live server through `mock-ollama record` and once against the mock replaying those
recordings: the two files must be identical (conformance/third-party/run.sh compares them).
`--mask id,created` replaces those keys' values wherever they occur (parsed and raw): for a server
that mints its own ids and timestamps per reply, like the gateway. Socket reads coalesce differently from run to run, so chunk boundaries are compared elsewhere
(mock-ollama/tests/record_replay.rs reads the chunked framing itself).
"""

from __future__ import annotations

import argparse
import json
import re

import httpx
import openai


class _Tee(httpx.SyncByteStream):
    """A response body that keeps a copy of every byte the SDK reads."""

    def __init__(self, inner: httpx.SyncByteStream, sink: bytearray) -> None:
        self._inner, self._sink = inner, sink

    def __iter__(self):
        for part in self._inner:
            self._sink.extend(part)
            yield part

    def close(self) -> None:
        self._inner.close()


class _RawBodies(httpx.BaseTransport):
    """The SDK's transport, with the raw body of each response kept in order."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.bodies: list[bytearray] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        sink = bytearray()
        self.bodies.append(sink)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Tee(response.stream, sink),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()

PROMPT = "Name one colour."


def _masked(value, keys: set[str]):
    if isinstance(value, dict):
        return {k: ("<masked>" if k in keys else _masked(v, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item, keys) for item in value]
    if isinstance(value, str):
        for key in keys:
            value = re.sub(rf'"{re.escape(key)}":\s*("[^"]*"|-?[0-9.]+)', f'"{key}":"<masked>"', value)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--mask", default="", help="comma-separated keys whose values vary per reply")
    args = parser.parse_args()
    base_url, model, out = args.base_url, args.model, args.out
    mask = {key for key in args.mask.split(",") if key}
    transport = _RawBodies()
    client = openai.OpenAI(
        base_url=base_url,
        api_key="sk-transcript-secret",
        max_retries=0,
        http_client=httpx.Client(transport=transport),
    )
    entries: list[dict] = []

    def note(call: str, response: httpx.Response, parsed) -> None:
        entries.append(
            {
                "call": call,
                "status": response.status_code,
                "content_type": response.headers.get("content-type"),
                "raw": transport.bodies[-1].decode("utf-8", "replace"),
                "parsed": parsed,
            }
        )

    models = client.models.with_raw_response.list()
    note("models.list", models.http_response, [m.model_dump() for m in models.parse().data])

    whole = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": PROMPT}], max_tokens=12, temperature=0
    )
    note("chat.completions", whole.http_response, whole.parse().model_dump())

    with client.chat.completions.with_streaming_response.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=12,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    ) as streamed:
        chunks = [chunk.model_dump() for chunk in streamed.parse()]
        note("chat.completions stream", streamed.http_response, chunks)

    try:
        client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": PROMPT}], max_tokens=4
        )
        entries.append({"call": "unknown model", "error": None})
    except openai.APIStatusError as error:
        note("unknown model", error.response, {"error": type(error).__name__})

    with open(out, "w", encoding="utf-8") as file:
        json.dump(_masked(entries, mask), file, indent=1, sort_keys=True, ensure_ascii=False)
        file.write("\n")


if __name__ == "__main__":
    main()
