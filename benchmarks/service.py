"""Benchmark: the service under load on the loopback address (issue 18).

`nerasense serve` runs as its own process; one asyncio client process keeps ``--clients`` requests in flight for
``--duration`` seconds, mixing variant look-ups (GET /v1/variants), assessment fetches (JSON, and the HTML report)
and patient submissions (POST /v1/patients, each with its own Idempotency-Key). Printed per backend: throughput,
p50/p95/p99 latency per kind, and errors. Targets (issue 18): 0 errors and a variant look-up p99 under 1 s.

With PostgreSQL a third run restarts the database half-way (``pg_ctlcluster 15 main restart``, needs root):
requests during the outage must fail with a clear 503 and succeed again after it, and every submission the
server acknowledged (201) must be in the database at the end (the rows are counted).

    python benchmarks/service.py                       # SQLite, PostgreSQL (NERASENSE_TEST_PG_URL), restart
    python benchmarks/service.py --backends sqlite --duration 20 --clients 50

Asserts nothing; the client shares the machine with the server (both are counted in the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
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
    def __init__(self, url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, "NERASENSE_DATABASE_URL": url, "NERASENSE_DATA_DIR": str(data_dir)}
        run_cli(self.env, "users", "add", "bench", "--role", "clinician", "--team", "bench",
                "--password-file", str(self._password_file(data_dir)))
        self.token = run_cli(self.env, "users", "token", "bench", "--days", "1")["token"]
        self.proc = subprocess.Popen([str(BIN), "serve", "--port", str(self.port)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.base = f"http://127.0.0.1:{self.port}"

    @staticmethod
    def _password_file(data_dir: Path) -> Path:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "password"
        path.write_text(PASSWORD)
        return path

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err.decode(errors="replace")[-2000:]


async def wait_ready(client: Any, base: str) -> None:
    for _ in range(300):
        try:
            if (await client.get(f"{base}/healthz")).status_code == 200:
                return
        except Exception:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("server did not start")


async def load(server: Server, clients: int, duration: float, restart_at: float | None) -> dict[str, Any]:
    import httpx2 as httpx

    headers = {"Authorization": f"Bearer {server.token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    lat: dict[str, list[float]] = defaultdict(list)
    status: dict[str, dict[int | str, int]] = defaultdict(lambda: defaultdict(int))
    acknowledged: list[int] = []
    outage: list[tuple[float, int, str]] = []  # (time, status, detail) of failures
    ids: list[int] = []
    docs = [p.read_text(encoding="utf-8") for p in PATIENTS]
    async with httpx.AsyncClient(base_url=server.base, headers=headers, limits=limits, timeout=60) as client:
        await wait_ready(client, server.base)
        for text in docs:  # something to fetch from the start
            r = await client.post("/v1/patients", content=text, headers={"Content-Type": "application/yaml"})
            r.raise_for_status()
            ids.append(r.json()["assessment_id"])
            acknowledged.append(r.json()["assessment_id"])
        start = time.perf_counter()
        stop_at = start + duration
        restarted: dict[str, float] = {}

        async def one_client(n: int) -> None:
            local = random.Random(n)
            while time.perf_counter() < stop_at:
                kind = local.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
                t0 = time.perf_counter()
                try:
                    if kind == "variant":
                        r = await client.get("/v1/variants", params={"gene": "ERBB2", "change": local.choice(CHANGES)})
                    elif kind.startswith("fetch"):
                        fmt = "html" if kind == "fetch-html" else "json"
                        r = await client.get(f"/v1/assessments/{local.choice(ids)}", params={"format": fmt})
                    else:
                        text = local.choice(docs)
                        r = await client.post("/v1/patients", content=text, headers={
                            "Content-Type": "application/yaml", "Idempotency-Key": secrets.token_hex(12)})
                    code: int | str = r.status_code
                except Exception as exc:  # a refused connection, a timeout
                    code = type(exc).__name__
                    r = None
                took = time.perf_counter() - t0
                status[kind][code] += 1
                ok = code == 200 or code == 201 or (kind == "variant" and code == 422)
                if ok:
                    lat[kind].append(took)
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
                            detail = r.text[:80]
                    outage.append((time.perf_counter() - start, code if isinstance(code, int) else 0, f"{code} {detail}"))

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
    return {"lat": lat, "status": status, "elapsed": elapsed, "acknowledged": acknowledged, "failures": outage,
            "restart": restarted}


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
    for kind, _ in MIX:
        values = res["lat"].get(kind, [])
        codes = dict(sorted(res["status"].get(kind, {}).items(), key=lambda kv: str(kv[0])))
        p50, p95, p99 = (percentile(values, q) * 1000 for q in (50, 95, 99))
        print(f"   {kind:<11}{len(values):>7}{p50:>9.0f}{p95:>9.0f}{p99:>9.0f}   {codes}")
        out["kinds"][kind] = {"n": len(values), "p50_ms": _ms(p50), "p95_ms": _ms(p95), "p99_ms": _ms(p99),
                              "statuses": {str(k): v for k, v in codes.items()}}
    unexpected = [f for f in failures if f[1] != 503]
    print(f"   errors: {len(failures)} ({len(unexpected)} other than 503)")
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
    parser.add_argument("-o", "--output", type=Path, default=REPO / "out" / "bench-service.json")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu_name()}; Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f} (shared machine)")
    print(f"{args.clients} concurrent clients for {args.duration:g} s; mix "
          + ", ".join(f"{k} {w:.0%}" for k, w in MIX))
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
        server = Server(url, tmp / "data")
        try:
            res = asyncio.run(load(server, args.clients, args.duration,
                                   args.duration / 2 if backend == "restart" else None))
        finally:
            log = server.stop()
        label = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "restart": "PostgreSQL, restarted half-way"}[backend]
        results[backend] = report(label, res, url)
        results[backend]["load_average_after"] = round(os.getloadavg()[0], 1)
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
