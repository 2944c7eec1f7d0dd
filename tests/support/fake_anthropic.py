"""A local stand-in for the Anthropic Messages API, for tests and benchmarks.

A threaded HTTP server on 127.0.0.1 (random port) that answers
``POST /v1/messages`` with the real response JSON shapes (text blocks with
``content_block_location`` citations, ``stop_reason``, ``usage`` with the cache
counters; errors as ``{"type": "error", "error": {...}}``). Every request's path,
headers and JSON body is recorded. The reply is scripted per test:

    with FakeAnthropic() as api:
        api.script(error(529), faithful())   # first call overloaded, then a good answer
        settings = Settings(anthropic_api_key="k", anthropic_base_url=api.url, ...)

Steps are consumed one per request; the last one repeats. The answers are built
from the request's own facts document and decision JSON, as a model would.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LABELS = {
    "prompt_engineering": "Prompt engineering",
    "prompt_then_fine_tune": "Prompt now, fine-tune later",
    "fine_tuning": "Fine-tune",
}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes


Step = Callable[[Mapping[str, Any]], Reply]


# --- reading the request the way a model would ---------------------------------


def request_facts(body: Mapping[str, Any]) -> list[str]:
    for message in body.get("messages", []):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for block in content:
            if block.get("type") == "document" and block["source"].get("type") == "content":
                return [b["text"] for b in block["source"]["content"] if b.get("type") == "text"]
    return []


def request_document_title(body: Mapping[str, Any]) -> str | None:
    for message in body.get("messages", []):
        for block in message.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "document":
                return block.get("title")
    return None


def request_decision(body: Mapping[str, Any]) -> dict[str, Any]:
    """The decision JSON object found in the user's text blocks."""
    decoder = json.JSONDecoder()
    for message in body.get("messages", []):
        for block in message.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "text":
                text = block["text"]
                start = text.find("{")
                while start != -1:
                    try:
                        value, _ = decoder.raw_decode(text, start)
                        if isinstance(value, dict) and "verdict" in value:
                            return value
                    except json.JSONDecodeError:
                        pass
                    start = text.find("{", start + 1)
    return {}


# --- answer builders ---------------------------------------------------------------


def _cited(text: str, index: int, facts: list[str], title: str | None) -> dict[str, Any]:
    return {
        "type": "text",
        "text": text,
        "citations": [
            {
                "type": "content_block_location",
                "cited_text": facts[index],
                "document_index": 0,
                "document_title": title,
                "start_block_index": index,
                "end_block_index": index + 1,
            }
        ],
    }


def _plain(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _restate(fact: str) -> str:
    """A fact as a sentence of the answer: drop the "Kind: " prefix."""
    head, sep, rest = fact.partition(": ")
    text = rest if sep and len(head) < 25 else fact
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def faithful_content(body: Mapping[str, Any], budget_chars: int = 700) -> list[dict[str, Any]]:
    """Verdict line, then up to three reasons/conditions and one cost fact, each cited."""
    facts = request_facts(body)
    title = request_document_title(body)
    label = request_decision(body).get("verdict_label", "")
    content = [_plain(f"Recommendation: {label}.")]
    used = len(content[0]["text"])
    picked = [
        i for i, f in enumerate(facts) if f.startswith(("Reason:", "Fine-tune later when:"))
    ][:3]
    picked += [i for i, f in enumerate(facts) if f.startswith("Cost:")][:1]
    for i in picked:
        sentence = _restate(facts[i])
        if used + len(sentence) + 1 > budget_chars:
            continue
        content.append(_plain(" "))
        content.append(_cited(sentence, i, facts, title))
        used += len(sentence) + 1
    return content


def message_json(
    body: Mapping[str, Any], content: list[dict[str, Any]], stop_reason: str = "end_turn"
) -> dict[str, Any]:
    system_chars = sum(len(b.get("text", "")) for b in body.get("system") or [])
    all_chars = len(json.dumps(body))
    out_chars = sum(len(b.get("text", "")) for b in content)
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-haiku-4-5"),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": int((all_chars - system_chars) / 3.5),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": int(system_chars / 3.5),
            "output_tokens": max(1, int(out_chars / 3.5)),
        },
    }


def faithful() -> Step:
    return lambda body: Reply(body=message_json(body, faithful_content(body)))


def flipped_verdict() -> Step:
    def step(body: Mapping[str, Any]) -> Reply:
        content = faithful_content(body)
        verdict = request_decision(body).get("verdict")
        other = "prompt_engineering" if verdict == "fine_tuning" else "fine_tuning"
        content[0] = _plain(f"Recommendation: {LABELS[other]}.")
        return Reply(body=message_json(body, content))

    return step


def invented_number() -> Step:
    def step(body: Mapping[str, Any]) -> Reply:
        facts = request_facts(body)
        content = faithful_content(body, budget_chars=600)
        index = next((i for i, f in enumerate(facts) if f.startswith("Cost:")), 0)
        content += [
            _plain(" "),
            _cited("That saves USD 123,457 every month.", index, facts,
                   request_document_title(body)),
        ]
        return Reply(body=message_json(body, content))

    return step


def uncited_claim() -> Step:
    def step(body: Mapping[str, Any]) -> Reply:
        content = faithful_content(body, budget_chars=600)
        content.append(_plain(" Most teams in your position regret this choice within a year."))
        return Reply(body=message_json(body, content))

    return step


def max_tokens() -> Step:
    def step(body: Mapping[str, Any]) -> Reply:
        content = faithful_content(body)
        last = content[-1]
        last["text"] = last["text"][: max(1, len(last["text"]) // 2)]
        return Reply(body=message_json(body, content, stop_reason="max_tokens"))

    return step


def empty() -> Step:
    return lambda body: Reply(body=message_json(body, []))


def custom(content: list[dict[str, Any]] | Callable[[Mapping[str, Any]], list[dict[str, Any]]],
           stop_reason: str = "end_turn") -> Step:
    def step(body: Mapping[str, Any]) -> Reply:
        blocks = content(body) if callable(content) else content
        return Reply(body=message_json(body, blocks, stop_reason))

    return step


def error(status: int, retry_after: float | None = None, message: str | None = None) -> Step:
    kind = ERROR_TYPES.get(status, "api_error")
    text = message or {
        429: "Number of request tokens has exceeded your per-minute rate limit",
        529: "Overloaded",
    }.get(status, "Internal server error")

    def step(body: Mapping[str, Any]) -> Reply:
        headers = {}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        request_id = f"req_{uuid.uuid4().hex[:24]}"
        headers["request-id"] = request_id
        return Reply(
            status=status,
            body={"type": "error", "error": {"type": kind, "message": text},
                  "request_id": request_id},
            headers=headers,
        )

    return step


def hang(seconds: float = 30.0) -> Step:
    """Answer (faithfully) only after ``seconds``: longer than any test budget."""

    def step(body: Mapping[str, Any]) -> Reply:
        return Reply(body=message_json(body, faithful_content(body)), delay_s=seconds)

    return step


# --- the server --------------------------------------------------------------------


class FakeAnthropic:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._steps: list[Step] = [faithful()]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = None
                path = self.path.split("?", 1)[0]
                fake._record(Recorded(path, {k.lower(): v for k, v in self.headers.items()},
                                      body, raw))
                if path != "/v1/messages" or not isinstance(body, dict):
                    reply = Reply(404, {"type": "error", "error": {
                        "type": "not_found_error", "message": f"no route {path}"}})
                else:
                    reply = fake._next_step()(body)
                if reply.delay_s and fake._stop.wait(reply.delay_s):
                    return
                payload = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # lifecycle
    def start(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # scripting and records
    def script(self, *steps: Step) -> None:
        with self._lock:
            self._steps = list(steps) or [faithful()]

    def _next_step(self) -> Step:
        with self._lock:
            return self._steps.pop(0) if len(self._steps) > 1 else self._steps[0]

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    @property
    def messages_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/messages"]
