"""The store's user root in object storage: any fsspec URL (`s3://bucket/prefix`, `gs://...`,
`memory://...`), for replicas and trainers on several machines sharing one store.

Object stores have no rename, so the store's promises are kept with exclusive creates
(S3's `If-None-Match: *`, which s3fs sends for `mode="create"`):
- a writer claims version N by creating `<name>/N/.claim`; losing that race means N+1;
- it uploads the files, then `<name>/N/manifest.json` last: readers list only versions whose
  manifest exists, and `resolve` verifies every file against it;
- aliases are numbered generations, `<name>/aliases/<generation>.json`, each created once:
  an update reads the newest, and writes the next number or, if a rival wrote it first,
  reads again and reapplies its change. No update is ever lost. Each record holds the whole
  history, so all but the last few are deleted.
Listings are never cached, so a replica sees another's activation at its next poll.
On a backend whose exclusive create is not atomic, fsspec checks then writes: one writer at
a time is then the safe way to use it.
"""
from __future__ import annotations

import functools
import json
import os
import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from data.errors import CheckpointError, ZhtagError
from model.store import MANIFEST, NAME, VERSION, Aliases

CLAIM = ".claim"
ALIASES = "aliases"
_GENERATION = re.compile(r"([0-9]{12})\.json")
KEPT_GENERATIONS = 8  # alias records kept: enough that a reader never misses the newest it listed
F = TypeVar("F", bound=Callable[..., Any])


def _plainly(method: F) -> F:
    """An object store's client raises errors of its own (botocore's, for S3: no endpoint,
    no credentials), which the CLI would print as a traceback and a server's watch could not
    tell from a bug: they become the store's CheckpointError, in one line."""

    @functools.wraps(method)
    def said(self: "ObjectRoot", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (ZhtagError, OSError):
            raise
        except Exception as err:
            raise CheckpointError(f"cannot use the store {self.url}: {type(err).__name__}: {err}") from err

    return said  # type: ignore[return-value]


class ObjectRoot:
    def __init__(self, url: str) -> None:
        import fsspec

        self.url = url.rstrip("/")
        try:
            options = json.loads(os.environ.get("ZHTAG_STORE_OPTIONS") or "{}")  # e.g. {"endpoint_url": ...} for s3
            if not isinstance(options, dict):
                raise ValueError("ZHTAG_STORE_OPTIONS must be a JSON object")
            self.fs, self.base = fsspec.core.url_to_fs(self.url, use_listings_cache=False, skip_instance_cache=True, **options)
        except (ImportError, ValueError, TypeError) as err:
            raise CheckpointError(f"cannot open the store {self.url}: {err}") from err

    def where(self, name: str, version: int) -> str:
        return f"{self.url}/{name}/{version}"

    def _key(self, *parts: object) -> str:
        return "/".join([self.base, *map(str, parts)])

    def _children(self, *parts: object) -> set[str]:
        """Names directly under a prefix (objects and common prefixes alike)."""
        self.fs.invalidate_cache()
        try:
            entries = self.fs.ls(self._key(*parts), detail=False)
        except FileNotFoundError:
            return set()
        return {entry.rstrip("/").rsplit("/", 1)[-1] for entry in entries}

    @_plainly
    def names(self) -> set[str]:
        return {child for child in self._children() if NAME.fullmatch(child)}

    @_plainly
    def versions(self, name: str) -> set[int]:
        """Versions whose manifest exists: a claimed version still uploading is not one. One
        listing of every object under the name, which S3 answers in one request a thousand
        keys: a glob listed each version's folder apart, 8 requests for 4 versions, at every
        replica's every poll."""
        self.fs.invalidate_cache()
        prefix = self._key(name) + "/"
        try:
            keys = self.fs.find(prefix)
        except FileNotFoundError:
            return set()
        numbers = (key[len(prefix) :].split("/") for key in keys if key.startswith(prefix))
        return {int(parts[0]) for parts in numbers if len(parts) == 2 and parts[1] == MANIFEST and VERSION.fullmatch(parts[0])}

    @_plainly
    def read(self, name: str, version: int, filename: str) -> bytes:
        return self.fs.cat_file(self._key(name, version, filename))

    @_plainly
    def publish(self, name: str, files: dict[str, bytes], first_free: Callable[[], int], manifest: Callable[[int], bytes]) -> int:
        version = first_free()
        while not self._create(self._key(name, version, CLAIM), uuid.uuid4().hex.encode()):
            version = max(version + 1, first_free())
        for filename, content in files.items():
            self.fs.pipe_file(self._key(name, version, filename), content)
        if not self._create(self._key(name, version, MANIFEST), manifest(version)):
            raise CheckpointError(f"{self.where(name, version)} was published by another writer despite this one's claim")
        return version

    @_plainly
    def check_writable(self) -> None:
        """Create and remove an object under the store's prefix: what publishing will do."""
        key = self._key(f".probe-{uuid.uuid4().hex}")
        self.fs.pipe_file(key, b"")
        self.fs.rm(key)

    @_plainly
    def aliases(self, name: str) -> Aliases:
        return self._newest(name)[1]

    @_plainly
    def update_aliases(self, name: str, change: Callable[[Aliases], Aliases]) -> None:
        while True:
            generation, current = self._newest(name)
            new = change(current)
            record = json.dumps({"active": new.active, "history": list(new.history)}).encode()
            if self._create(self._key(name, ALIASES, f"{generation + 1:012d}.json"), record):
                self._prune(name, generation + 1)
                return

    def _prune(self, name: str, newest: int) -> None:
        """Delete the alias records older than the last KEPT_GENERATIONS: each holds the whole
        activation history, so only the newest is read, and every replica lists them all at
        every poll. A reader that listed just before still finds the one it chose."""
        old = [g for child in self._children(name, ALIASES) if (m := _GENERATION.fullmatch(child)) and (g := int(m[1])) <= newest - KEPT_GENERATIONS]
        if old:
            self.fs.rm([self._key(name, ALIASES, f"{g:012d}.json") for g in old])

    def _newest(self, name: str) -> tuple[int, Aliases]:
        generations = [int(m[1]) for child in self._children(name, ALIASES) if (m := _GENERATION.fullmatch(child))]
        if not generations:
            return 0, Aliases()
        newest = max(generations)
        try:
            record = json.loads(self.fs.cat_file(self._key(name, ALIASES, f"{newest:012d}.json")))
            return newest, Aliases(int(record["active"]), tuple(int(v) for v in record["history"]))
        except (ValueError, KeyError, TypeError) as err:
            raise CheckpointError(f"{self.url}/{name}/{ALIASES}/{newest:012d}.json is not an aliases record: {err}") from err

    def _create(self, key: str, content: bytes) -> bool:
        """Write `key` only if it does not exist yet; False when it already did."""
        try:
            self.fs.pipe_file(key, content, mode="create")
        except FileExistsError:
            return False
        except OSError as err:
            if _precondition_failed(err):
                return False
            raise
        return True


def _precondition_failed(err: OSError) -> bool:
    """A 412 that s3fs could not tell from other errors: some servers (radosgw) leave out
    which condition failed, so it arrives as a plain OSError caused by the S3 error."""
    response = getattr(err.__cause__, "response", None) or {}
    return response.get("Error", {}).get("Code") == "PreconditionFailed" or "PreconditionFailed" in str(err)
