"""Soak a zhtag server: mixed requests for a long time, then throughput, latency, errors and RSS.

    python bench/soak.py [--minutes 30] [--clients 16] [--corpus FILE] [--models cws,ner,pos]
        [--store DIR] [--port 8765] [--interval 60] [--warmup 120] [--max-text-chars 10000]

It starts `zhtag serve` itself on 127.0.0.1 (so it can read the server's RSS from /proc), waits
for /readyz, then `--clients` threads, each on its own connection, send requests until the time
is up: a route at random among the loaded models' (segment, ner, pos), 1 to 4 texts of 1 to
`--max-text-chars` characters cut from the corpus (the tests' fixture by default), and 5% invalid
requests of six kinds (not JSON, no texts, a text too long, an unknown model, a wrong type, a
score out of range), which must get a 4xx. One line per `--interval`: requests, chars/s of
answered texts, p50/p99 latency, statuses, and the RSS of the server and its workers. The
summary gives the 5xx count and RSS growth (median of the last three samples over the first three after `--warmup`); the exit
status is 1 when any 5xx or transport error occurred.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from model.store import Store

if __package__:  # imported as bench.soak, by the tests
    from bench.http_load import percentile
else:  # run as a script (or imported by memory.py), with bench/ first on sys.path
    from http_load import percentile

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "cli" / "input.txt"
ROUTES = {"cws": "segment", "ner": "ner", "pos": "pos"}  # a model's task -> its route


@dataclass
class Tally:
    """What the clients saw in one interval."""

    latencies: list[float] = field(default_factory=list)  # seconds, of valid requests answered 200
    chars: int = 0
    valid: Counter[str] = field(default_factory=Counter)  # status (or exception name) of valid requests
    invalid: Counter[str] = field(default_factory=Counter)  # the same for the deliberately invalid ones


@dataclass(frozen=True)
class Sample:
    at_s: float
    seconds: float
    tally: Tally
    rss_mib: float

    def latency_ms(self, q: float) -> float:
        """The `q`th percentile (0 to 100) of the interval's latencies, by http_load's nearest
        rank, so that the benches' p99s compare; NaN when nothing was answered."""
        ordered = sorted(self.tally.latencies)
        return percentile(ordered, q) * 1000 if ordered else float("nan")

    def line(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted((self.tally.valid + self.tally.invalid).items()))
        requests = sum(self.tally.valid.values()) + sum(self.tally.invalid.values())
        return (f"{self.at_s:7.0f} s  {requests:6d} req  {self.tally.chars / self.seconds:9,.0f} chars/s  "
                f"p50 {self.latency_ms(50):6.1f} ms  p99 {self.latency_ms(99):7.1f} ms  RSS {self.rss_mib:7.1f} MiB  [{statuses}]")


@dataclass
class Report:
    samples: list[Sample]
    warmup_s: float

    def count(self, pick: Callable[[str], bool]) -> int:
        return sum(n for s in self.samples for tally in (s.tally.valid, s.tally.invalid) for k, n in tally.items() if pick(k))

    @property
    def server_errors(self) -> int:
        """5xx answers and transport failures (timeouts, dropped connections)."""
        return self.count(lambda status: not status.isdigit() or status.startswith("5"))

    @property
    def invalid_accepted(self) -> int:
        return sum(n for s in self.samples for k, n in s.tally.invalid.items() if k.startswith("2"))

    @property
    def rss_growth(self) -> float:
        """The median RSS of the last three samples over that of the first three after the
        warm-up, minus one: the allocator's swings of a batch or two (±5% on 2 cores) are
        not a leak, a steady climb is."""
        after = [s.rss_mib for s in self.samples if s.at_s >= self.warmup_s] or [self.samples[-1].rss_mib]
        return statistics.median(after[-3:]) / statistics.median(after[:3]) - 1

    def summary(self) -> str:
        requests = self.count(lambda status: True)
        p99s = [f"{s.latency_ms(99):.0f}" for s in self.samples]
        return (f"{requests} requests, {self.server_errors} 5xx or transport errors, {self.invalid_accepted} invalid requests accepted; "
                f"RSS {self.samples[0].rss_mib:.1f} MiB at the first sample, {self.samples[-1].rss_mib:.1f} at the end, "
                f"{100 * self.rss_growth:+.1f}% from the first to the last three samples after the {self.warmup_s:.0f} s warm-up; p99 by interval (ms): {', '.join(p99s)}")


def corpus_texts(path: Path) -> list[str]:
    texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise SystemExit(f"{path}: no text")
    return texts


def valid_body(rng: random.Random, lines: list[str], max_chars: int, model: str) -> dict:
    def text() -> str:
        size, parts = rng.randint(1, max_chars), []
        while sum(map(len, parts)) < size:
            parts.append(rng.choice(lines))
        return "".join(parts)[:size]

    return {"texts": [text() for _ in range(rng.randint(1, 4))], "model": model}


def invalid_body(rng: random.Random, max_chars: int, model: str) -> bytes:
    return rng.choice([
        b"{not json",
        json.dumps({"model": model}).encode(),
        json.dumps({"texts": ["长" * (max_chars + 1)], "model": model}).encode(),
        json.dumps({"texts": ["你好"], "model": "no-such-model"}).encode(),
        json.dumps({"texts": "你好", "model": model}).encode(),
        json.dumps({"texts": ["你好"], "model": model, "min_score": 7}).encode(),
    ])


def routes(store: Path, models: list[str]) -> dict[str, str]:
    """Each model's route, by the task its stored config names."""
    return {ref: f"/v1/{ROUTES[Store(root=store).resolve(ref).read_json('config.json')['task']]}" for ref in models}


def client(base: str, models: dict[str, str], lines: list[str], max_chars: int, seed: int, stop: threading.Event, tallies: list[Tally], lock: threading.Lock) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=60) as http:
        while not stop.is_set():
            model, route = rng.choice(sorted(models.items()))
            valid = rng.random() >= 0.05
            body = valid_body(rng, lines, max_chars, model) if valid else None
            content = json.dumps(body, ensure_ascii=False).encode() if valid else invalid_body(rng, max_chars, model)
            sent = time.perf_counter()
            try:
                status = str(http.post(route, content=content, headers={"Content-Type": "application/json"}).status_code)
            except httpx.HTTPError as err:
                status = type(err).__name__
            with lock:
                tally = tallies[-1]
                (tally.valid if valid else tally.invalid)[status] += 1
                if valid and status == "200":
                    tally.latencies.append(time.perf_counter() - sent)
                    tally.chars += sum(map(len, body["texts"]))


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` and every process below it (uvicorn's workers)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = [c for task in Path(f"/proc/{current}/task").iterdir() for c in (task / "children").read_text().split()]
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        pending += map(int, children)
    return total / 1024


def soak(base: str, pid: int, models: dict[str, str], lines: list[str], *, seconds: float, clients: int, interval: float,
         warmup: float, max_chars: int, seed: int = 1, out: Callable[[str], None] = print) -> Report:
    stop, lock = threading.Event(), threading.Lock()
    tallies = [Tally()]
    threads = [threading.Thread(target=client, args=(base, models, lines, max_chars, seed + i, stop, tallies, lock), daemon=True) for i in range(clients)]
    started = last = time.perf_counter()
    for thread in threads:
        thread.start()
    samples: list[Sample] = []
    while (now := time.perf_counter()) - started < seconds:
        time.sleep(min(interval, seconds - (now - started)))
        with lock:
            tally, tallies[-1:] = tallies[-1], [Tally()]
        now = time.perf_counter()
        samples.append(Sample(now - started, now - last, tally, rss_mib(pid)))
        last = now
        out(samples[-1].line())
    stop.set()
    for thread in threads:
        thread.join()
    return Report(samples, warmup)


def serve(store: Path | str, models: list[str], port: int, log: IO[bytes] | int = subprocess.DEVNULL, **settings: str) -> subprocess.Popen:
    """`zhtag serve` on 127.0.0.1:`port` over `store` (a path or URL), its log (stderr) to
    `log`, returned once /readyz answers 200."""
    env = {**os.environ, "ZHTAG_STORE": str(store), "ZHTAG_MODELS": ",".join(models), **{f"ZHTAG_{k.upper()}": v for k, v in settings.items()}}
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 300
    while time.time() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"zhtag serve on port {port} did not become ready (exit status {server.poll()})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--corpus", type=Path, default=FIXTURE, help="plain text, one text a line")
    parser.add_argument("--models", default="cws,ner,pos")
    parser.add_argument("--store", type=Path, default=Path(os.environ.get("ZHTAG_STORE", "~/.zhtag/store")).expanduser())
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--interval", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=120)
    parser.add_argument("--max-text-chars", type=int, default=10_000)
    args = parser.parse_args()
    models = args.models.split(",")
    server = serve(args.store, models, args.port, max_text_chars=str(args.max_text_chars))
    try:
        print(f"soak: {args.minutes} min, {args.clients} clients, models {args.models}, texts of 1-{args.max_text_chars} chars from {args.corpus}")
        report = soak(f"http://127.0.0.1:{args.port}", server.pid, routes(args.store, models), corpus_texts(args.corpus), seconds=args.minutes * 60,
                      clients=args.clients, interval=args.interval, warmup=args.warmup, max_chars=args.max_text_chars)
    finally:
        server.terminate()
        server.wait(30)
    print(report.summary())
    return 1 if report.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
