"""An OpenAI-compatible gateway in front of Ollama, of the kind tutorials teach: FastAPI, httpx,
and a translation of `/v1/chat/completions` to Ollama's native `/api/chat` (NDJSON) and back,
streams included. See README.md for how its tests judge it and what they caught.

    OLLAMA_URL=http://127.0.0.1:11434 uvicorn gateway:app --port 8080
"""

from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Literal, Optional, Union

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

OLLAMA_URL = os.environ.get("OLLAMA_URL", "http://127.0.0.1:11434").rstrip("/")
#: Larger request bodies are refused before they are read.
MAX_BODY_BYTES = 1 << 20


# Errors: OpenAI's envelope, everywhere.


def error(status: int, message: str, kind: str, code: Optional[str] = None,
          param: Optional[str] = None, headers: Optional[Dict[str, str]] = None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


class UpstreamError(Exception):
    """Ollama answered with an error: passed on with the status OpenAI's clients expect."""

    def __init__(self, status: int, message: str, retry_after: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    def response(self, model: str) -> JSONResponse:
        if self.status == 404:
            return error(404, f"The model `{model}` does not exist.", "invalid_request_error",
                         "model_not_found", "model")
        if self.status == 429:
            return error(429, self.message, "rate_limit_error", "rate_limit_exceeded",
                         headers={"retry-after": self.retry_after or "1"})
        if self.status == 400:
            return error(400, self.message, "invalid_request_error")
        if self.status == 503:
            return error(503, "the model is overloaded; retry later", "server_error", "overloaded")
        return error(502, "the upstream failed", "server_error", "upstream_error")


# The request, as OpenAI defines it: anything else is a 400.


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class FunctionCall(BaseModel):
    name: str
    arguments: str


class ToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Optional[Union[str, List[TextPart]]] = None
    name: Optional[str] = None
    tool_calls: Optional[List[ToolCall]] = None
    tool_call_id: Optional[str] = None


class Function(BaseModel):
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: Optional[str] = None
    parameters: Optional[Dict[str, Any]] = None


class Tool(BaseModel):
    type: Literal["function"]
    function: Function


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: List[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: Optional[StreamOptions] = None
    temperature: Optional[float] = Field(default=None, ge=0, le=2)
    top_p: Optional[float] = Field(default=None, ge=0, le=1)
    max_tokens: Optional[int] = Field(default=None, ge=1)
    max_completion_tokens: Optional[int] = Field(default=None, ge=1)
    n: int = Field(default=1, ge=1, le=1)
    stop: Optional[Union[str, List[str]]] = None
    seed: Optional[int] = None
    presence_penalty: Optional[float] = Field(default=None, ge=-2, le=2)
    frequency_penalty: Optional[float] = Field(default=None, ge=-2, le=2)
    tools: Optional[List[Tool]] = None
    tool_choice: Optional[Union[str, Dict[str, Any]]] = None
    response_format: Optional[Dict[str, Any]] = None
    logprobs: Optional[bool] = None


# Translation to Ollama and back.


def text_of(content: Optional[Union[str, List[TextPart]]]) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content)


def to_ollama(request: ChatRequest) -> Dict[str, Any]:
    messages: List[Dict[str, Any]] = []
    for message in request.messages:
        role = "system" if message.role == "developer" else message.role
        out: Dict[str, Any] = {"role": role, "content": text_of(message.content)}
        if message.tool_calls:
            out["tool_calls"] = [
                {"function": {"name": call.function.name,
                              "arguments": json.loads(call.function.arguments or "{}")}}
                for call in message.tool_calls
            ]
        messages.append(out)
    options: Dict[str, Any] = {}
    for ours, theirs in [("temperature", "temperature"), ("top_p", "top_p"), ("seed", "seed"),
                         ("presence_penalty", "presence_penalty"),
                         ("frequency_penalty", "frequency_penalty")]:
        value = getattr(request, ours)
        if value is not None:
            options[theirs] = value
    limit = request.max_completion_tokens or request.max_tokens
    if limit is not None:
        options["num_predict"] = limit
    if request.stop is not None:
        options["stop"] = [request.stop] if isinstance(request.stop, str) else request.stop
    body: Dict[str, Any] = {"model": request.model, "messages": messages,
                            "stream": request.stream, "options": options}
    if request.tools and request.tool_choice != "none":
        body["tools"] = [tool.model_dump(exclude_none=True) for tool in request.tools]
    kind = (request.response_format or {}).get("type")
    if kind == "json_object":
        body["format"] = "json"
    elif kind == "json_schema":
        body["format"] = (request.response_format or {}).get("json_schema", {}).get("schema", "json")
    return body


def tool_calls_of(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [
        {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
         "function": {"name": call["function"]["name"],
                      "arguments": json.dumps(call["function"].get("arguments", {}))}}
        for call in message.get("tool_calls") or []
    ]


def finish_reason(line: Dict[str, Any], called_tools: bool) -> str:
    if called_tools:
        return "tool_calls"
    return "length" if line.get("done_reason") == "length" else "stop"


def usage_of(line: Dict[str, Any]) -> Dict[str, int]:
    prompt, completion = line.get("prompt_eval_count", 0), line.get("eval_count", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


# The app.


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.ollama = httpx.AsyncClient(base_url=OLLAMA_URL, timeout=httpx.Timeout(300, connect=5))
    yield
    await app.state.ollama.aclose()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


@app.middleware("http")
async def request_id_and_body_limit(request: Request, call_next: Any) -> Any:
    request_id = request.headers.get("x-request-id") or f"req_{uuid.uuid4().hex}"
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        response = error(413, f"the request body is larger than {MAX_BODY_BYTES} bytes",
                         "invalid_request_error", "request_too_large")
    else:
        response = await call_next(request)
    response.headers["x-request-id"] = request_id
    return response


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """An invalid request is a 400 in the envelope, naming the first field at fault."""
    problems = exc.errors() if isinstance(exc, RequestValidationError) else []
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
    return error(400, f"{where or 'body'}: {first.get('msg', 'invalid request')}",
                 "invalid_request_error", "invalid_request", where)


# `GATEWAY_BREAK=fastapi-validation` leaves this handler out, as tutorials do: FastAPI's own
# `422 {"detail": [...]}` then answers invalid requests (README.md: from a failing report to a fix).
if os.environ.get("GATEWAY_BREAK") != "fastapi-validation":
    app.add_exception_handler(RequestValidationError, invalid_request)


@app.exception_handler(HTTPException)
async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code = "unknown_url" if exc.status_code == 404 else None
    return error(exc.status_code, str(exc.detail), "invalid_request_error", code)


@app.get("/health")
async def health() -> Dict[str, str]:
    return {"status": "ok"}


async def ollama_models() -> List[Dict[str, Any]]:
    tags = await app.state.ollama.get("/api/tags")
    tags.raise_for_status()
    return [
        {"id": model["name"].removesuffix(":latest"), "object": "model",
         "created": int(time.time()), "owned_by": "ollama"}
        for model in tags.json().get("models", [])
    ]


@app.get("/v1/models")
async def list_models() -> Dict[str, Any]:
    return {"object": "list", "data": await ollama_models()}


@app.get("/v1/models/{model_id:path}", response_model=None)
async def retrieve_model(model_id: str) -> Union[Dict[str, Any], JSONResponse]:
    for model in await ollama_models():
        if model["id"] == model_id.removesuffix(":latest"):
            return model
    return error(404, f"The model `{model_id}` does not exist.", "invalid_request_error",
                 "model_not_found", "model")


async def raise_for_upstream(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    text = (await response.aread()).decode(errors="replace")
    try:
        message = json.loads(text).get("error", text)
    except ValueError:
        message = text
    raise UpstreamError(response.status_code, str(message), response.headers.get("retry-after"))


@app.post("/v1/chat/completions", response_model=None)
async def chat_completions(chat: ChatRequest) -> Union[JSONResponse, StreamingResponse]:
    ollama: httpx.AsyncClient = app.state.ollama
    body = to_ollama(chat)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not chat.stream:
        try:
            answer = await ollama.post("/api/chat", json=body)
            await raise_for_upstream(answer)
        except UpstreamError as failure:
            return failure.response(chat.model)
        line = answer.json()
        calls = tool_calls_of(line.get("message", {}))
        message: Dict[str, Any] = {"role": "assistant",
                                   "content": line.get("message", {}).get("content") or None}
        if calls:
            message["tool_calls"] = calls
        elif message["content"] is None:
            message["content"] = ""
        return JSONResponse({
            "id": completion_id, "object": "chat.completion", "created": created,
            "model": chat.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish_reason(line, bool(calls))}],
            "usage": usage_of(line),
        })

    # A stream: the upstream's status is known before the first byte goes out, so an unknown
    # model or a rate limit is still an ordinary JSON error.
    upstream = await ollama.send(ollama.build_request("POST", "/api/chat", json=body), stream=True)
    try:
        await raise_for_upstream(upstream)
    except UpstreamError as failure:
        await upstream.aclose()
        return failure.response(chat.model)
    include_usage = bool(chat.stream_options and chat.stream_options.include_usage)

    def event(choices: List[Dict[str, Any]], **extra: Any) -> str:
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                 "model": chat.model, "choices": choices, **extra}
        if include_usage:
            chunk.setdefault("usage", None)
        return f"data: {json.dumps(chunk)}\n\n"

    async def events() -> AsyncIterator[str]:
        called_tools = False
        try:
            yield event([{"index": 0, "delta": {"role": "assistant", "content": ""},
                          "logprobs": None, "finish_reason": None}])
            async for raw in upstream.aiter_lines():
                if not raw.strip():
                    continue
                line = json.loads(raw)
                if "error" in line:
                    failure = {"message": str(line["error"]), "type": "server_error",
                               "param": None, "code": "upstream_error"}
                    yield f"data: {json.dumps({'error': failure})}\n\n"
                    yield "data: [DONE]\n\n"
                    return
                message = line.get("message", {})
                calls = tool_calls_of(message)
                if calls:
                    called_tools = True
                    delta: Dict[str, Any] = {"tool_calls": [dict(call, index=i)
                                                           for i, call in enumerate(calls)]}
                    yield event([{"index": 0, "delta": delta, "logprobs": None,
                                  "finish_reason": None}])
                if message.get("content"):
                    yield event([{"index": 0, "delta": {"content": message["content"]},
                                  "logprobs": None, "finish_reason": None}])
                if line.get("done"):
                    yield event([{"index": 0, "delta": {}, "logprobs": None,
                                  "finish_reason": finish_reason(line, called_tools)}])
                    if include_usage:
                        yield event([], usage=usage_of(line))
                    yield "data: [DONE]\n\n"
                    return
            # The upstream ended without its last line: say so rather than end normally.
            failure = {"message": "the upstream stream ended early", "type": "server_error",
                       "param": None, "code": "upstream_error"}
            yield f"data: {json.dumps({'error': failure})}\n\n"
            yield "data: [DONE]\n\n"
        finally:
            await upstream.aclose()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache"})
