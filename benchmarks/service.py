"""Benchmark: the service under load on the loopback address (issue 18).

`nerasense serve` runs as its own process (with its compute workers); one asyncio client process keeps ``--clients``
requests in flight for ``--duration`` seconds, each client on its own keep-alive connection, mixing variant look-ups
(GET /v1/variants), assessment fetches (JSON, and the HTML report) and patient submissions (POST /v1/patients, each
with its own Idempotency-Key). Printed per backend: throughput, p50/p95/p99 latency per kind, errors, and the CPU
seconds of the server (its main process and its compute workers) and of the client over the run, with the load
average. Targets (issue 18): 0 errors and a variant look-up p99 under 1 s. The client is a few lines of plain
asyncio HTTP/1.1 (no client library), so that it takes little of the CPU the server is measured on.

With PostgreSQL a third run restarts the database half-way (``pg_ctlcluster 15 main restart``, needs root):
requests during the outage must fail with a clear 503 and succeed again after it, and every submission the
server acknowledged (201) must be in the database at the end (the rows are counted). After each run the audit
chain is checked (``nerasense audit verify``).

    python benchmarks/service.py                       # SQLite, PostgreSQL (NERASENSE_TEST_PG_URL), restart
    python benchmarks/service.py --backends sqlite --duration 20 --clients 50
    python benchmarks/service.py --backends sqlite --mix variant=1 --compute-workers 0   # one kind, no pool

Asserts nothing; the client shares the machine with the server (both are counted in the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from _machine import cpu_name

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "nerasense"
PATIENTS = sorted((REPO / "examples" / "patients").glob("0[1-8]*.yaml"))
CHANGES = ["L755S", "V777L", "D769Y", "S310F", "L869R", "T798I", "R678Q", "Y772_A775dup", "G776delinsVC",
           "V842I", "amplification", "p.Leu755Ser", "X1000Y"]  # the last one is refused (422), on purpose
MIX = [("variant", 0.60), ("fetch-json", 0.20), ("fetch-html", 0.05), ("submit", 0.15)]
PASSWORD = "benchmark password 18"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run([str(BIN), *args, "--json"], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


class Server:
    def __init__(self, url: str, data_dir: Path, compute_workers: int | None) -> None:
        self.port = free_port()
        self.env = {**os.environ, "NERASENSE_DATABASE_URL": url, "NERASENSE_DATA_DIR": str(data_dir)}
        if compute_workers is not None:
            self.env["NERASENSE_COMPUTE_WORKERS"] = str(compute_workers)
        run_cli(self.env, "users", "add", "bench", "--role", "clinician", "--team", "bench",
                "--password-file", str(self._password_file(data_dir)))
        self.token = run_cli(self.env, "users", "token", "bench", "--days", "1")["token"]
        self.log = data_dir / "server.log"
        with self.log.open("wb") as log:  # a file, not a pipe: the compute workers inherit it
            self.proc = subprocess.Popen([str(BIN), "serve", "--port", str(self.port)], env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=log)
        self.base = f"http://127.0.0.1:{self.port}"

    def cpu(self) -> tuple[float, float]:
        """CPU seconds so far of (the server process, its descendants: the compute workers)."""
        ticks = os.sysconf("SC_CLK_TCK")
        stats: dict[int, tuple[int, float]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
        own = stats.get(self.proc.pid, (0, 0.0))[1]
        below, frontier = 0.0, {self.proc.pid}
        while frontier:
            children = {pid for pid, (ppid, _) in stats.items() if ppid in frontier}
            below += sum(stats[pid][1] for pid in children)
            frontier = children
        return own, below

    @staticmethod
    def _password_file(data_dir: Path) -> Path:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "password"
        path.write_text(PASSWORD)
        return path

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.log.read_text(errors="replace")[-2000:]


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection (bodies with Content-Length or chunked); opened again after an error."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                      timeout: float = 60.0) -> Answer:
        try:
            return await asyncio.wait_for(self._request(method, path, body, headers or {}), timeout)
        except BaseException:
            self.close()
            raise

    async def _request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Authorization: Bearer {self.token}",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        got = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        if got.get("transfer-encoding", "").lower() == "chunked":
            data = bytearray()
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                data += await self.reader.readexactly(size + 2)
                del data[-2:]
            await self.reader.readuntil(b"\r\n")
            payload = bytes(data)
        else:
            payload = await self.reader.readexactly(int(got.get("content-length", "0")))
        if got.get("connection", "").lower() == "close":
            self.close()
        return Answer(int(status_line.split()[1]), got, payload)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def wait_ready(port: int, token: str) -> None:
    conn = Connection(port, token)
    for _ in range(300):
        try:
            if (await conn.request("GET", "/healthz", timeout=5)).status_code == 200:
                conn.close()
                return
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("server did not start")


async def load(server: Server, clients: int, duration: float, restart_at: float | None,
               mix: list[tuple[str, float]]) -> dict[str, Any]:
    lat: dict[str, list[float]] = defaultdict(list)
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)  # (when it began, how long it took)
    status: dict[str, dict[int | str, int]] = defaultdict(lambda: defaultdict(int))
    acknowledged: list[int] = []
    outage: list[tuple[float, int, str]] = []  # (time, status, detail) of failures
    retry_after: list[str] = []  # the Retry-After of each 503
    ids: list[int] = []
    docs = [p.read_text(encoding="utf-8").encode() for p in PATIENTS]
    yaml = {"Content-Type": "application/yaml"}
    await wait_ready(server.port, server.token)
    first = Connection(server.port, server.token)
    for text in docs:  # something to fetch from the start
        r = await first.request("POST", "/v1/patients", text, yaml)
        if r.status_code != 201:
            raise RuntimeError(f"a first submission answered {r.status_code}: {r.body[:200]!r}")
        ids.append(r.json()["assessment_id"])
        acknowledged.append(r.json()["assessment_id"])
    first.close()
    cpu0, load0 = (server.cpu(), resource.getrusage(resource.RUSAGE_SELF)), os.getloadavg()[0]
    start = time.perf_counter()
    stop_at = start + duration
    restarted: dict[str, float] = {}

    async def one_client(n: int) -> None:
        local = random.Random(n)
        conn = Connection(server.port, server.token)
        while time.perf_counter() < stop_at:
            kind = local.choices([k for k, _ in mix], [w for _, w in mix])[0]
            t0 = time.perf_counter()
            try:
                if kind == "variant":
                    query = urlencode({"gene": "ERBB2", "change": local.choice(CHANGES)})
                    r: Answer | None = await conn.request("GET", f"/v1/variants?{query}")
                elif kind.startswith("fetch"):
                    fmt = "html" if kind == "fetch-html" else "json"
                    r = await conn.request("GET", f"/v1/assessments/{local.choice(ids)}?format={fmt}")
                else:
                    r = await conn.request("POST", "/v1/patients", local.choice(docs),
                                           {**yaml, "Idempotency-Key": secrets.token_hex(12)})
                assert r is not None
                code: int | str = r.status_code
            except Exception as exc:  # a refused connection, a timeout
                code = type(exc).__name__
                r = None
            took = time.perf_counter() - t0
            status[kind][code] += 1
            ok = code == 200 or code == 201 or (kind == "variant" and code == 422)
            if ok:
                lat[kind].append(took)
                series[kind].append((t0 - start, took))
                if kind == "submit" and code == 201 and r is not None:
                    aid = r.json()["assessment_id"]
                    acknowledged.append(aid)
                    ids.append(aid)
            else:
                detail = ""
                if r is not None:
                    try:
                        detail = r.json().get("detail", "")
                    except ValueError:
                        detail = r.body[:80].decode(errors="replace")
                    if code == 503:
                        retry_after.append(r.headers.get("retry-after", ""))
                outage.append((time.perf_counter() - start, code if isinstance(code, int) else 0, f"{code} {detail}"))
        conn.close()

    async def restarter() -> None:
        assert restart_at is not None
        await asyncio.sleep(restart_at)
        restarted["begin"] = time.perf_counter() - start
        proc = await asyncio.create_subprocess_exec("pg_ctlcluster", "15", "main", "restart")
        await proc.wait()
        restarted["end"] = time.perf_counter() - start

    tasks = [asyncio.create_task(one_client(i)) for i in range(clients)]
    if restart_at is not None:
        tasks.append(asyncio.create_task(restarter()))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    (main1, workers1), me = server.cpu(), resource.getrusage(resource.RUSAGE_SELF)
    (main0, workers0), me0 = cpu0
    cpu = {"server_main_s": round(main1 - main0, 1), "server_workers_s": round(workers1 - workers0, 1),
           "client_s": round(me.ru_utime + me.ru_stime - me0.ru_utime - me0.ru_stime, 1),
           "load_average_before": round(load0, 1), "load_average_after": round(os.getloadavg()[0], 1)}
    return {"lat": lat, "status": status, "elapsed": elapsed, "acknowledged": acknowledged, "failures": outage,
            "restart": restarted, "cpu": cpu, "series": series, "retry_after": retry_after, "mix": mix}


def audit_chain(env: dict[str, str]) -> dict[str, Any]:
    """``nerasense audit verify`` over the run's database: every read and write under load left a row, chained."""
    out = subprocess.run([str(BIN), "audit", "verify", "--json"], env=env, capture_output=True, text=True)
    try:
        answer: dict[str, Any] = json.loads(out.stdout)
    except ValueError:
        return {"ok": False, "problems": out.stderr[-300:]}
    return answer


def count_rows(url: str, ids: list[int]) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            present = {row[0] for row in conn.execute(sa.text("SELECT id FROM assessments"))}
    finally:
        engine.dispose()
    return sum(1 for i in set(ids) if i in present)


def report(label: str, res: dict[str, Any], url: str) -> dict[str, Any]:
    total = sum(sum(s.values()) for s in res["status"].values())
    failures = res["failures"]
    print(f"\n== {label}: {total} requests in {res['elapsed']:.1f} s = {total / res['elapsed']:.0f} req/s")
    print(f"   {'kind':<11}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}   statuses")
    out: dict[str, Any] = {"requests": total, "seconds": round(res["elapsed"], 1),
                           "throughput": round(total / res["elapsed"], 1), "kinds": {}}
    for kind, _ in res["mix"]:
        values = res["lat"].get(kind, [])
        codes = dict(sorted(res["status"].get(kind, {}).items(), key=lambda kv: str(kv[0])))
        p50, p95, p99 = (percentile(values, q) * 1000 for q in (50, 95, 99))
        print(f"   {kind:<11}{len(values):>7}{p50:>9.0f}{p95:>9.0f}{p99:>9.0f}   {codes}")
        out["kinds"][kind] = {"n": len(values), "p50_ms": _ms(p50), "p95_ms": _ms(p95), "p99_ms": _ms(p99),
                              "statuses": {str(k): v for k, v in codes.items()}}
    by_time = []
    step = res["window"]
    for k in range(int((res["elapsed"] + step - 1e-9) // step)):
        window = [took for t, took in res["series"].get("variant", []) if step * k <= t < step * (k + 1)]
        if window:
            by_time.append((step * k, len(window), percentile(window, 99) * 1000))
    if by_time:
        print(f"   variant p99 by {step:g} s window (when the request began): "
              + ", ".join(f"{t:g}-{t + step:g} s {p:.0f} ms (n={n})" for t, n, p in by_time))
        out["variant_p99_ms_by_window"] = [[t, n, round(p)] for t, n, p in by_time]
    cpu = res["cpu"]
    print(f"   CPU over the run: server {cpu['server_main_s'] + cpu['server_workers_s']:.1f} s (main process "
          f"{cpu['server_main_s']:.1f} s, compute workers {cpu['server_workers_s']:.1f} s), client {cpu['client_s']:.1f} s, "
          f"in {res['elapsed']:.1f} s on {os.cpu_count()} cores; load average {cpu['load_average_before']:.1f} before, "
          f"{cpu['load_average_after']:.1f} after")
    out["cpu"] = cpu
    unexpected = [f for f in failures if f[1] != 503]
    print(f"   errors: {len(failures)} ({len(unexpected)} other than 503)")
    if res["retry_after"]:
        with_header = sum(1 for v in res["retry_after"] if v)
        print(f"   503 answers with a Retry-After header: {with_header} of {len(res['retry_after'])}")
        out["503_with_retry_after"] = [with_header, len(res["retry_after"])]
    if failures:
        first, last = failures[0][0], failures[-1][0]
        kinds = sorted({f[2][:110] for f in failures})
        print(f"   failures between t={first:.1f} s and t={last:.1f} s: " + "; ".join(kinds[:4]))
        out["failure_window_s"] = [round(first, 1), round(last, 1)]
        out["failure_messages"] = kinds[:6]
    if res["restart"]:
        print(f"   PostgreSQL restart from t={res['restart']['begin']:.1f} s to t={res['restart']['end']:.1f} s")
        out["restart_s"] = [round(res["restart"]["begin"], 1), round(res["restart"]["end"], 1)]
        after = [f for f in failures if f[0] > res["restart"]["end"] + 5]
        print(f"   failures later than 5 s after the restart: {len(after)}")
        out["failures_5s_after_restart"] = len(after)
    acknowledged = res["acknowledged"]
    found = count_rows(url, acknowledged)
    print(f"   acknowledged submissions: {len(set(acknowledged))}; found in the database: {found}")
    out.update(errors=len(failures), errors_not_503=len(unexpected), acknowledged=len(set(acknowledged)),
               acknowledged_found=found)
    return out


def _ms(value: float) -> int | None:
    return None if value != value else round(value)


def pg_database(admin_url: str) -> tuple[str, Any]:
    import sqlalchemy as sa

    name = f"nerasense_bench_{os.getpid()}_{secrets.token_hex(2)}"

    def admin_run(sql: str) -> None:  # a fresh connection each time: a restart ends the old ones
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(sql))
        finally:
            admin.dispose()

    admin_run(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql,restart")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--pg-url", default=os.environ.get("NERASENSE_TEST_PG_URL", ""))
    parser.add_argument("--mix", default=",".join(f"{k}={w:g}" for k, w in MIX),
                        help="kinds and weights (default %(default)s)")
    parser.add_argument("--compute-workers", type=int, default=None,
                        help="the server's compute workers (default: the server's own default)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds per window of the variant p99 over time")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "out" / "bench-service.json")
    args = parser.parse_args()
    kinds = {k for k, _ in MIX}
    try:
        mix = [(k, float(w)) for k, _, w in (part.partition("=") for part in args.mix.split(","))]
    except ValueError:
        parser.error(f"--mix {args.mix!r}: KIND=WEIGHT,... with kinds {', '.join(sorted(kinds))}")
    if not mix or any(k not in kinds or w <= 0 for k, w in mix):
        parser.error(f"--mix {args.mix!r}: KIND=WEIGHT,... with kinds {', '.join(sorted(kinds))} and weights > 0")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu_name()}; Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f} (shared machine)")
    total = sum(w for _, w in mix)
    print(f"{args.clients} concurrent clients for {args.duration:g} s; mix "
          + ", ".join(f"{k} {w / total:.0%}" for k, w in mix)
          + f"; compute workers: {'server default' if args.compute_workers is None else args.compute_workers}")
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        tmp = Path(tempfile.mkdtemp(prefix=f"nerasense-bench-{backend}-"))
        drop = None
        if backend == "sqlite":
            url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        else:
            if not args.pg_url:
                print(f"\n== {backend}: skipped (no --pg-url / NERASENSE_TEST_PG_URL)")
                continue
            if backend == "restart" and (os.geteuid() != 0 or not shutil.which("pg_ctlcluster")):
                print("\n== restart: skipped (restarting PostgreSQL needs root and pg_ctlcluster)")
                continue
            url, drop = pg_database(args.pg_url)
        server = Server(url, tmp / "data", args.compute_workers)
        try:
            res = asyncio.run(load(server, args.clients, args.duration,
                                   args.duration / 2 if backend == "restart" else None, mix))
            res["window"] = args.window
        finally:
            log = server.stop()
        label = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "restart": "PostgreSQL, restarted half-way"}[backend]
        results[backend] = report(label, res, url)
        chain = audit_chain(server.env)
        print(f"   audit chain after the run: {chain.get('rows')} rows, "
              + ("intact" if chain.get("ok") else f"BROKEN: {chain.get('problems', chain)}"))
        results[backend]["audit_chain"] = {"rows": chain.get("rows"), "ok": chain.get("ok")}
        if "Traceback" in log:
            print("   server log has a traceback:\n" + log)
        if drop is not None:
            drop()
        shutil.rmtree(tmp, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    print(f"\nfigures written to {args.output}")


if __name__ == "__main__":
    main()
