"""HTTP load on a running zhtag service: throughput, latency and batching under concurrent clients.

    python bench/http_load.py --corpus CORPUS [--url http://127.0.0.1:8000] [--clients 1,8,64]
        [--seconds 10] [--route segment|pos|ner] [--lines N] [--texts-per-request 1]
        [--in-process] [--model REF]

No server is started here: start one in another shell first, e.g. `zhtag serve` (serves the
shipped models on 127.0.0.1:8000; wait until `curl -s localhost:8000/readyz` answers). Only a
loopback URL (127.0.0.0/8, localhost, ::1) is accepted.

The first `--lines` sentences of the corpus (any zhtag format) are the texts. For each client
count, that many concurrent clients (threads, each on its own keep-alive connection) POST `/v1/<route>` with
`{"texts": [...]}` (texts taken round-robin, each client starting at its own offset) until
`--seconds` have passed (and never more than 1,000,000 requests in all). One line per client
count: requests/s and chars/s (2xx answers only; chars are the characters of the texts sent),
p50/p95/p99 latency of 2xx answers in ms, errors (non-2xx or exceptions, by status), and the
server's mean batch size, Δ zhtag_batch_texts_sum / Δ zhtag_batch_texts_count from `/metrics`
scraped before and after the run (`n/a` when the server does not expose it).

`--in-process` also times `Tagger.load(--model).tag(texts)` in this process (the model defaults to
the route's: segment→cws, pos→pos, ner→ner) and prints each run's chars/s as a share of it; the
target is that the service keeps at least 60% of the in-process chars/s at 64 clients.
"""
from __future__ import annotations

import argparse
import gc
import http.client
import ipaddress
import json
import math
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from data.formats import read_corpus

DEFAULT_MODEL = {"segment": "cws", "pos": "pos", "ner": "ner"}
MAX_REQUESTS = 1_000_000
TIMEOUT_S = 30.0
BATCH_METRIC = "zhtag_batch_texts"


@dataclass
class RunResult:
    clients: int
    seconds: float = 0.0
    ok_latencies: list[float] = field(default_factory=list)
    ok_chars: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    queue_ms: list[float] = field(default_factory=list)  # X-Queue-Time of 2xx answers
    inference_ms: list[float] = field(default_factory=list)  # X-Inference-Time of 2xx answers


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address in ipaddress.ip_network("127.0.0.0/8") or address == ipaddress.ip_address("::1")


def parse_clients(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {value!r}") from None
    if not counts or any(c < 1 for c in counts):
        raise argparse.ArgumentTypeError(f"client counts must be positive integers: {value!r}")
    return counts


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty list."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def batch_totals(exposition: str) -> tuple[float, float] | None:
    """(sum, count) of the zhtag_batch_texts histogram over all its label sets, or None if absent."""
    totals = {"sum": 0.0, "count": 0.0}
    seen: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            suffix = sample.name.removeprefix(BATCH_METRIC + "_")
            if sample.name.startswith(BATCH_METRIC + "_") and suffix in totals:
                totals[suffix] += sample.value
                seen.add(suffix)
    return (totals["sum"], totals["count"]) if seen == {"sum", "count"} else None


def request(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes, http.client.HTTPMessage]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read(), response.headers


def scrape_batches(host: str, port: int) -> tuple[float, float] | None:
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    try:
        status, body, _ = request(connection, "GET", "/metrics")
    except OSError:
        return None
    finally:
        connection.close()
    return batch_totals(body.decode()) if status == 200 else None


def one_client(host: str, port: int, path: str, texts: list[str], start: int, per_request: int, deadline: float) -> RunResult:
    """One client on its own keep-alive connection, in its own thread: the stdlib client
    costs far less per request than an async pool, so the load generator does not become
    the bottleneck on the same 2 cores as the server."""
    result = RunResult(clients=1)
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    cursor = start
    while time.perf_counter() < deadline and result.requests < MAX_REQUESTS:
        result.requests += 1
        batch = [texts[(cursor + j) % len(texts)] for j in range(per_request)]
        cursor += per_request
        body = json.dumps({"texts": batch}, ensure_ascii=False).encode()
        sent = time.perf_counter()
        try:
            status, _, headers = request(connection, "POST", path, body)
        except (OSError, http.client.HTTPException) as err:
            result.errors[type(err).__name__] += 1
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
            continue
        if 200 <= status < 300:
            result.ok_latencies.append(time.perf_counter() - sent)
            result.ok_chars += sum(map(len, batch))
            result.queue_ms.append(float(headers.get("X-Queue-Time", "nan")))
            result.inference_ms.append(float(headers.get("X-Inference-Time", "nan")))
        else:
            result.errors[str(status)] += 1
    connection.close()
    return result


def run_load(base: str, route: str, texts: list[str], clients: int, seconds: float, per_request: int) -> tuple[RunResult, float | None]:
    """One timed run; returns its result and the server's mean batch size over it (None if unknown)."""
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    before = scrape_batches(host, port)
    start = time.perf_counter()
    deadline = start + seconds
    with ThreadPoolExecutor(max_workers=clients) as pool:
        runs = list(pool.map(
            lambda i: one_client(host, port, f"/v1/{route}", texts, i * len(texts) // clients, per_request, deadline),
            range(clients),
        ))
    result = RunResult(clients, seconds=time.perf_counter() - start)
    for run in runs:
        result.ok_latencies += run.ok_latencies
        result.ok_chars += run.ok_chars
        result.errors += run.errors
        result.requests += run.requests
        result.queue_ms += run.queue_ms
        result.inference_ms += run.inference_ms
    after = scrape_batches(host, port)
    mean_batch = None
    if before is not None and after is not None and after[1] > before[1]:
        mean_batch = (after[0] - before[0]) / (after[1] - before[1])
    return result, mean_batch


def report(result: RunResult, mean_batch: float | None, in_process: float | None) -> str:
    ok = len(result.ok_latencies)
    chars_per_s = result.ok_chars / result.seconds
    line = f"clients {result.clients:>4}: {ok / result.seconds:,.1f} req/s, {chars_per_s:,.0f} chars/s"
    if in_process:
        line += f" ({chars_per_s / in_process:.0%} of in-process)"
    if ok:
        latencies = sorted(ms * 1000 for ms in result.ok_latencies)
        line += ", latency ms p50 {:.1f} / p95 {:.1f} / p99 {:.1f}".format(*(percentile(latencies, q) for q in (50, 95, 99)))
        for name, values in (("queue", result.queue_ms), ("inference", result.inference_ms)):
            line += ", {} p50 {:.1f} / p99 {:.1f}".format(name, *(percentile(sorted(values), q) for q in (50, 99)))
    else:
        line += ", latency ms n/a"
    errors = sum(result.errors.values())
    line += f", errors {errors}"
    if errors:
        line += " (" + ", ".join(f"{key}: {n}" for key, n in result.errors.most_common()) + ")"
    line += f", mean batch {mean_batch:.2f} texts" if mean_batch is not None else ", mean batch n/a"
    return line


def in_process_chars_per_s(model: str, texts: list[str]) -> tuple[str, float]:
    from model.tagger import Tagger  # torch is only imported when asked for

    tagger = Tagger.load(model)
    tagger.tag(texts[:10])
    start = time.perf_counter()
    tagger.tag(texts)
    return tagger.ref or model, sum(map(len, texts)) / (time.perf_counter() - start)


def check_server(base: str, route: str, text: str) -> None:
    """One request before timing: fails fast without a server, and loads the model if lazy."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=TIMEOUT_S)
    try:
        status, body, _ = request(connection, "POST", f"/v1/{route}", json.dumps({"texts": [text]}).encode())
    except OSError as err:
        sys.exit(f"error: cannot reach {base} ({type(err).__name__}); start a server first, e.g. `zhtag serve`")
    finally:
        connection.close()
    if status >= 300:
        sys.exit(f"error: POST /v1/{route} answered {status}: {body[:200]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP load on a running zhtag service.")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="loopback base URL of the service")
    parser.add_argument("--clients", type=parse_clients, default=[1, 8, 64], help="comma-separated client counts")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--route", choices=sorted(DEFAULT_MODEL), default="segment")
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--texts-per-request", type=int, default=1)
    parser.add_argument("--in-process", action="store_true", help="also time the Tagger in this process")
    parser.add_argument("--model", help="model for --in-process (default: the route's)")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    if not is_loopback(base):
        sys.exit(f"error: refusing non-loopback URL {args.url!r} (only 127.0.0.0/8, localhost, ::1)")
    if args.seconds <= 0 or args.lines < 1 or args.texts_per_request < 1:
        sys.exit("error: --seconds, --lines and --texts-per-request must be positive")

    texts = [s.text for s in read_corpus(args.corpus).sentences[: args.lines] if s.text.strip()]
    gc.collect()
    gc.freeze()  # the parsed corpus stays out of the collector: its full passes would stall the clients' timings
    if not texts:
        sys.exit(f"error: no texts in {args.corpus}")
    chars = sum(map(len, texts))
    print(f"texts {len(texts)}, chars {chars:,}, {args.texts_per_request} per request, POST {base}/v1/{args.route}")

    check_server(base, args.route, texts[0])
    in_process = None
    if args.in_process:
        ref, in_process = in_process_chars_per_s(args.model or DEFAULT_MODEL[args.route], texts)
        print(f"in-process Tagger.tag ({ref}, all {len(texts)} texts at once): {in_process:,.0f} chars/s")

    for clients in args.clients:
        result, mean_batch = run_load(base, args.route, texts, clients, args.seconds, args.texts_per_request)
        print(report(result, mean_batch, in_process), flush=True)


if __name__ == "__main__":
    main()
