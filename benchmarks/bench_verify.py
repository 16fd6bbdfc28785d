"""Time the whole claims report as a user runs it: ``infonce-anchor verify --json``.

Issue #11's goal: the whole report (torch claims included) in <= 30 s wall on the 2-core machine.

Prints, each in fresh processes (imports included):

1. ``verify --json`` (the default 2 workers), ``--repeat`` times: wall min / median and CPU;
2. ``verify --json --workers 1`` once, and the ratio of the two walls;
3. each work group of :func:`infonce_anchor.claims.registry.work_groups` run alone in one
   process (the sum of its claims' seconds), beside the figure the scheduler assumes
   (``GROUP_SECONDS``), so that a group that has grown shows up here.

Checks that every run gives the same status for every claim.  Exit status 1 if a command fails.

    python benchmarks/bench_verify.py [--repeat N] [--no-groups]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

from infonce_anchor.claims.catalogue import select
from infonce_anchor.claims.registry import GROUP_SECONDS, work_group, work_groups

GOAL_SECONDS = 30.0


def cli_prefix() -> list[str]:
    """The installed console script, or the module when it is not on PATH."""
    script = shutil.which("infonce-anchor")
    return [script] if script else [sys.executable, "-m", "infonce_anchor.cli"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_verify(args: list[str]) -> tuple[float, float, dict[str, dict]]:
    """(wall s, CPU s of the command and its workers, claims by id) of one fresh run."""
    argv = cli_prefix() + ["verify", "--json", *args]
    cpu0, start = children_cpu(), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu0
    if done.returncode != 0:
        sys.stderr.write(f"command failed ({done.returncode}): {' '.join(argv)}\n"
                         f"{done.stderr[-2000:]}\n")
        raise SystemExit(1)
    claims = {c["id"]: c for c in json.loads(done.stdout)["claims"]}
    return wall, cpu, claims


def statuses(claims: dict[str, dict]) -> dict[str, tuple[str, str | None]]:
    return {k: (c["status"], c["severity"]) for k, c in claims.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the default (default 3)")
    parser.add_argument("--no-groups", action="store_true", help="skip part 3")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    print("infonce-anchor verify benchmark (fresh processes; wall and CPU in seconds)")
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, "
          f"Python {platform.python_version()} ({platform.machine()})")
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min)")
    runs = [run_verify([]) for _ in range(args.repeat)]
    walls = [w for w, _, _ in runs]
    reference = statuses(runs[0][2])
    serial_wall, serial_cpu, serial_claims = run_verify(["--workers", "1"])
    same = all(statuses(r[2]) == reference for r in runs) and \
        statuses(serial_claims) == reference
    met = max(walls) <= GOAL_SECONDS
    print(f"claims: {len(reference)}; same status in every run: {'yes' if same else 'NO'}")
    print(f"verify --json (2 workers): min {min(walls):.2f} s, median "
          f"{statistics.median(walls):.2f} s, slowest {max(walls):.2f} s wall; CPU median "
          f"{statistics.median(c for _, c, _ in runs):.2f} s")
    print(f"verify --json --workers 1: {serial_wall:.2f} s wall, CPU {serial_cpu:.2f} s")
    print(f"ratio serial / parallel (medians): {serial_wall / statistics.median(walls):.2f}")
    print(f"goal: whole report <= {GOAL_SECONDS:.0f} s wall: {'met' if met else 'NOT met'}")
    if not args.no_groups:
        print()
        print("work groups run alone (sum of claim seconds; assumed: GROUP_SECONDS)")
        for group in work_groups(select()):
            ids = [c.id for c in group if c.check is not None]
            if not ids:
                continue
            _, _, claims = run_verify(["--workers", "1", "--only", *ids])
            name = work_group(group[0])
            took = sum(c["seconds"] for c in claims.values())
            assumed = GROUP_SECONDS.get(name)
            print(f"  {name:<40} {len(ids):3d} claims  {took:6.2f} s  (assumed "
                  + (f"{assumed:.1f} s)" if assumed is not None else "small)"))
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
