"""Engine throughput and memory on the batch (JSON Lines) path.

Generates N random valid requests with a fixed seed, judges them in one
process through ``judge_lines`` (parse, validate, judge, serialise), and
prints decisions per second and peak memory. Run it at two sizes to see that
memory stays flat in N:

    .venv/bin/python benchmarks/engine.py --n 20000
    .venv/bin/python benchmarks/engine.py --n 200000

Target (issue #2): at least 20,000 decisions/s on one core; memory flat in N.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from collections import Counter
from collections.abc import Iterator

from cloudjudge.catalog import default_catalog
from cloudjudge.engine.batch import judge_lines

CONFIDENTIALITY = ["3A", "3B", "3C", "2", "1"]
LISTINGS = ["lgwan_asp", "ismap", "ismap_liu"]
ISMS = ["iso27001", "iso27017", "iso27018"]
METHODS = ["local_breakout", "internet_pc", "lgwan_asp", "government_cloud"]
USAGES = ["auth_only", "no_file_import", "file_import"]
NETWORKS = ["lgwan", "government_cloud_line", "internet"]


def random_request(rng: random.Random, n: int) -> dict:
    def flag() -> bool:
        return rng.random() < 0.5

    def subset(options: list[str]) -> list[str]:
        return [o for o in options if rng.random() < 0.4]

    method = rng.choice(METHODS)
    connection = {
        "method": method,
        "internet_virtual_pc": flag(),
        "download_to_internet_terminal": flag(),
    }
    if method == "local_breakout" or flag():
        connection["breakout_usage"] = rng.choice(USAGES)
    if flag():
        connection["network"] = rng.choice(NETWORKS)
    return {
        "service": {
            "name": f"サービス{n}",
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


def request_lines(n: int, seed: int) -> Iterator[str]:
    """The input as it would arrive: JSON text, generated lazily."""
    rng = random.Random(seed)
    for i in range(n):
        yield json.dumps(random_request(rng, i), ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of requests")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()

    default_catalog()  # load and compile outside the timed part
    verdicts: Counter[str] = Counter()
    start = time.perf_counter()
    cpu_start = time.process_time()
    for result in judge_lines(request_lines(args.n, args.seed)):
        assert result.output is not None, result.error
        verdicts[result.output[result.output.index('"verdict":"') + 11 :].split('"', 1)[0]] += 1
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"requests           {args.n}")
    print(f"wall seconds       {wall:.2f}")
    print(f"decisions/s (wall) {args.n / wall:,.0f}")
    print(f"decisions/s (cpu)  {args.n / cpu:,.0f}")
    print(f"peak RSS MiB       {peak_mib:.1f}")
    print("verdicts           " + ", ".join(f"{k}={v}" for k, v in sorted(verdicts.items())))
    print("(includes generating and serialising the JSON text of each request)")


if __name__ == "__main__":
    main()
