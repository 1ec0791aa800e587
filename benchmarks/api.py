"""Benchmark: the HTTP API of ``segmint serve`` on 1,000,000 customers (issue 7).

Builds (or reuses, ``--keep DIR``) ``benchmarks/refresh.py``'s synthetic store, gives every
customer an email identity, half of them a phone and all a Shopify id (the generator writes
none), refreshes it once, creates an admin key, and starts a real ``segmint serve`` on a
free port of 127.0.0.1. Then, against that server:

1. **lookups at fixed rates**: ``GET /v1/customers/{key}/segments`` from an open-loop
   generator (asyncio, raw HTTP/1.1 on keep-alive connections) at each of ``--rates`` for
   ``--seconds``. Keys are real customers': a quarter each customer ids, emails (some in
   mixed case), E.164 phones and ``sha256:`` keys. Latency counts from the *scheduled* send
   time, so a server that falls behind shows its queueing (no coordinated omission); the
   time from the actual send is shown beside it. The same generator against a static
   responder (``floor``) shows what the generator and loopback cost alone.
2. **saturation**: a closed loop at several connection counts (``wrk`` when installed, else
   the asyncio generator), the best throughput kept.
3. **event to webhook**: a receiver (``http.server`` on a thread) is registered by
   ``POST /v1/webhooks`` for ``engagement_cart_abandoners`` entries; one ``Added to Cart``
   event at a time (``--event-rate`` per second, or slower when the server is slower),
   dated now, is posted by email for customers not in that segment, and the time from the
   POST to the signed webhook's arrival is recorded, with the POST's own latency. The
   first event after the start is shown apart (it pays any compiling the server's warm-up
   has not done). Then lookups at 500 per second run again while events are posted back
   to back, to show what event processing does to them.

Measuring starts once the server is idle after its start (index built, warm-up done).

The machine this was written for has 2 cores, shared by the server and the generator; the
generator's and the server's CPU time per phase are printed so that the competition shows.
Usage::

    python benchmarks/api.py [--customers 1000000] [--keep DIR] [--rates 100,500,1000]
        [--seconds 10] [--events 50] [--event-rate 2] [--connections 4,16,64]
        [--log-level info]

``docs/performance.md`` (section *HTTP API*) has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from refresh import WORKSPACE, prepare

ROOT = Path(__file__).resolve().parents[1]
READY_FILE = "api_ready.json"  # the workspace has identities and a refresh of this code
SEGMENT = "engagement_cart_abandoners"
LOOKUP_P99_MS, LOOKUP_RATE = 5.0, 500
SATURATION_RPS = 2000
WEBHOOK_P99_S = 1.0
SAMPLE = 20_000  # customers whose keys the generator draws from
KEY_KINDS = ("id", "email", "phone", "sha256")
PHONE_BASE = 12_000_000_000  # +1 200 000 0000: E.164, one per even-numbered customer
SHOPIFY_BASE = 7_000_000_000_000
MIN_SLEEP_S = 0.001
KEEP_ALIVE_S = 4.0  # uvicorn closes a connection idle for 5 s: the generator drops it first
WEBHOOK_WAIT_S = 10.0


# -- the workspace ------------------------------------------------------------------------
def prepare_workspace(work: Path, customers: int, seed: int) -> Path:
    """The generated store in ``work``, with identities and a refresh (done once)."""
    options = argparse.Namespace(customers=customers, orders=10 * customers, events=0, seed=seed)
    prepare(work, options)
    ready = work / READY_FILE
    wanted = {"customers": customers, "seed": seed}
    workspace = work / WORKSPACE
    if ready.exists() and json.loads(ready.read_text()) == wanted:
        return workspace
    start = time.perf_counter()
    added = add_identities(workspace)
    print(f"added {added:,} identities in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    segmint(workspace, "refresh")
    print(f"refreshed the workspace in {time.perf_counter() - start:.0f} s")
    ready.write_text(json.dumps(wanted))
    return workspace


def add_identities(workspace: Path) -> int:
    """Identities as imports would have made them: every customer's email, a phone for
    every other customer, a Shopify id for all (unless the workspace has some already)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from segmint.store import Store

    store = Store(workspace)
    try:
        if store.table("identities").count().to_pyarrow().as_py():
            return 0
        people = store.table("customers").select("customer_id", "email", "first_seen_at")
        data = people.order_by("customer_id").to_pyarrow()
        n = data.num_rows
        index = np.arange(n)
        even = index[::2]

        def kind(name: str, identity: Any, rows: Any) -> pa.Table:
            return pa.table(
                {
                    "identity": identity,
                    "kind": pa.array([name] * len(rows)),
                    "customer_id": data["customer_id"].take(pa.array(rows)),
                    "first_seen_at": data["first_seen_at"].take(pa.array(rows)),
                    "import_id": np.ones(len(rows), dtype=np.int64),
                }
            )

        email = pc.binary_join_element_wise("email:", pc.utf8_lower(data["email"]), "")
        phone = pc.binary_join_element_wise(
            "phone:+", pa.array(PHONE_BASE + even).cast("string"), ""
        )
        shop = pc.binary_join_element_wise(
            "shopify:", pa.array(SHOPIFY_BASE + index).cast("string"), ""
        )
        tables = [
            kind("email", email, index),
            kind("phone", phone, even),
            kind("shopify", shop, index),
        ]
        for table in tables:
            store.insert("identities", table)
        return sum(t.num_rows for t in tables)
    finally:
        store.close()


def segmint(workspace: Path, *args: str) -> str:
    """Run a ``segmint`` command on the workspace; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "segmint", "-w", str(workspace), *args],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    if done.returncode:
        raise SystemExit(f"segmint {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


@dataclass
class People:
    """Sampled customers: their lookup keys, and the emails events are posted for."""

    keys: list[str]  # one lookup key per sampled customer, kinds in turn
    kinds: Counter[str]
    customers: list[tuple[str, str]]  # (customer id, email)


def sample_people(workspace: Path, size: int, seed: int) -> People:
    """``size`` random customers with their identities (read before the server starts:
    it holds the workspace's lock)."""
    import numpy as np

    from segmint.store import Store

    store = Store(workspace)
    try:
        ids = store.table("customers").customer_id.to_pyarrow().to_pylist()
        rng = np.random.default_rng(seed)
        chosen = [ids[i] for i in rng.choice(len(ids), min(size, len(ids)), replace=False)]
        identities = store.table("identities")
        rows = identities.filter(identities.customer_id.isin(chosen)).to_pyarrow().to_pylist()
    finally:
        store.close()
    known: dict[str, dict[str, str]] = {c: {} for c in chosen}
    for row in rows:
        known[row["customer_id"]][row["kind"]] = row["identity"].split(":", 1)[1]
    keys, kinds, customers = [], Counter(), []
    for turn, customer_id in enumerate(chosen):
        mine = known[customer_id]
        if "email" in mine:
            customers.append((customer_id, mine["email"]))
        kind, key = lookup_key(KEY_KINDS[turn % len(KEY_KINDS)], customer_id, mine, turn)
        keys.append(key)
        kinds[kind] += 1
    return People(keys, kinds, customers)


def lookup_key(kind: str, customer_id: str, mine: dict[str, str], turn: int) -> tuple[str, str]:
    """A key of ``kind`` for the customer, written as a client would (falls back to the id
    when the customer lacks that identifier)."""
    email = mine.get("email")
    if kind == "email" and email:
        return kind, email.upper() if turn % 8 == 1 else email
    if kind == "phone" and "phone" in mine:
        return kind, mine["phone"]
    if kind == "sha256" and email:
        return kind, "sha256:" + hashlib.sha256(email.encode()).hexdigest()
    return "id", customer_id


# -- the server ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A ``segmint serve`` subprocess."""

    process: subprocess.Popen
    port: int
    started_s: float  # from spawn to a healthy /healthz (imports, index build)

    def cpu_seconds(self) -> float:
        """User + system CPU of the server so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serving(workspace: Path, log: Path, log_level: str) -> Iterator[Server]:
    """Start ``segmint serve`` and wait until it answers; stop it on exit."""
    port = free_port()
    command = [sys.executable, "-m", "segmint", "-w", str(workspace), "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", log_level]
    start = time.perf_counter()
    with log.open("w") as err:
        process = subprocess.Popen(command, stdout=err, stderr=err, env=child_env())
    try:
        wait_healthy(process, port, log)
        yield Server(process, port, time.perf_counter() - start)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(process: subprocess.Popen, port: int, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"segmint serve exited ({process.returncode}):\n{log.read_text()}")
        with contextlib.suppress(OSError):
            if call(port, "GET", "/healthz")[0] == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"segmint serve did not answer within {timeout:.0f} s")


def wait_idle(cpu: Callable[[], float], timeout: float = 120, step: float = 1.0) -> float:
    """Seconds until the server used under 5% of a core over ``step`` seconds (work it
    starts in the background, such as compiling the real-time queries, is done)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        before = cpu()
        time.sleep(step)
        if cpu() - before < 0.05 * step:
            break
    return time.perf_counter() - start


def call(
    port: int, method: str, path: str, body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    """One request on a fresh connection (for set-up, not for measuring)."""
    connection = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, payload, headers)
        response = connection.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text else None
    finally:
        connection.close()


def lookup_path(key: str) -> str:
    return f"/v1/customers/{urllib.parse.quote(key, safe='@+:')}/segments"


# -- the load generator -------------------------------------------------------------------
class Connection:
    """A keep-alive HTTP/1.1 connection that sends prepared requests and reads answers
    with a Content-Length (all the API's JSON answers have one)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.used_at = time.perf_counter()

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        if match is None:
            raise ConnectionError("an answer without Content-Length")
        await self.reader.readexactly(int(match.group(1)))
        self.used_at = time.perf_counter()
        return int(head[9:12])

    def close(self) -> None:
        self.writer.close()


def prepared_requests(port: int, paths: list[str], key: str) -> list[bytes]:
    head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n\r\n"
    return [f"GET {path} HTTP/1.1\r\n{head}".encode() for path in paths]


@dataclass
class Run:
    """What one load phase measured (latencies in seconds)."""

    sent: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # from the scheduled send
    service: list[float] = field(default_factory=list)  # from the actual send
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    connections: int = 0
    generator_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    reported: dict[int, float] = field(default_factory=dict)  # percentiles a tool printed

    def p(self, percent: int) -> float:
        """A latency percentile (seconds, from the scheduled send time)."""
        return self.reported.get(percent) or percentile(self.latencies, percent)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


class Pool:
    """Keep-alive connections, opened on demand up to ``limit``; requests beyond wait."""

    def __init__(self, port: int, limit: int):
        self.port, self.limit = port, limit
        self.idle: list[Connection] = []
        self.waiting: list[asyncio.Future[Connection]] = []
        self.opened = self.peak = 0

    async def acquire(self) -> Connection:
        while self.idle:
            connection = self.idle.pop()
            if time.perf_counter() - connection.used_at < KEEP_ALIVE_S:
                return connection
            self.discard(connection)
        if self.opened < self.limit:
            self.opened += 1
            self.peak = max(self.peak, self.opened)
            try:
                return await Connection.open(self.port)
            except OSError:
                self.opened -= 1
                raise
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        return await waiter

    def release(self, connection: Connection) -> None:
        while self.waiting:
            waiter = self.waiting.pop(0)
            if not waiter.done():
                waiter.set_result(connection)
                return
        self.idle.append(connection)

    def discard(self, connection: Connection) -> None:
        connection.close()
        self.opened -= 1

    def close(self) -> None:
        for connection in self.idle:
            connection.close()


async def open_loop(
    port: int, requests: list[bytes], rate: float, seconds: float, limit: int = 256
) -> Run:
    """Send ``rate`` requests per second for ``seconds`` on schedule, whatever the answers'
    pace (a request waits for a free connection when ``limit`` are busy)."""
    run, pool, tasks = Run(), Pool(port, limit), set()
    total = max(1, int(rate * seconds))

    async def one(i: int, scheduled: float) -> None:
        for _attempt in (1, 2):  # a connection the server closed is replaced once
            try:
                connection = await pool.acquire()
            except OSError:
                break
            sent = time.perf_counter()
            try:
                status = await connection.exchange(requests[i % len(requests)])
            except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError):
                pool.discard(connection)
                continue
            done = time.perf_counter()
            run.statuses[status] += 1
            run.latencies.append(done - scheduled)
            run.service.append(done - sent)
            pool.release(connection)
            return
        run.errors += 1

    for _ in range(min(8, limit)):  # warm connections: opening one is not the lookup's cost
        pool.opened += 1
        pool.release(await Connection.open(port))
    pool.peak = pool.opened
    start = time.perf_counter() + 0.05
    i = 0
    while i < total:
        now = time.perf_counter()
        while i < total and start + i / rate <= now:
            task = asyncio.create_task(one(i, start + i / rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        if i < total:  # timers have a resolution of 1 ms: a shorter sleep would spin
            await asyncio.sleep(max(MIN_SLEEP_S, start + i / rate - now))
    await asyncio.gather(*tasks)
    run.sent, run.seconds, run.connections = total, time.perf_counter() - start, pool.peak
    pool.close()
    return run


async def closed_loop(port: int, requests: list[bytes], connections: int, seconds: float) -> Run:
    """``connections`` clients, each sending its next request as soon as it has an answer."""
    run = Run(connections=connections)
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        connection = await Connection.open(port)
        i = offset
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                status = await connection.exchange(requests[i % len(requests)])
                run.latencies.append(time.perf_counter() - sent)
                run.statuses[status] += 1
                i += connections
        except (OSError, asyncio.IncompleteReadError, ConnectionError):
            run.errors += 1
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(connections)))
    run.seconds = time.perf_counter() - start
    run.sent = sum(run.statuses.values()) + run.errors
    run.service = run.latencies
    return run


def measured(server_cpu: Callable[[], float], work: Callable[[], Run]) -> Run:
    """Run a phase, adding the generator's (this process's) and the server's CPU time."""
    generator, server = time.process_time(), server_cpu()
    run = work()
    run.generator_cpu_s += time.process_time() - generator  # wrk's own CPU is already in
    run.server_cpu_s = server_cpu() - server
    return run


def event_loop_runner() -> Callable[[Any], Any]:
    """``asyncio.run``, on uvloop when installed (the cheaper loop for the generator)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run

    def run(coroutine: Any) -> Any:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine)

    return run


WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local i = %(offset)d
wrk.headers["Authorization"] = "Bearer %(key)s"
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk_run(port: int, paths: list[str], key: str, connections: int, seconds: float) -> Run:
    """``wrk`` (one thread) at ``connections`` connections, keys in turn; its CPU time is
    the generator's."""
    folder = Path(tempfile.mkdtemp(prefix="segmint-wrk-"))
    try:
        (folder / "paths.txt").write_text("\n".join(paths) + "\n")
        script = WRK_SCRIPT % {"paths": folder / "paths.txt", "offset": 0, "key": key}
        (folder / "paths.lua").write_text(script)
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        command += ["--latency", "-s", str(folder / "paths.lua"), f"http://127.0.0.1:{port}"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    run = parse_wrk(out, connections)
    run.generator_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return run


def parse_wrk(out: str, connections: int) -> Run:
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", out).group(1))
    elapsed = re.search(r"requests in ([\d.]+)(ms|s|m)\b", out)
    seconds = float(elapsed.group(1)) * {"ms": 1e-3, "s": 1.0, "m": 60.0}[elapsed.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    run = Run(sent=requests, seconds=seconds, connections=connections)
    run.statuses[200] = requests - (int(bad.group(1)) if bad else 0)
    if bad:
        run.statuses[0] = int(bad.group(1))
    run.errors = sum(int(g) for g in errors.groups()) if errors else 0
    run.reported = {p: wrk_latency(out, p) for p in (50, 90, 99)}
    return run


def wrk_latency(out: str, percentile: int) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)$", out, re.M)
    if match is None:
        return math.nan
    return float(match.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[match.group(2)]


# -- a static responder: the generator's own floor ----------------------------------------
FLOOR_BODY = json.dumps({"customer_id": "c_0", "segments": [], "refresh_id": 1}).encode()


class Responder(asyncio.Protocol):
    """Answers every request (no body) with the same small JSON: a server that costs
    nothing, so the generator's latency against it is the generator's and loopback's."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            self.transport.write(head % len(FLOOR_BODY) + b"\r\n" + FLOOR_BODY)


def serve_floor(port: int) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Responder, "127.0.0.1", port)
        await server.serve_forever()

    event_loop_runner()(main())


@contextlib.contextmanager
def floor_server() -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--floor-server", str(port)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait()


# -- the webhook receiver -----------------------------------------------------------------
class Receiver:
    """An HTTP server on a thread that records when each customer's delivery arrived and
    whether its signature verifies."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.bodies: dict[str, bytes] = {}
        self.signatures: dict[str, str] = {}
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.perf_counter()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with contextlib.suppress(ValueError, KeyError):
                    customer_id = json.loads(body)["customer_id"]
                    with receiver.changed:
                        receiver.arrived.setdefault(customer_id, now)
                        receiver.bodies[customer_id] = body
                        receiver.signatures[customer_id] = self.headers["Segmint-Signature"]
                        receiver.changed.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hooks/segmint"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def wait_for(self, customer_id: str, timeout: float) -> float | None:
        deadline = time.perf_counter() + timeout
        with self.changed:
            while customer_id not in self.arrived:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self.changed.wait(left)
            return self.arrived[customer_id]

    def verified(self, secret: str) -> int:
        from segmint.webhooks.signing import verify

        return sum(
            verify(secret, self.bodies[c], self.signatures[c], tolerance_s=3600)
            for c in self.bodies
        )

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@dataclass
class EventRun:
    posted: list[float] = field(default_factory=list)  # POST /v1/events latency
    delivered: list[float] = field(default_factory=list)  # POST sent -> webhook received
    first_post: float | None = None
    first_delivered: float | None = None
    not_entered: int = 0
    missing: int = 0
    failed: int = 0
    verified: int = 0


def outsiders(port: int, key: str, customers: list[tuple[str, str]], wanted: int) -> list:
    """Customers (id, email) not in :data:`SEGMENT` now, asked of the server itself."""
    found = []
    for customer_id, email in customers:
        status, body = call(port, "GET", lookup_path(customer_id), key=key)
        if status == 200 and SEGMENT not in {s["segment"] for s in body["segments"]}:
            found.append((customer_id, email))
            if len(found) == wanted:
                break
    return found


def events_to_webhook(port: int, key: str, people: People, count: int, rate: float) -> EventRun:
    """Post ``count + 1`` cart events one at a time, each for a customer not in
    :data:`SEGMENT`, and wait for each one's webhook; the first is kept apart."""
    run, receiver = EventRun(), Receiver()
    body = {"url": receiver.url, "segments": [SEGMENT], "on": ["enter"]}
    status, created = call(port, "POST", "/v1/webhooks", body, key)
    if status != 201:
        raise SystemExit(f"POST /v1/webhooks answered {status}: {created}")
    webhook = created["webhook"]
    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for i, (customer_id, email) in enumerate(
            outsiders(port, key, people.customers[::-1], count + 1)
        ):
            slot = time.perf_counter() + 1 / rate
            sent = time.perf_counter()
            status, answer = post_cart_event(connection, key, email)
            posted = time.perf_counter() - sent
            if status != 200:
                run.failed += 1
                print(f"POST /v1/events answered {status}: {answer}", file=sys.stderr)
                continue
            entered = SEGMENT in {s for c in answer["customers"] for s in c["entered"]}
            arrived = receiver.wait_for(customer_id, WEBHOOK_WAIT_S) if entered else None
            delivered = None if arrived is None else arrived - sent
            run.not_entered += not entered
            run.missing += entered and delivered is None
            if i == 0:
                run.first_post, run.first_delivered = posted, delivered
            else:
                run.posted.append(posted)
                run.delivered += [] if delivered is None else [delivered]
            time.sleep(max(0.0, slot - time.perf_counter()))
        run.verified = receiver.verified(webhook["secret"])
    finally:
        connection.close()
        status, answer = call(port, "DELETE", f"/v1/webhooks/{webhook['webhook_id']}", key=key)
        if status != 200:
            print(f"DELETE /v1/webhooks answered {status}: {answer}", file=sys.stderr)
        receiver.close()
    return run


def post_cart_event(connection: HTTPConnection, key: str, email: str) -> tuple[int, Any]:
    """``POST /v1/events``: an ``Added to Cart`` of now by ``email``; the status and body."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event = {
        "event": "Added to Cart",
        "time": now,
        "email": email,
        "properties": {"product_id": "SKU-00001", "category": "shirts"},
    }
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connection.request("POST", "/v1/events", json.dumps(event).encode(), headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def lookups_during_events(
    port: int, key: str, people: People, requests: list[bytes], seconds: float
) -> Run:
    """Lookups at :data:`LOOKUP_RATE` for ``seconds`` while events are posted one after
    another (each waits for the previous answer) on another thread."""
    count = max(2, math.ceil(seconds / 2))
    poster = threading.Thread(
        target=events_to_webhook, args=(port, key, people, count, 1000.0), daemon=True
    )
    poster.start()
    time.sleep(1.0)  # the poster first picks its customers
    run = event_loop_runner()(open_loop(port, requests, LOOKUP_RATE, seconds))
    poster.join()
    return run


# -- figures ------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least ``p`` percent of values at or below."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.2f}"


def in_ms(seconds: float | None, digits: int = 3) -> float | None:
    """Milliseconds for the JSON line (null when not measured)."""
    return None if seconds is None or math.isnan(seconds) else round(seconds * 1000, digits)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_fixed(runs: dict[int, Run], floors: dict[int, Run]) -> None:
    print("\nlookups at fixed rates (open loop; latency in ms from the scheduled send time)")
    print(
        f"{'rate':>6}{'sent':>8}{'200s':>8}{'other':>7}{'rps':>8}{'p50':>8}{'p95':>8}{'p99':>8}"
        f"{'max':>9}{'send p99':>10}{'floor p99':>10}{'server CPU':>11}{'gen CPU':>9}"
    )
    for rate, run in runs.items():
        floor = floors.get(rate)
        other = sum(v for s, v in run.statuses.items() if s != 200) + run.errors
        print(
            f"{rate:>6}{run.sent:>8,}{run.ok:>8,}{other:>7,}{run.throughput:>8.0f}"
            f"{ms(percentile(run.latencies, 50)):>8}{ms(percentile(run.latencies, 95)):>8}"
            f"{ms(percentile(run.latencies, 99)):>8}{ms(max(run.latencies, default=math.nan)):>9}"
            f"{ms(percentile(run.service, 99)):>10}"
            f"{ms(percentile(floor.latencies, 99)) if floor else '-':>10}"
            f"{run.server_cpu_s / run.seconds:>10.0%} {run.generator_cpu_s / run.seconds:>8.0%}"
        )
    print(
        "send p99: from the actual send (no queueing in the generator); floor p99: the same "
        "generator against a static responder; CPU: share of one core over the phase"
    )


def print_saturation(runs: list[Run], tool: str) -> None:
    print(f"\nsaturation (closed loop, {tool}; latency in ms)")
    print(
        f"{'conns':>6}{'requests':>10}{'rps':>8}{'p50':>8}{'p99':>8}"
        f"{'server CPU':>11}{'gen CPU':>9}"
    )
    for run in runs:
        print(
            f"{run.connections:>6}{run.ok:>10,}{run.throughput:>8.0f}"
            f"{ms(run.p(50)):>8}{ms(run.p(99)):>8}"
            f"{run.server_cpu_s / run.seconds:>10.0%} {run.generator_cpu_s / run.seconds:>8.0%}"
        )


def print_events(run: EventRun) -> None:
    print(f"\nevent to webhook ({len(run.posted)} events after the first, one at a time; ms)")
    print(f"{'':<28}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'first':>9}")
    for label, values, first in (
        ("POST /v1/events", run.posted, run.first_post),
        ("POST sent -> webhook in", run.delivered, run.first_delivered),
    ):
        print(
            f"{label:<28}{ms(percentile(values, 50)):>9}{ms(percentile(values, 95)):>9}"
            f"{ms(percentile(values, 99)):>9}{ms(max(values, default=math.nan)):>9}"
            f"{ms(first if first is not None else math.nan):>9}"
        )
    print(
        f"first: the first event after the start; "
        f"signatures verified {run.verified}, no entry {run.not_entered}, "
        f"webhook missing after {WEBHOOK_WAIT_S:.0f} s {run.missing}, failed posts {run.failed}"
    )


def targets(fixed: dict[int, Run], saturation: list[Run], events: EventRun | None) -> list[str]:
    lines = []
    at = fixed.get(LOOKUP_RATE)
    if at is not None:
        p99 = percentile(at.latencies, 99) * 1000
        lines.append(
            f"lookup p99 at {LOOKUP_RATE} rps: {p99:.2f} ms (< {LOOKUP_P99_MS:g} ms, "
            f"{p99 / LOOKUP_P99_MS:.2f}x the target): {verdict(p99 < LOOKUP_P99_MS)}"
        )
    if saturation:
        best = max(run.throughput for run in saturation)
        lines.append(
            f"lookups at saturation: {best:,.0f} per second (>= {SATURATION_RPS:,}, "
            f"{best / SATURATION_RPS:.2f}x the target): {verdict(best >= SATURATION_RPS)}"
        )
    if events is not None and events.delivered:
        p99 = percentile(events.delivered, 99)
        ok = p99 < WEBHOOK_P99_S and not events.missing
        lines.append(
            f"event to webhook p99: {p99 * 1000:.0f} ms (< {WEBHOOK_P99_S * 1000:.0f} ms, "
            f"{p99 / WEBHOOK_P99_S:.2f}x the target): {verdict(ok)}"
        )
    return lines


def summary(run: Run) -> dict[str, Any]:
    return {
        "sent": run.sent,
        "ok": run.ok,
        "errors": run.errors + sum(v for s, v in run.statuses.items() if s != 200),
        "rps": round(run.throughput, 1),
        "connections": run.connections,
        **{f"p{p}_ms": in_ms(run.p(p)) for p in (50, 95, 99)},
        "send_p99_ms": in_ms(percentile(run.service, 99)),
        "server_cpu_s": round(run.server_cpu_s, 2),
        "generator_cpu_s": round(run.generator_cpu_s, 2),
    }


# -- the driver ---------------------------------------------------------------------------
def remove_stale_webhooks(workspace: Path) -> int:
    """Remove webhooks an interrupted earlier run left behind: their receivers are gone, and
    retrying their deliveries would load the server being measured."""
    from segmint.webhooks.registry import list_webhooks, remove_webhook
    from segmint.workspace import Workspace

    with Workspace(workspace) as ws:
        stale = list_webhooks(ws.store)
        for webhook in stale:
            remove_webhook(ws.store, webhook.webhook_id)
    return len(stale)


def measure(args: argparse.Namespace, workspace: Path, people: People) -> dict[str, Any]:
    if removed := remove_stale_webhooks(workspace):
        print(f"removed {removed} webhook(s) left by an earlier run")
    key = segmint(workspace, "api-key", "create", "--scope", "admin", "--rate-limit", "100000")
    key = key.strip().splitlines()[-1].strip()
    run_async = event_loop_runner()
    rates = [int(r) for r in args.rates.split(",") if r]
    with serving(workspace, workspace.parent / "serve.log", args.log_level) as server:
        print(f"segmint serve answered {server.started_s:.1f} s after its start (index built)")
        idle = wait_idle(server.cpu_seconds)
        print(f"and was idle {idle:.1f} s later (its start-up work, such as a warm-up, done)")
        port, cpu = server.port, server.cpu_seconds
        requests = prepared_requests(port, [lookup_path(k) for k in people.keys], key)
        run_async(open_loop(port, requests, 200, 2))  # warm-up: imports, first requests
        fixed = {
            rate: measured(
                cpu, lambda r=rate: run_async(open_loop(port, requests, r, args.seconds))
            )
            for rate in rates
        }
        tool = "wrk" if shutil.which("wrk") else "asyncio"
        paths = [lookup_path(k) for k in people.keys]
        saturation = []
        for connections in [int(c) for c in args.connections.split(",") if c]:
            if tool == "wrk":
                work = lambda c=connections: wrk_run(port, paths, key, c, args.seconds)  # noqa: E731
            else:
                work = lambda c=connections: run_async(  # noqa: E731
                    closed_loop(port, requests, c, args.seconds)
                )
            saturation.append(measured(cpu, work))
        events = mixed = None
        if args.events:
            events = events_to_webhook(port, key, people, args.events, args.event_rate)
            mixed = measured(
                cpu, lambda: lookups_during_events(port, key, people, requests, args.seconds)
            )
    with floor_server() as floor_port:
        floor_requests = prepared_requests(floor_port, ["/"], key)
        floors = {
            rate: run_async(open_loop(floor_port, floor_requests, rate, args.seconds))
            for rate in rates
        }
    print(
        f"\n{os.cpu_count()} CPUs shared by the server and the load generator (not isolated); "
        f"load average before: {args.load_before}; keys: "
        + ", ".join(f"{n:,} {k}" for k, n in people.kinds.items())
    )
    print_fixed(fixed, floors)
    print_saturation(saturation, tool)
    if events is not None:
        print_events(events)
    if mixed is not None:
        print(
            f"\nlookups at {LOOKUP_RATE} rps while events are posted back to back: "
            + ", ".join(f"p{p} {ms(mixed.p(p))}" for p in (50, 95, 99))
            + f", max {ms(max(mixed.latencies, default=math.nan))} ms"
        )
    print()
    for line in targets(fixed, saturation, events):
        print(f"target: {line}")
    return {
        "server_start_s": round(server.started_s, 1),
        "fixed": {str(rate): summary(run) for rate, run in fixed.items()},
        "floor": {str(rate): summary(run) for rate, run in floors.items()},
        "saturation": [summary(run) for run in saturation],
        "saturation_tool": tool,
        "events": None if events is None else events_summary(events),
        "lookups_during_events": None if mixed is None else summary(mixed),
    }


def events_summary(run: EventRun) -> dict[str, Any]:
    return {
        "events": len(run.posted),
        **{f"post_p{p}_ms": in_ms(percentile(run.posted, p), 1) for p in (50, 95, 99)},
        **{f"webhook_p{p}_ms": in_ms(percentile(run.delivered, p), 1) for p in (50, 95, 99)},
        "first_post_ms": in_ms(run.first_post, 1),
        "first_webhook_ms": in_ms(run.first_delivered, 1),
        "missing": run.missing,
        "not_entered": run.not_entered,
        "verified": run.verified,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated data here")
    parser.add_argument("--rates", default="100,500,1000", help="fixed lookup rates, per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per load phase")
    parser.add_argument("--connections", default="4,16,64", help="saturation connection counts")
    parser.add_argument("--events", type=int, default=50, help="events posted (0: none)")
    parser.add_argument("--event-rate", type=float, default=2.0, help="events per second")
    parser.add_argument("--log-level", default="info", help="segmint serve's --log-level")
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_server:
        serve_floor(args.floor_server)
        return
    args.load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    work = args.keep or Path(tempfile.mkdtemp(prefix="segmint-apibench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        workspace = prepare_workspace(work, args.customers, args.seed)
        people = sample_people(workspace, SAMPLE, args.seed)
        print(json.dumps(measure(args, workspace, people)))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
