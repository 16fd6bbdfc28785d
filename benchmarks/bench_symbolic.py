"""Time the symbolic layer end to end, as a user runs it (fresh processes, imports included).

Commands timed, ``--repeat`` times each (default 3):

* ``infonce-anchor verify --layer symbolic --json``  (every symbolic claim of the report)
* ``infonce-anchor tables --format json``            (Tables 3-7 derived from the generators)
* ``infonce-anchor tables --format latex``

The whole report (torch claims included) is timed by ``benchmarks/bench_verify.py``.

Prints wall time in seconds (min / median) per command, the goal (each under 30 s on the
2-core machine) and whether it is met, the ratio of the two main commands' medians, and the
machine.  Exit status 1 if a command fails (non-zero exit or unparsable JSON).

    python benchmarks/bench_symbolic.py [--repeat N]
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

GOAL_SECONDS = 30.0


def cli_prefix() -> list[str]:
    """The installed console script, or the module when it is not on PATH."""
    script = shutil.which("infonce-anchor")
    return [script] if script else [sys.executable, "-m", "infonce_anchor.cli"]


COMMANDS: tuple[tuple[str, list[str], bool], ...] = (
    ("verify --layer symbolic --json", ["verify", "--layer", "symbolic", "--json"], True),
    ("tables --format json", ["tables", "--format", "json"], True),
    ("tables --format latex", ["tables", "--format", "latex"], False),
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_once(argv: list[str], expect_json: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its workers) of one run."""
    cpu0 = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu0
    if done.returncode != 0:
        sys.stderr.write(f"command failed ({done.returncode}): {' '.join(argv)}\n"
                         f"{done.stderr[-2000:]}\n")
        raise SystemExit(1)
    if expect_json:
        json.loads(done.stdout)  # the output is what a user would consume
    return elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (default 3)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    prefix = cli_prefix()
    print("infonce-anchor symbolic benchmark (wall time of fresh processes, seconds)")
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, "
          f"Python {platform.python_version()} ({platform.machine()})")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} (1 min) over {os.cpu_count()} CPUs"
          + ("  [busy machine: other processes compete, times are pessimistic]"
             if load[0] > 0.5 else ""))
    print(f"cli: {' '.join(prefix)}; repetitions: {args.repeat}; "
          f"goal: each command < {GOAL_SECONDS:.0f} s on the 2-core machine")
    print()
    medians: dict[str, float] = {}
    width = max(len(label) for label, _, _ in COMMANDS)
    print(f"{'command':<{width}}  {'min [s]':>8}  {'median [s]':>10}  {'CPU [s]':>8}  goal met")
    all_met = True
    for label, cmd, expect_json in COMMANDS:
        runs = [time_once(prefix + cmd, expect_json) for _ in range(args.repeat)]
        times = [wall for wall, _ in runs]
        cpu = statistics.median(c for _, c in runs)
        med = statistics.median(times)
        medians[label] = med
        met = max(times) < GOAL_SECONDS
        all_met &= met
        print(f"{label:<{width}}  {min(times):8.2f}  {med:10.2f}  {cpu:8.2f}  "
              f"{'yes' if met else 'NO'} (slowest run {max(times):.2f} s; goal < {GOAL_SECONDS:.0f} s)")
    verify, tables = medians[COMMANDS[0][0]], medians[COMMANDS[1][0]]
    print("(wall: seconds of wall-clock time; CPU: median user+system seconds of the command "
          "and its worker processes, which other load on the machine does not inflate)")
    print()
    print(f"ratio of medians: verify --layer symbolic / tables --format json = "
          f"{verify / tables:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"goal (each < {GOAL_SECONDS:.0f} s): {'met' if all_met else 'NOT met'} on this "
          f"machine ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
