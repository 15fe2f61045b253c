"""Run untrusted generated Python against tests in a locked-down subprocess.

Layers (each one alone stops the obvious attack; together they are defence in depth):

* OS, applied by a trusted bootstrap inside the child before the user code runs: a new network
  namespace (no interfaces but a down loopback), `setrlimit` (CPU seconds, address space, processes,
  file size, open files, no core dumps), and, when we are root, a fresh per-run user id, so the
  process limit counts only this run's processes, file permissions hide the app's data, and every
  leftover process can be killed with `kill(-1)` from that uid.
* An audit hook (`sys.addaudithook`) in the same bootstrap: refuses network calls, process creation,
  signals, ctypes, writes outside the run directory and reads outside it and the interpreter's
  libraries. A refusal ends the run at once with status "blocked". Audit hooks are a tripwire, not a
  security boundary (Python's docs say so); the OS layer is the boundary.
* The parent: a temporary directory as cwd (deleted afterwards), `python -I -B`, an environment
  built from scratch (PATH and LANG only), stdin closed, output captured in files capped by the
  file-size limit, and a wall-clock timeout that kills the process group and the run's uid.

The limits are set in the bootstrap rather than in `preexec_fn` because `preexec_fn` is unsafe in a
threaded parent (the app runs model and web-server threads), and because dropping to the run's uid
must happen after the interpreter has started (pyenv interpreters under /root are not reachable by
other uids).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

logger = logging.getLogger(__name__)

Status = Literal["passed", "failed", "timeout", "memory", "killed", "error", "blocked"]

BLOCKED_EXIT = 86  # exit status of a run the audit hook stopped
_BLOCKED_MARK = "SANDBOX-BLOCKED: "
_PROGRAM = "solution.py"
_BOOTSTRAP_FRAME = re.compile(r'^  File "<string>", line \d+, in <module>\n', re.MULTILINE)
_SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")
_UID_RANGE = (2_000_000, 3_000_000)  # unused by real accounts; one random uid per run


@dataclass(frozen=True)
class SandboxLimits:
    """What one run may use.

    Attributes:
        timeout_s: wall-clock seconds before the process group is killed (CPU seconds are capped the same).
        memory_mb: address-space limit.
        max_processes: processes/threads the run's uid may have (stops fork bombs).
        max_file_mb: largest file the run may write, its captured output included.
        max_open_files: file descriptors.
        output_chars: stdout/stderr kept in the result (each).
        audit_hook: install the audit-hook layer (turn off only to test the OS layer alone).
        python: interpreter to run; None picks one the unprivileged run uid can execute.
    """

    timeout_s: float = 10.0
    memory_mb: int = 512
    max_processes: int = 16
    max_file_mb: int = 16
    max_open_files: int = 64
    output_chars: int = 8000
    audit_hook: bool = True
    python: str | None = None


@dataclass(frozen=True)
class SandboxResult:
    """The outcome of one run.

    Attributes:
        passed: the program (code + tests) exited 0.
        status: passed, failed (non-zero exit), timeout, memory, killed (by a signal), error (the sandbox
            could not run it), blocked (the audit hook refused an operation).
        reason: one human sentence, e.g. "stopped: exceeded the 5 s time limit".
        stdout: captured standard output (truncated to `output_chars`).
        stderr: captured standard error (the tail, truncated to `output_chars`).
        duration_s: wall-clock seconds.
        returncode: the exit status (negative: killed by that signal), None if it never ran.
    """

    passed: bool
    status: Status
    reason: str
    stdout: str
    stderr: str
    duration_s: float
    returncode: int | None = None


# ---------------------------------------------------------------- the bootstrap (runs in the child)

_BOOTSTRAP = r'''
import json, os, resource, sys
cfg = json.loads(sys.argv[1])

def _unshare_network():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    flags = 0x40000000 if os.geteuid() == 0 else 0x40000000 | 0x10000000  # CLONE_NEWNET (| CLONE_NEWUSER)
    return libc.unshare(flags) == 0

def _limit(name, value):
    soft, hard = resource.getrlimit(name)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(name, (value, value))

_unshare_network()
sys.modules.pop("ctypes", None)
_limit(resource.RLIMIT_CPU, cfg["cpu_s"])
_limit(resource.RLIMIT_AS, cfg["memory_bytes"])
_limit(resource.RLIMIT_FSIZE, cfg["file_bytes"])
_limit(resource.RLIMIT_NOFILE, cfg["open_files"])
_limit(resource.RLIMIT_CORE, 0)
_limit(resource.RLIMIT_NPROC, cfg["nproc"])
if cfg["uid"] is not None:
    os.setgroups([])
    os.setgid(cfg["uid"])
    os.setuid(cfg["uid"])

def _install_hook(workdir, read_roots, mark, blocked_exit):
    import os as _os, sys as _sys
    realpath, fsdecode, join, write, exit_now = (
        _os.path.realpath, _os.fsdecode, _os.path.join, _os.write, _os._exit)
    workdir, read_roots = str(workdir), tuple(read_roots)
    devices = ("/dev/null", "/dev/urandom", "/dev/random", "/dev/zero")
    write_flags = _os.O_WRONLY | _os.O_RDWR | _os.O_CREAT | _os.O_TRUNC | _os.O_APPEND
    spawn = frozenset(("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                       "subprocess.Popen", "os.startfile"))
    signals = frozenset(("os.kill", "os.killpg", "signal.pthread_kill"))
    path_writes = frozenset(("os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
                             "os.symlink", "os.truncate", "os.utime", "os.rename", "shutil.rmtree",
                             "shutil.copyfile", "shutil.move", "os.chflags", "os.mkfifo", "os.mknod"))
    native = frozenset(("ctypes.dlopen", "ctypes.dlsym", "ctypes.call_function", "ctypes.cdata"))
    # gc's object walks would reach this hook's closure (its allowed paths); nothing honest needs them here.
    introspection = frozenset(("gc.get_objects", "gc.get_referrers", "gc.get_referents"))

    def block(why):
        for stream in (_sys.stdout, _sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        write(2, ("\n" + mark + why + "\n").encode())
        exit_now(blocked_exit)

    def resolve(path):
        return realpath(join(workdir, fsdecode(path)))

    def inside(path, roots):
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def check_path(path, writing):
        if isinstance(path, int) or path is None:
            return
        full = resolve(path)
        if writing and not inside(full, (workdir,) + devices[:1]):
            block("writing files outside the sandbox is not allowed (" + full + ")")
        if not inside(full, (workdir,) + read_roots + devices):
            block("reading files outside the sandbox is not allowed (" + full + ")")

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            writing = bool(mode and any(c in mode for c in "wax+")) or bool((flags or 0) & write_flags)
            check_path(path, writing)
        elif event in ("os.listdir", "os.scandir", "os.chdir") and args:
            check_path(args[0], False)
        elif event in path_writes:
            for arg in args[:2]:
                if isinstance(arg, (str, bytes)) or hasattr(arg, "__fspath__"):
                    check_path(arg, True)
        elif event.startswith("socket."):
            if event == "socket.__new__" and args[1] == 1:  # AF_UNIX socketpair (asyncio's self-pipe)
                return
            if event != "socket.gethostname":
                block("network access is not allowed")
        elif event in spawn:
            block("starting processes is not allowed")
        elif event in signals:
            block("sending signals is not allowed")
        elif event in native:
            block("loading native code (ctypes) is not allowed")
        elif event in introspection:
            block("inspecting the interpreter's objects is not allowed")
        elif event == "object.__setattr__" and args[1] == "__code__":
            block("replacing code objects is not allowed")

    _sys.addaudithook(hook)

_program = os.path.join(cfg["workdir"], cfg["program"])
with open(_program, encoding="utf-8") as _handle:
    _code = compile(_handle.read(), _program, "exec")
if cfg["audit"]:
    _roots = sorted({os.path.realpath(p) for p in sys.path if p and os.path.isabs(p)})
    _install_hook(os.path.realpath(cfg["workdir"]), _roots, cfg["mark"], cfg["blocked_exit"])
sys.argv = [_program]
_namespace = {"__name__": "__main__", "__file__": _program, "__builtins__": __builtins__}
del cfg, json, resource, _limit, _unshare_network, _install_hook, _handle
exec(_code, _namespace)
'''


# ---------------------------------------------------------------- parent side


def run_python(code: str, tests: str = "", limits: SandboxLimits | None = None) -> SandboxResult:
    """Run `code` followed by `tests` as one program in the sandbox.

    Test functions named `test_*` that the program defines but does not call are run after it (pytest
    style); plain top-level `assert`s and HumanEval's `check(candidate)` calls just run.

    Args:
        code: the untrusted solution.
        tests: test code appended after it.
        limits: resource limits; defaults to `SandboxLimits()`.

    Returns:
        The result; `passed` is True only when the program exited 0.
    """
    limits = limits or SandboxLimits()
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-"))
    try:
        return _run_in(workdir, build_program(code, tests), limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def build_program(code: str, tests: str) -> str:
    """The file the sandbox runs: solution, tests, and a runner for uncalled `test_*` functions."""
    program = code.rstrip() + "\n\n" + tests.strip() + "\n"
    if re.search(r"^def test\w*\(", tests, re.MULTILINE):
        program += _TEST_RUNNER
    return program


_TEST_RUNNER = '''

def _sandbox_run_tests():
    import sys
    import traceback
    tests = [(n, f) for n, f in list(globals().items()) if n.startswith("test") and callable(f)]
    failed = 0
    for name, function in tests:
        try:
            function()
        except Exception:
            failed += 1
            traceback.print_exc()
    sys.stdout.write(f"{len(tests) - failed} passed, {failed} failed\\n")
    if failed or not tests:
        raise SystemExit(1)


_sandbox_run_tests()
'''


def _run_in(workdir: Path, program: str, limits: SandboxLimits) -> SandboxResult:
    (workdir / _PROGRAM).write_text(program, encoding="utf-8")
    python = limits.python or sandbox_python()
    uid = _run_uid(python)
    if uid is not None:
        os.chown(workdir, uid, uid)
        os.chown(workdir / _PROGRAM, uid, uid)
    config = _child_config(workdir, limits, uid)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            returncode, timed_out = _execute([python, "-I", "-B", "-c", _BOOTSTRAP, json.dumps(config)],
                                             workdir, out, err, limits.timeout_s, uid)
        except OSError as error:
            logger.error("sandbox could not start python=%s error=%s", python, error)
            return SandboxResult(False, "error", f"error: the sandbox could not start ({error})", "", "",
                                 time.perf_counter() - started)
        duration = time.perf_counter() - started
        stdout, stderr = _read(out, limits.output_chars, head=True), _read(err, limits.output_chars, head=False)
    stderr = _BOOTSTRAP_FRAME.sub("", stderr)
    status, reason = classify(returncode, timed_out, stderr, limits)
    logger.info("sandbox run status=%s seconds=%.2f uid=%s", status, duration, uid)
    return SandboxResult(status == "passed", status, reason, stdout, stderr, duration, returncode)


def _child_config(workdir: Path, limits: SandboxLimits, uid: int | None) -> dict:
    nproc = limits.max_processes if uid is not None else _tasks_of_uid(os.getuid()) + limits.max_processes
    return {
        "workdir": str(workdir), "program": _PROGRAM, "uid": uid, "audit": limits.audit_hook,
        "cpu_s": int(limits.timeout_s) + 1, "memory_bytes": limits.memory_mb << 20,
        "file_bytes": limits.max_file_mb << 20, "open_files": limits.max_open_files, "nproc": nproc,
        "mark": _BLOCKED_MARK, "blocked_exit": BLOCKED_EXIT,
    }


def _execute(command: list[str], workdir: Path, out: IO[bytes], err: IO[bytes], timeout_s: float,
             uid: int | None) -> tuple[int, bool]:
    """Run to completion or timeout; afterwards no process of the run may survive."""
    process = subprocess.Popen(command, cwd=workdir, env=_clean_env(), stdin=subprocess.DEVNULL, stdout=out,
                               stderr=err, start_new_session=True, close_fds=True)
    timed_out = False
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        _kill_group(process.pid)
        if uid is not None:
            _kill_uid(uid, command[0])
        process.wait()
    return process.returncode, timed_out


def _clean_env() -> dict[str, str]:
    """A new environment: nothing of the app's (API keys, tokens) leaks into the run."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_uid(uid: int, python: str) -> None:
    """Kill every process of the run's uid (also ones that left the process group): `kill(-1)` as that uid."""
    for _ in range(3):
        subprocess.run([python, "-I", "-S", "-c", "import os, signal; os.kill(-1, signal.SIGKILL)"],
                       user=uid, group=uid, extra_groups=[], env=_clean_env(), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=30)
        if not _tasks_of_uid(uid):
            return


def _tasks_of_uid(uid: int) -> int:
    """Live threads (what RLIMIT_NPROC counts) owned by `uid`, from /proc; zombies hold nothing but a pid."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1").split()[0]) == uid and not fields.get("State", "").strip().startswith("Z"):
            count += int(fields.get("Threads", "1"))
    return count


def _read(handle: IO[bytes], limit: int, head: bool) -> str:
    handle.seek(0)
    data = handle.read(limit * 4 + 4).decode("utf-8", "replace") if head else _tail(handle, limit * 4)
    if len(data) <= limit:
        return data
    return data[:limit] + "\n[... output truncated ...]" if head else "[... output truncated ...]\n" + data[-limit:]


def _tail(handle: IO[bytes], size: int) -> str:
    end = handle.seek(0, os.SEEK_END)
    handle.seek(max(end - size, 0))
    return handle.read().decode("utf-8", "replace")


# ---------------------------------------------------------------- choosing the interpreter and uid


def _run_uid(python: str) -> int | None:
    """A fresh uid for this run when we are root and `python` works under another uid; else None."""
    if os.geteuid() != 0 or not _usable_by_others(python):
        return None
    return secrets.randbelow(_UID_RANGE[1] - _UID_RANGE[0]) + _UID_RANGE[0]


@functools.lru_cache(maxsize=8)
def _usable_by_others(python: str) -> bool:
    """Whether an unprivileged uid can start `python` and import from its standard library."""
    try:
        probe = subprocess.run([python, "-I", "-B", "-c", "import json, math, collections"], user=_UID_RANGE[0],
                               group=_UID_RANGE[0], extra_groups=[], env=_clean_env(), cwd="/",
                               capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


@functools.lru_cache(maxsize=1)
def sandbox_python() -> str:
    """The interpreter for runs: ours if an unprivileged uid can use it, else the system's python3.

    As root the run drops to a fresh uid, and an interpreter under /root (pyenv) is unreachable for it;
    the system interpreter (stdlib only, no app packages) is then the better choice.
    """
    ours = os.path.realpath(sys.executable)
    if os.geteuid() != 0 or _usable_by_others(ours):
        return ours
    for candidate in _SYSTEM_PYTHONS:
        if os.path.exists(candidate) and _usable_by_others(candidate):
            return candidate
    logger.warning("no interpreter usable by an unprivileged uid; sandbox runs keep uid 0 (process limit weaker)")
    return ours


# ---------------------------------------------------------------- interpreting the outcome


def classify(returncode: int, timed_out: bool, stderr: str, limits: SandboxLimits) -> tuple[Status, str]:
    """Turn an exit status and stderr into (status, human reason).

    Args:
        returncode: the child's exit status (negative: the signal that killed it).
        timed_out: the wall-clock limit was reached.
        stderr: captured standard error (its tail).
        limits: the limits the run had, for the messages.
    """
    timeout = ("timeout", f"stopped: exceeded the {limits.timeout_s:g} s time limit")
    if timed_out or returncode == -signal.SIGXCPU:
        return timeout
    if returncode == 0:
        return "passed", "passed: the code and its tests ran without an error"
    if returncode == BLOCKED_EXIT and _BLOCKED_MARK in stderr:
        return "blocked", "blocked: " + stderr.rsplit(_BLOCKED_MARK, 1)[1].strip().splitlines()[0]
    if _last_exception(stderr).startswith("MemoryError") or (returncode < 0 and "MemoryError" in stderr):
        return "memory", f"stopped: exceeded the {limits.memory_mb} MB memory limit"
    if returncode == -signal.SIGXFSZ or "[Errno 27] File too large" in _last_exception(stderr):
        return "killed", f"stopped: wrote more than the {limits.max_file_mb} MB file/output limit"
    if returncode < 0:
        return "killed", f"stopped: killed by {signal.Signals(-returncode).name}"
    return "failed", "failed: " + failure_summary(stderr)


def _last_exception(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line and not line.startswith(" ")]
    return lines[-1] if lines else ""


def failure_summary(stderr: str) -> str:
    """`AssertionError (line 12: assert add(1, 2) == 4)` from a traceback; the exit status if there is none."""
    exception = _last_exception(stderr)
    if not exception.startswith(("Traceback", "File")) and ("Error" in exception or "Exception" in exception):
        frames = re.findall(rf'File ".*?{_PROGRAM}", line (\d+).*\n\s+(\S.*)', stderr)
        where = f" (line {frames[-1][0]}: {frames[-1][1].strip()})" if frames else ""
        return exception + where
    return exception or "the program exited with an error"
