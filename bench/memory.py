"""Peak memory (resident set, VmHWM) of zhtag's two long-lived shapes, on Linux.

    python bench/memory.py FILE [--repeats 1,2,4] [--port 8093]

1. `zhtag segment` on FILE repeated 1, 2 and 4 times: input is streamed in chunks, so the
   peak must stay flat as the input grows; then the same with all of FILE's lines joined into
   one line (a line is read in pieces, so that must stay flat too);
2. `zhtag serve` with every shipped model loaded (`ZHTAG_MODELS=cws,ner,pos`, one worker),
   after it has answered one request per model: the resident size a deployment must plan for.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from soak import serve  # bench/ is the script's own directory, first on sys.path

ZHTAG = [sys.executable, "-m", "service.cli"]


def peak_of_child(command: list[str], stdin: Path) -> int:
    """Peak resident KiB of `command` fed `stdin`, read from the kernel's accounting of one
    waited-for child (ru_maxrss of RUSAGE_CHILDREN in a fresh wrapper process)."""
    wrapper = "import resource, subprocess, sys; subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], 'rb'), stdout=subprocess.DEVNULL, check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    return int(subprocess.run([sys.executable, "-c", wrapper, str(stdin), *command], capture_output=True, text=True, check=True).stdout)


def segment_peaks(path: Path, repeats: list[int], one_line: bool) -> None:
    text = path.read_bytes().replace(b"\n", b"") if one_line else path.read_bytes()
    shape = "as one line" if one_line else "as it is"
    with tempfile.TemporaryDirectory() as tmp:
        for times in repeats:
            big = Path(tmp) / f"x{times}.txt"
            big.write_bytes(text * times + (b"\n" if one_line else b""))
            chars = len(text.decode("utf-8")) * times
            print(f"| {path.name} x{times}, {shape} | {chars:,} | {peak_of_child([*ZHTAG, 'segment', '-'], big) / 1024:,.0f} MiB |")


def serve_peak(port: int) -> None:
    store = Path(os.environ.get("ZHTAG_STORE", "~/.zhtag/store")).expanduser()
    server = serve(store, ["cws", "ner", "pos"], port)
    try:
        base = f"http://127.0.0.1:{port}"
        for route in ("segment", "ner", "pos"):
            body = json.dumps({"texts": ["江泽民在北京会见联合国秘书长安南。"]}).encode()
            urllib.request.urlopen(urllib.request.Request(f"{base}/v1/{route}", body, {"Content-Type": "application/json"}), timeout=30).read()
        status = Path(f"/proc/{server.pid}/status").read_text()
        fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status.splitlines() if ":" in line}
        print(f"\n`zhtag serve` with cws, ner and pos loaded, after one request each: peak RSS {int(fields['VmHWM'].split()[0]) / 1024:,.0f} MiB, now {int(fields['VmRSS'].split()[0]) / 1024:,.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="raw UTF-8 text, one input a line")
    parser.add_argument("--repeats", default="1,2,4")
    parser.add_argument("--port", type=int, default=8093)
    args = parser.parse_args()
    print("| `zhtag segment` input | characters | peak RSS |\n|---|---|---|")
    for one_line in (False, True):
        segment_peaks(args.file, [int(n) for n in args.repeats.split(",")], one_line)
    serve_peak(args.port)


if __name__ == "__main__":
    main()
