"""Engine speed: the JSON Lines path with full explanations, and one CLI judgement.

Prints figures, asserts nothing. Targets (issue #9):

- at least 50,000 lines/s on one core through ``judge_lines`` (read and
  validate, judge, write the whole decision: findings, required measures and,
  for a prohibited request, its remedies), memory flat in N;
- ``cloudjudge judge FILE`` for one request in under 0.3 s wall time.

Two workloads, both with a fixed seed and a different service name on every
line. ``register``: the facts of each line are drawn from a pool of
``--situations`` distinct fact sets, as in a register, where many applications
share a situation; the engine's bounded caches (decisions by fired rules,
remedies by situation) then do most of the work. ``distinct``: every line's
facts drawn afresh from all 40 million combinations, the worst case, where
the remedies of nearly every prohibited line are searched anew.

Each workload runs in a child process at N/10 and at N lines, so the peak
memory of the two shows whether it grows with N. The input is written to a
temporary file first and read back as the CLI reads it (lines of bytes), and
the decisions are written as the CLI writes them (UTF-8 bytes).

    .venv/bin/python benchmarks/engine.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIDENTIALITY = ["3A", "3B", "3C", "2", "1"]
LISTINGS = ["lgwan_asp", "ismap", "ismap_liu"]
ISMS = ["iso27001", "iso27017", "iso27018"]
METHODS = ["local_breakout", "internet_pc", "lgwan_asp", "government_cloud"]
USAGES = ["auth_only", "no_file_import", "file_import"]
NETWORKS = ["lgwan", "government_cloud_line", "internet"]


def random_facts(rng: random.Random) -> dict[str, Any]:
    """One request's facts, every field drawn (the service name is added per line)."""

    def flag() -> bool:
        return rng.random() < 0.5

    def subset(options: list[str]) -> list[str]:
        return [o for o in options if rng.random() < 0.4]

    method = rng.choice(METHODS)
    download = flag()
    connection: dict[str, Any] = {
        "method": method,
        "internet_virtual_pc": flag(),
        "download_to_internet_terminal": download,
        "download_by_contractor": download and rng.random() < 0.3,
    }
    if method == "local_breakout" or flag():
        connection["breakout_usage"] = rng.choice(USAGES)
    if flag():
        connection["network"] = rng.choice(NETWORKS)
    return {
        "service": {
            "provider": "株式会社サンプル",
            "listings": subset(LISTINGS),
            "isms_certifications": subset(ISMS),
            "security_update_service": rng.random() < 0.1,
        },
        "data": {
            "confidentiality": rng.choice(CONFIDENTIALITY),
            "my_number": rng.random() < 0.2,
            "administrative_documents": flag(),
            "critical_to_citizens": flag(),
        },
        "connection": connection,
        "exceptions": {
            "internet_only_function": flag(),
            "limited_external_sharing": flag(),
            "council_approved_legacy": rng.random() < 0.1,
        },
    }


def write_input(path: Path, n: int, situations: int | None, seed: int) -> None:
    rng = random.Random(seed)
    pool = [random_facts(rng) for _ in range(situations)] if situations else None
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            facts = rng.choice(pool) if pool else random_facts(rng)
            request = {**facts, "service": {"name": f"サービス{i}", **facts["service"]}}
            out.write(json.dumps(request, ensure_ascii=False) + "\n")


def run_child(path: Path) -> None:
    """In a fresh process: judge every line of ``path``, print figures as JSON."""
    from cloudjudge.catalog import default_catalog
    from cloudjudge.engine import judge_for
    from cloudjudge.engine.batch import judge_lines

    judge_for(default_catalog())  # load and compile outside the timed part
    verdicts: Counter[str] = Counter()
    written = 0
    with path.open("rb") as lines, open("/dev/null", "wb") as sink:
        start = time.perf_counter()
        cpu_start = time.process_time()
        for result in judge_lines(lines):
            assert result.encoded is not None, result.error
            sink.write(result.encoded)  # as the CLI writes it
            written += len(result.encoded)
            at = result.encoded.index(b'"verdict":"') + 11
            verdicts[result.encoded[at : at + 20].split(b'"', 1)[0].decode()] += 1
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    print(
        json.dumps(
            {
                "lines": sum(verdicts.values()),
                "wall": wall,
                "cpu": cpu,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "mean_bytes": written / max(1, sum(verdicts.values())),
                "verdicts": dict(sorted(verdicts.items())),
            }
        )
    )


def measure(n: int, situations: int | None, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requests.jsonl"
        write_input(path, n, situations, seed)
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(child.stdout)  # type: ignore[no-any-return]


def cli_seconds(runs: int) -> list[float]:
    """Whole-process wall time of ``cloudjudge judge FILE`` (after one warm-up run)."""
    command = [
        str(Path(sys.executable).parent / "cloudjudge"),
        "judge",
        str(ROOT / "examples/groupware-local-breakout.yaml"),
    ]
    times = []
    for n in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        if n:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="lines per workload")
    parser.add_argument("--situations", type=int, default=2_000, help="register's fact sets")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--cli-runs", type=int, default=7)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child)
        return

    print(f"JSON Lines, full explanations, one process on one core; N = {args.n:,}")
    for name, situations in (("register", args.situations), ("distinct", None)):
        small = measure(max(1, args.n // 10), situations, args.seed)
        full = measure(args.n, situations, args.seed)
        label = f"{name} ({situations:,} fact sets)" if situations else f"{name} (every line new)"
        print(f"  {label}")
        print(f"    lines/s (wall)     {full['lines'] / full['wall']:>10,.0f}   target >= 50,000")
        print(f"    lines/s (cpu)      {full['lines'] / full['cpu']:>10,.0f}")
        print(f"    mean output bytes  {full['mean_bytes']:>10,.0f}")
        print(
            f"    peak RSS MiB       {small['peak_mib']:>10.1f} at N/10, "
            f"{full['peak_mib']:.1f} at N   (flat in N: the two should be close)"
        )
        verdicts = ", ".join(f"{k}={v}" for k, v in full["verdicts"].items())
        print(f"    verdicts           {verdicts}")
    times = cli_seconds(args.cli_runs)
    print(
        f"cloudjudge judge FILE (one request, whole process, {len(times)} runs): "
        f"median {statistics.median(times):.3f} s, min {min(times):.3f} s   target < 0.3 s"
    )


if __name__ == "__main__":
    main()
