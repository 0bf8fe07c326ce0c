"""The soak bench's short form (bench/soak.py): a live server under mixed valid and invalid
requests answers no 5xx and its memory stays flat; flooded past its queue, it answers 429 and
serves again at once when the flood stops."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bench.soak import FIXTURE, corpus_texts, routes, serve, soak
from tests.service.conftest import free_port

MODELS = ["tcws", "tner", "tpos"]



@pytest.fixture
def server(store: Path, request: pytest.FixtureRequest):
    """`zhtag serve` on the tiny models, with the settings the test is parametrized with."""
    port = free_port()
    process = serve(store, MODELS, port, **getattr(request, "param", {}))
    yield f"http://127.0.0.1:{port}", process
    process.terminate()
    process.wait(30)


@pytest.mark.parametrize("server", [{"max_text_chars": "2000"}], indirect=True)
def test_a_short_soak_gives_no_5xx_and_flat_memory(server, store: Path) -> None:
    base, process = server
    report = soak(base, process.pid, routes(store, MODELS), corpus_texts(FIXTURE), seconds=40, clients=8, interval=5,
                  warmup=15, max_chars=2000, out=lambda line: None)
    valid = sum((s.tally.valid for s in report.samples), Counter())
    invalid = sum((s.tally.invalid for s in report.samples), Counter())
    assert report.server_errors == 0 and report.invalid_accepted == 0
    assert set(valid) == {"200"} and valid["200"] > 100
    assert invalid and all(status.startswith("4") for status in invalid)
    assert report.rss_growth < 0.20, report.summary()  # the 30-minute soak holds growth under 5% (docs/RELIABILITY.md); 40 s is noisier


@pytest.mark.parametrize("server", [{"max_queue": "2", "max_wait_ms": "20"}], indirect=True)
def test_a_flood_past_the_queue_gets_429s_then_the_service_recovers_at_once(server) -> None:
    base, _ = server
    body = {"texts": ["今天天气很好，我们去北京天安门看升旗。" * 50], "model": "tcws"}

    def flood(_: int) -> list[str]:
        with httpx.Client(base_url=base, timeout=30) as http:
            return [str(http.post("/v1/segment", json=body).status_code) for _ in range(10)]

    with ThreadPoolExecutor(32) as pool:
        statuses = Counter(s for batch in pool.map(flood, range(32)) for s in batch)
    assert statuses["429"] > 0 and set(statuses) == {"200", "429"}, statuses
    assert httpx.post(f"{base}/v1/segment", json=body, timeout=30).status_code == 200  # the first request after the flood
