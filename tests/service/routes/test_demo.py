"""The demo page as a person uses it: in headless Chromium against a live server on the
shipped models, type text, press Tag, and see the words and the entities highlighted by type;
the training jobs show with their learning curves.

Chromium is Debian's `chromium` package (`.ci/run` installs it), driven through Playwright's
Python package with `executable_path`, so no browser is downloaded; without one the test is
skipped with that reason."""
from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from model.store import Store
from service.app import create_app
from service.jobs import JobStore, jobs_path
from service.settings import Settings

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TEXT = "江泽民在北京会见了联合国秘书长。"


@pytest.fixture(scope="module")
def browser() -> str:
    """Chromium's executable; checked before the server starts, so a skip costs nothing."""
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip(f"no Chromium found on PATH (looked for {', '.join(BROWSERS)}); apt-get install chromium")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live server's store: no models of its own (the shipped ones serve), one finished job."""
    root = tmp_path_factory.mktemp("store")
    jobs = JobStore(jobs_path(root))
    job = jobs.create({"task": "ner", "name": "myner"})
    jobs.claim()
    curve = [{"epoch": 1, "loss": 0.2, "dev_f1": 80.0}, {"epoch": 2, "loss": 0.1, "dev_f1": 85.5}]
    jobs.report(job.id, {"epoch": 2, "epochs": 2, "dev_f1": 85.5, "best_dev_f1": 85.5, "curve": curve})
    jobs.finish(job.id, "succeeded", model={"name": "myner", "version": 1})
    return root


@pytest.fixture(scope="module")
def live_url(root: Path) -> Iterator[str]:
    """`zhtag serve` on the shipped cws and ner models, in a thread of this process."""
    port = _free_port()
    settings = Settings(models=["cws", "ner"], device="cpu", port=port)
    app = create_app(settings, Store(root=root))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait_ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


def test_typing_text_and_pressing_tag_highlights_its_entities(browser: str, live_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser, headless=True, args=BROWSER_ARGS)
        try:
            page = chromium.new_page()
            page.goto(live_url + "/")
            page.fill("#text", TEXT)
            page.click("#go")
            expect(page.locator("#status")).to_have_text("models: cws@1, ner@1", timeout=30_000)
            marks = page.locator("#entities mark")
            found = {(marks.nth(i).get_attribute("data-type"), marks.nth(i).evaluate("m => m.firstChild.textContent")) for i in range(marks.count())}
            colours = {marks.nth(i).evaluate("m => getComputedStyle(m).backgroundColor") for i in range(marks.count())}
            words = page.locator("#words span").all_text_contents()
            job = page.locator("#jobs .job")
            expect(job).to_contain_text("myner (ner) · succeeded · epoch 2/2, dev F1 85.5")
            curve_width = job.locator("img").evaluate("img => img.complete ? img.naturalWidth : new Promise(r => img.onload = () => r(img.naturalWidth))")
            page.screenshot(path=str(tmp_path / "demo.png"))
        finally:
            chromium.close()
    assert {("PER", "江泽民"), ("LOC", "北京"), ("ORG", "联合国")} <= found
    assert len(colours) == 3, f"each entity type has its own colour, got {colours}"
    assert "".join(words) == TEXT
    assert curve_width > 0, "the job's learning curve is shown"


def test_entities_after_an_emoji_are_highlighted_where_they_are_and_a_refused_text_says_why(browser: str, live_url: str) -> None:
    """The API counts code points; the page must too, or an emoji (two UTF-16 units) shifts
    every entity after it. A 422's list of problems is shown as text, the old answer cleared."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser, headless=True, args=BROWSER_ARGS)
        try:
            page = chromium.new_page()
            page.goto(live_url + "/")
            page.fill("#text", "😀" + TEXT)
            page.click("#go")
            expect(page.locator("#status")).to_have_text("models: cws@1, ner@1", timeout=30_000)
            marks = page.locator("#entities mark")
            found = {(marks.nth(i).get_attribute("data-type"), marks.nth(i).evaluate("m => m.firstChild.textContent")) for i in range(marks.count())}
            page.fill("#text", "好" * 10_001)
            page.click("#go")
            expect(page.locator("#status")).to_have_text("error: text longer than ZHTAG_MAX_TEXT_CHARS (10000)", timeout=30_000)
            left = page.locator("#entities mark").count()
        finally:
            chromium.close()
    assert {("PER", "江泽民"), ("LOC", "北京"), ("ORG", "联合国")} <= found
    assert left == 0
