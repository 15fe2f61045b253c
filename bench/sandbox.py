"""What isolation costs per "run tests": the sandbox against a plain `python -c` subprocess, interleaved.

    python -m bench.sandbox                  # 30 rounds
    python -m bench.sandbox --rounds 100

Each round runs the same program three ways, in turn so machine drift hits all alike:
  - plain: `subprocess.run([python, "-I", "-c", program])`, no limits (the obvious alternative);
  - sandbox: `run_python` as the app runs it (namespaces, new root, rlimits, run uid, audit hook);
  - sandbox without the audit hook (the OS layer alone).
Programs: an empty one (pure overhead) and HumanEval/0's canonical solution with its tests.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from assistant.sandbox import SandboxLimits, build_program, run_python, sandbox_python
from bench.common import machine_line

HUMANEVAL_0 = '''
from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    for idx, elem in enumerate(numbers):
        for idx2, elem2 in enumerate(numbers):
            if idx != idx2:
                distance = abs(elem - elem2)
                if distance < threshold:
                    return True
    return False
'''
HUMANEVAL_0_TEST = '''
def check(candidate):
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False
    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True
    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.8) == False
    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 1.0) == True
    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 0.5) == False

check(has_close_elements)
'''
PROGRAMS = {"empty program": ("pass\n", ""), "HumanEval/0 + tests": (HUMANEVAL_0, HUMANEVAL_0_TEST)}


def time_plain(code: str, tests: str) -> float:
    started = time.perf_counter()
    subprocess.run([sandbox_python(), "-I", "-c", build_program(code, tests)], check=True, capture_output=True)
    return time.perf_counter() - started


def time_sandbox(code: str, tests: str, limits: SandboxLimits) -> float:
    started = time.perf_counter()
    result = run_python(code, tests, limits)
    if not result.passed:
        raise RuntimeError(f"the benchmark program failed in the sandbox: {result.reason}")
    return time.perf_counter() - started


def measure(rounds: int) -> list[tuple[str, str, float, float]]:
    """(program, way, median ms, p90 ms) for each program and way."""
    ways = {"plain subprocess": lambda c, t: time_plain(c, t),
            "sandbox (as shipped)": lambda c, t: time_sandbox(c, t, SandboxLimits()),
            "sandbox, OS layer only": lambda c, t: time_sandbox(c, t, SandboxLimits(audit_hook=False))}
    rows = []
    for program, (code, tests) in PROGRAMS.items():
        times: dict[str, list[float]] = {way: [] for way in ways}
        for _ in range(rounds):
            for way, run in ways.items():
                times[way].append(run(code, tests) * 1000)
        for way, values in times.items():
            values.sort()
            rows.append((program, way, statistics.median(values), values[int(0.9 * (len(values) - 1))]))
    return rows


def table(rows: list[tuple[str, str, float, float]]) -> str:
    plain = {program: median for program, way, median, _ in rows if way == "plain subprocess"}
    lines = ["| program | way | median ms | p90 ms | × plain |", "|---|---|---:|---:|---:|"]
    lines += [f"| {program} | {way} | {median:.1f} | {p90:.1f} | {median / plain[program]:.2f} |"
              for program, way, median, p90 in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    rows = measure(args.rounds)
    print(table(rows))
    print()
    print(machine_line() + f"; interpreter {sandbox_python()}; {args.rounds} rounds")


if __name__ == "__main__":
    main()
