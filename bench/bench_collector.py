"""Benchmark: the tracking collector's requests per second and latency on loopback.

    python bench/bench_collector.py [--seconds 10] [--clients 2] [--concurrency 32]

`funnelhouse collect` runs as its own process (one uvicorn worker, as shipped); load comes
from ``--clients`` processes, each an asyncio loop with ``--concurrency`` requests in flight
over keep-alive connections (a minimal raw HTTP/1.1 client). Three request mixes, in turn:

* pixel: ``GET /mtracking.gif`` (Mautic's pixel: one page call);
* track: ``POST /v1/track`` (one Segment call);
* batch: ``POST /v1/batch`` with 20 calls (events/s is 20× requests/s).

Then the durability check: the same load, a SIGTERM one second in, and a count of every event
answered 2xx against the events in the batch files (lost must be 0).

On a 2-core machine client and server share the cores, so figures are a lower bound of what
the server does on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.activation_servers import free_port  # noqa: E402

FUNNELHOUSE = Path(sys.executable).with_name("funnelhouse")
BATCH_SIZE = 20


def start(home: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [FUNNELHOUSE, "collect", "--home", str(home), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("collector did not start")


def request_for(mix: str, worker: int, n: int) -> tuple[bytes, list[str]]:
    """The raw HTTP/1.1 request of one iteration, and the message ids it carries."""
    ident = f"w{worker}-{n}"
    if mix == "pixel":
        query = f"page_url=https%3A%2F%2Fexample.com%2Fp%2F{n % 50}&anonymous_id=a{worker}"
        return f"GET /mtracking.gif?{query} HTTP/1.1\r\nHost: bench\r\n\r\n".encode(), []
    call = {"type": "track", "event": "Bench", "anonymousId": f"a{worker}", "messageId": ident}
    if mix == "track":
        path, body, ids = "/v1/track", call, [ident]
    else:
        batch = [{**call, "messageId": f"{ident}-{i}"} for i in range(BATCH_SIZE)]
        path, body, ids = "/v1/batch", {"batch": batch}, [c["messageId"] for c in batch]
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data, ids


async def _exchange(reader, writer, request: bytes) -> int:
    """One request on a keep-alive connection; the response's status code."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _drive(port, mix, worker, concurrency, seconds, out) -> None:
    """A minimal HTTP/1.1 keep-alive client: httpx costs ~2 ms of client CPU per request,
    more than the collector spends answering it, so it would measure itself."""
    latencies: list[float] = []
    accepted: list[str] = []
    errors = 0
    counter = iter(range(10**9))
    deadline = time.monotonic() + seconds

    async def one() -> None:
        nonlocal errors
        connection = None
        while time.monotonic() < deadline:
            request, ids = request_for(mix, worker, next(counter))
            started = time.perf_counter()
            try:
                connection = connection or await asyncio.open_connection("127.0.0.1", port)
                status = await _exchange(*connection, request)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                errors += 1
                connection = None
                await asyncio.sleep(0.01)
                continue
            latencies.append(time.perf_counter() - started)
            if status == 200:
                accepted.extend(ids)
            else:
                errors += 1
        if connection:
            connection[1].close()

    await asyncio.gather(*(one() for _ in range(concurrency)))
    out.put({"latencies": latencies, "accepted": accepted, "errors": errors})


def client(port, mix, worker, concurrency, seconds, out) -> None:
    asyncio.run(_drive(port, mix, worker, concurrency, seconds, out))


def load(port: int, mix: str, clients: int, concurrency: int, seconds: float, on_start=None):
    out = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=client, args=(port, mix, w, concurrency, seconds, out))
        for w in range(clients)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    if on_start:
        on_start()
    results = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "errors": sum(r["errors"] for r in results),
        "accepted": {i for r in results for i in r["accepted"]},
        "latencies": latencies,
    }


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def written_ids(home: Path) -> list[str]:
    return [
        json.loads(line).get("messageId")
        for path in (home / "landing" / "collector").rglob("*.jsonl")
        if not path.name.startswith(".")
        for line in path.read_text().splitlines()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    print(
        f"collector on loopback: {os.cpu_count()} cores, {args.clients} client processes × "
        f"{args.concurrency} in flight, {args.seconds:g} s per mix"
    )
    print(f"{'mix':<8}{'requests/s':>12}{'events/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    mixes = {}
    with tempfile.TemporaryDirectory(prefix="fh-bench-collector-") as scratch:
        for mix in ("pixel", "track", "batch"):
            home, port = Path(scratch) / mix, free_port()
            server = start(home, port)
            try:
                result = load(port, mix, args.clients, args.concurrency, args.seconds)
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=60)
            rate = result["requests"] / result["seconds"]
            events = rate * (BATCH_SIZE if mix == "batch" else 1)
            lat = result["latencies"]
            mixes[mix] = {
                "requests_per_s": rate,
                "events_per_s": events,
                "p50_ms": percentile(lat, 0.5) * 1000,
                "p99_ms": percentile(lat, 0.99) * 1000,
                "errors": result["errors"],
            }
            print(
                f"{mix:<8}{rate:>12,.0f}{events:>12,.0f}{percentile(lat, 0.5) * 1000:>9.1f}"
                f"{percentile(lat, 0.99) * 1000:>9.1f}{result['errors']:>8}"
            )

        home, port = Path(scratch) / "sigterm", free_port()
        server = start(home, port)
        result = load(
            port,
            "batch",
            args.clients,
            args.concurrency,
            3,
            on_start=lambda: (time.sleep(1), os.killpg(server.pid, signal.SIGTERM)),
        )
        server.wait(timeout=60)
        written = written_ids(home)
        lost = len(result["accepted"] - set(written))
        print(
            f"SIGTERM under load: {len(result['accepted']):,} events answered 2xx, "
            f"{len(written):,} in batch files, lost {lost}, duplicates "
            f"{len(written) - len(set(written))}, exit status {server.returncode}"
        )
    print("RESULT " + json.dumps({"mixes": mixes, "sigterm_lost": lost}))  # for bench/scale.py


if __name__ == "__main__":
    main()
