"""Prometheus metrics of one app, in a registry of its own so that several apps (tests) never
share or clash over global collectors.

With several worker processes (`zhtag serve --workers N`) a scrape reaches one of them, so
values go through prometheus-client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` (set by
`zhtag serve`) holds every worker's values and each scrape merges them."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("zhtag_requests", "HTTP requests by route and status", ["route", "status"], registry=r)
        self.latency = Histogram("zhtag_request_seconds", "HTTP request latency", ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch_texts = Histogram(
            "zhtag_batch_texts", "texts per tagger call", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), registry=r
        )
        self.batch_chars = Histogram(
            "zhtag_batch_chars", "characters per tagger call", buckets=(100, 500, 1000, 2000, 4000, 8000, 16000, 32000), registry=r
        )
        self.batch_wait = Histogram("zhtag_batch_wait_seconds", "time a request waited for its batch", buckets=LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("zhtag_queue_depth", "requests waiting for a batch (a large one counts once per part)", registry=r, multiprocess_mode="livesum")
        self.active_version = Gauge(
            "zhtag_model_active_version", "active version of each served model", ["name"], registry=r, multiprocess_mode="livemax"
        )
        self.warm = Gauge("zhtag_workers_ready", "worker processes whose startup models are warm", registry=r, multiprocess_mode="livesum")

    def observe_batch(self, texts: int, chars: int) -> None:
        self.batch_texts.observe(texts)
        self.batch_chars.observe(chars)

    def exposition(self) -> bytes:
        return generate_latest(self._merged())

    def workers_ready(self) -> int:
        """Worker processes whose startup models are warm, over every live worker: `/readyz`
        is answered by whichever worker takes the probe, and must not say ready while another
        would still answer 503. A worker that died without shutting down (killed, out of
        memory) is dropped first: uvicorn starts another in its place, and the dead one's
        value would otherwise count for the new one while it loads. Only the live gauges'
        files are read: a probe must stay cheap however many histograms the workers keep.
        Asked only where the workers share their values (`shared`): unshared, the worker
        answering has just said it is ready itself."""
        files = _live_gauges(os.environ[MULTIPROCESS_DIR])
        merged = multiprocess.MultiProcessCollector.merge([str(path) for path in files], accumulate=False)
        return int(sum(s.value for metric in merged if metric.name == "zhtag_workers_ready" for s in metric.samples))

    @property
    def shared(self) -> bool:
        """Whether several workers share their values (`zhtag serve --workers N` sets it up)."""
        return bool(os.environ.get(MULTIPROCESS_DIR))

    def _merged(self) -> CollectorRegistry:
        """This app's registry, or with several workers every live worker's values merged."""
        if not self.shared:
            return self.registry
        _live_gauges(os.environ[MULTIPROCESS_DIR])  # a worker gone without shutting down leaves its live gauges: dropped first
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return merged

    def worker_exited(self) -> None:
        """Drop this worker's live gauges from the merged view."""
        if self.shared:
            multiprocess.mark_process_dead(os.getpid())


def _live_gauges(directory: str) -> list[Path]:
    """The files of the live-summed gauges of worker processes still running. Those of a
    process that is gone are deleted (`mark_process_dead` on its behalf; two workers may race
    to it), and a file not named as prometheus-client names them is left alone."""
    kept = []
    for path in Path(directory).glob("gauge_livesum_*.db"):
        pid = path.stem.rsplit("_", 1)[1]
        if not pid.isdigit():
            continue
        if _alive(int(pid)):
            kept.append(path)
        else:
            with contextlib.suppress(FileNotFoundError):
                multiprocess.mark_process_dead(int(pid), directory)
    return kept


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal: whether the process exists (another user's answers PermissionError)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
