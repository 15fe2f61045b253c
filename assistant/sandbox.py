"""Run untrusted generated Python against tests in a locked-down subprocess.

Layers (the OS layer is the boundary; the audit hook is a tripwire in front of it that names what was tried):

* OS, applied by a trusted bootstrap inside the child before the user code runs: new mount, network
  and pid namespaces (and a user namespace when we are not root). The run's root directory is a fresh
  tmpfs holding, read-only, only the interpreter's files and the system libraries, plus the run
  directory: the app's data, other visitors' stores, /proc (other processes' environments and open
  files) and every program on the machine simply do not exist for it. There are no network interfaces
  but a down loopback. The first process of the pid namespace dies with the bootstrap, and every
  process of the run dies with it (also ones that left the process group). Then `setrlimit` (CPU
  seconds, address space, processes, file size, open files, no core dumps), no-new-privileges, and,
  when we are root, a fresh per-run user id (so the process limit counts only this run's processes and
  leftovers can be killed with `kill(-1)` from that uid); without root, the user namespace's
  capabilities are dropped. When the kernel refuses the namespaces (some containers do), the run is
  refused with status "error" unless `isolation="best-effort"` was chosen (a machine with one user).
* An audit hook (`sys.addaudithook`) in the same bootstrap: refuses network calls, process creation
  (and importing `_posixsubprocess`, which starts processes without an audit event), signals to other
  processes, ctypes, profilers and object walks (they would reach the hook's own state),
  symbolic links, changing directory out of the run directory, writes outside the run directory and
  reads outside it and the interpreter's libraries. A refusal ends the run at once with status
  "blocked". Audit hooks are a tripwire, not a security boundary (Python's docs say so); the OS layer
  is the boundary.
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal

logger = logging.getLogger(__name__)

Status = Literal["passed", "failed", "timeout", "memory", "killed", "error", "blocked"]

BLOCKED_EXIT = 86  # exit status of a run the audit hook stopped
UNISOLATED_EXIT = 87  # exit status of a run refused because the OS could not isolate it
_BLOCKED_MARK = "SANDBOX-BLOCKED: "
_UNISOLATED_MARK = "SANDBOX-UNISOLATED: "
Isolation = Literal["required", "best-effort"]
_PROGRAM = "solution.py"
_BOOTSTRAP_FRAME = re.compile(r'^  File "<string>", line \d+, in <module>\n', re.MULTILINE)
_RUNNER_FRAME = re.compile(r'^  File "[^"\n]*solution\.py", line \d+, in _sandbox_run_tests\n(?:    .*\n)*', re.MULTILINE)
_PROGRAM_LINE = re.compile(r'File "solution\.py", line (\d+)|\(line (\d+): ')
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
        isolation: "required" refuses to run (status "error") when the kernel will not give the run its own
            namespaces (mount, network, pid; a user namespace when not root), which is what keeps other
            visitors' documents out of its reach; "best-effort" then runs it behind the audit hook alone
            (only for a machine with one user).
    """

    timeout_s: float = 10.0
    memory_mb: int = 512
    max_processes: int = 16
    max_file_mb: int = 16
    max_open_files: int = 64
    output_chars: int = 8000
    audit_hook: bool = True
    python: str | None = None
    isolation: Isolation = "required"


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
os.umask(0o022)  # the app's umask is 077: the new root's folders must be reachable by the run's uid

def _confine(cfg, roots):
    # New mount, network and pid namespaces (plus a user namespace when not root). The root directory
    # becomes an empty tmpfs that holds, read-only, only the interpreter's files and the system libraries,
    # plus the run directory: the app's data, /proc (other processes' environments and open files) and
    # the rest of the machine do not exist for the run. Raises OSError when the kernel refuses.
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    NEWNS, NEWNET, NEWPID, NEWUSER = 0x00020000, 0x40000000, 0x20000000, 0x10000000
    RDONLY, NOSUID, NODEV, NOEXEC, REMOUNT, BIND, MOVE, REC, PRIVATE = 1, 2, 4, 8, 32, 4096, 8192, 16384, 1 << 18

    def check(what, result):
        if result != 0:
            number = ctypes.get_errno()
            raise OSError(number, what + ": " + os.strerror(number))

    def mount(source, target, kind, flags, data=None):
        encode = lambda v: v.encode() if v is not None else None
        check("mount " + target, libc.mount(encode(source), encode(target), encode(kind), flags, encode(data)))

    def locked_flags(path):
        # a remount in a user namespace must keep the flags the original mount has (the kernel locks them)
        flag = os.statvfs(path).f_flag
        return (flag & (RDONLY | NOSUID | NODEV | NOEXEC | 1024 | 2048)) | ((1 << 21) if flag & 4096 else 0)

    def bind(path, new, writable=False):
        target = new + path
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        mount(path, target, None, BIND | REC)
        if not writable:
            mount(None, target, None, REMOUNT | BIND | RDONLY | NOSUID | NODEV | locked_flags(path))

    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    check("unshare", libc.unshare(NEWNS | NEWNET | NEWPID | (0 if root else NEWUSER)))
    if not root:
        for name, text in (("setgroups", "deny"), ("uid_map", "%d %d 1" % (uid, uid)),
                           ("gid_map", "%d %d 1" % (gid, gid))):
            with open("/proc/self/" + name, "w") as handle:
                handle.write(text)
    mount(None, "/", None, REC | PRIVATE)  # nothing mounted here reaches the machine's namespace
    new = cfg["newroot"]
    mount("tmpfs", new, "tmpfs", NOSUID | NODEV, "mode=0755,size=1m")
    bound = []
    for path in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache") + roots:
        if os.path.islink(path):
            os.makedirs(os.path.dirname(new + path), exist_ok=True)
            os.symlink(os.readlink(path), new + path)
        elif os.path.exists(path) and not any(path.startswith(b.rstrip("/") + "/") for b in bound):
            bind(path, new)
            bound.append(path)
    for device in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"):
        bind(device, new, writable=True)
    bind(cfg["workdir"], new, writable=True)
    os.chdir(new)
    mount(new, "/", None, MOVE)
    os.chroot(".")
    os.chdir(cfg["workdir"])
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: no set-uid program can give privileges back
    if not root:  # give up the user namespace's capabilities (mount, chroot, ...) before running anything
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        check("capset", libc.capset(header, (ctypes.c_uint32 * 6)()))
    return libc.prctl

def _unshare_network():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    flags = 0x40000000 if os.geteuid() == 0 else 0x40000000 | 0x10000000  # CLONE_NEWNET (| CLONE_NEWUSER)
    return libc.unshare(flags) == 0

def _limit(name, value):
    soft, hard = resource.getrlimit(name)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(name, (value, value))

def _as_init(prctl):
    # Fork twice: the first child is pid 1 of the run's pid namespace, and when it exits the kernel kills
    # every process left in it (also ones that left the process group); it dies with the bootstrap
    # (PR_SET_PDEATHSIG). The second child runs the program; its wait status travels back by a pipe.
    sys.stdout.flush(); sys.stderr.flush()
    read_end, write_end = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(read_end)
        prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
        program = os.fork()
        if program == 0:
            os.close(write_end)
            return
        status = os.waitpid(program, 0)[1]
        os.write(write_end, str(status).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(init, 0)
    status = int(os.read(read_end, 32) or b"9")  # nothing written: pid 1 was killed (SIGKILL)
    if os.WIFSIGNALED(status):
        import signal
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))

_roots = tuple(sorted({os.path.realpath(p) for p in sys.path if p and os.path.isabs(p)}))
try:
    _prctl = _confine(cfg, _roots)
except OSError as error:
    _prctl = None
    if cfg["isolation"] == "required":
        os.write(2, ("\n" + cfg["unisolated_mark"] + str(error) + "\n").encode())
        os._exit(cfg["unisolated_exit"])
    _unshare_network()
for _name in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes"))]:
    del sys.modules[_name]  # so that importing them again raises the audit event the hook refuses
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
if _prctl is not None:
    _as_init(_prctl)

def _install_hook(workdir, read_roots, mark, blocked_exit):
    # Nothing in here may run the program's own code (a __fspath__, a str subclass's __eq__, a property) or let an
    # exception out: either would hand the program a frame of this hook, and through it the hook's closure.
    import os as _os, sys as _sys
    realpath, join, write, exit_now, getcwd = _os.path.realpath, _os.path.join, _os.write, _os._exit, _os.getcwd
    str_copy, bytes_decode, encoding = str.__str__, bytes.decode, _sys.getfilesystemencoding()
    workdir, read_roots = str(workdir), tuple(read_roots)
    devices = ("/dev/null", "/dev/urandom", "/dev/random", "/dev/zero")
    write_flags = _os.O_WRONLY | _os.O_RDWR | _os.O_CREAT | _os.O_TRUNC | _os.O_APPEND
    spawn = frozenset(("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                       "subprocess.Popen", "os.startfile"))
    signals = frozenset(("os.kill", "os.killpg", "signal.pthread_kill"))
    # (the shutil.* events are not here: shutil's own os calls raise the events below, with converted paths)
    path_writes = frozenset(("os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
                             "os.symlink", "os.truncate", "os.utime", "os.rename", "os.chflags", "os.mkfifo",
                             "os.mknod"))
    native = frozenset(("ctypes.dlopen", "ctypes.dlsym", "ctypes.call_function", "ctypes.cdata"))
    # what would reach this hook's frames or closure from outside it: object walks, other threads' frames,
    # trace and profile functions (called for every frame, this hook's too)
    introspection = frozenset(("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                               "sys.settrace", "sys.setprofile", "sys.monitoring.register_callback"))
    # modules that reach around the events above: fork_exec raises no "os.fork", _ctypes is ctypes
    imports = (("_posixsubprocess", "starting processes is not allowed"),
               ("subprocess", "starting processes is not allowed"),
               ("_ctypes", "loading native code (ctypes) is not allowed"),
               ("ctypes", "loading native code (ctypes) is not allowed"),
               ("_xxsubinterpreters", "starting interpreters is not allowed"))
    streams = (_sys.stdout, _sys.stderr)  # the interpreter's own: the program may replace sys.stdout with its code

    def block(why):
        for stream in streams:
            try:
                stream.flush()
            except Exception:
                pass
        write(2, ("\n" + mark + why + "\n").encode())
        exit_now(blocked_exit)

    def text(value):  # an argument as an exact str, or None when it is neither text nor bytes
        kind = type(value)
        if kind is str:
            return value
        if issubclass(kind, str):  # a subclass's methods are the program's code: copy it into a plain str
            return str_copy(value)
        if issubclass(kind, bytes):
            return bytes_decode(value, encoding, "surrogateescape")
        return None

    def resolve(path):  # as the kernel will: relative to the current directory (kept inside workdir)
        return realpath(join(getcwd(), path))

    def inside(path, roots):
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def check_path(value, writing):
        if value is None or (issubclass(type(value), int) and not writing):
            return  # reading an open descriptor (fstat, fdopen): opening it was checked
        path = text(value)
        if path is None:
            block("this kind of path argument is not allowed")
        full = resolve(path)
        if writing and not inside(full, (workdir,) + devices[:1]):
            block("writing files outside the sandbox is not allowed (" + full + ")")
        if not inside(full, (workdir,) + read_roots + devices):
            block("reading files outside the sandbox is not allowed (" + full + ")")

    def check_dir_fd(path, dir_fd):
        # Relative to a directory descriptor the path escapes what resolve() sees unless it is one plain name
        # (shutil.rmtree's case); and directories are opened for that only inside the run directory (see "open").
        name = text(path)
        if dir_fd not in (None, -1) and (name is None or "/" in name or name in ("..", ".")):  # -1: none given
            block("paths relative to a directory descriptor must be plain names")

    def check_open(path, mode, flags):
        writing = bool(mode and any(c in mode for c in "wax+")) or bool((flags or 0) & write_flags)
        check_path(path, writing)
        name = text(path)
        if mode is None and name is not None and ".." in name.split("/"):  # os.open may carry a dir_fd
            block("os.open paths with '..' are not allowed")
        if mode is None and name is not None and _os.path.isdir(resolve(name)) and not inside(resolve(name), (workdir,)):
            block("opening directories outside the sandbox is not allowed")

    def check(event, args):
        if event == "open":
            check_open(*args)
        elif event == "os.chdir":
            path = text(args[0]) if args else None
            if path is None or not inside(resolve(path), (workdir,)):
                block("changing to a directory outside the sandbox is not allowed")
        elif event in ("os.listdir", "os.scandir") and args:
            check_path(args[0], False)
        elif event == "os.symlink":
            block("creating symbolic links is not allowed")
        elif event == "import" and args:
            name = text(args[0])
            for module, why in imports:
                if name == module:
                    block(why)
        elif event in path_writes:
            check_path(args[0], True)
            if event in ("os.rename", "os.link"):
                check_path(args[1], True)
                check_dir_fd(args[0], args[2])
                check_dir_fd(args[1], args[3])
            elif event in ("os.remove", "os.rmdir"):
                check_dir_fd(args[0], args[1])
            elif event in ("os.mkdir", "os.chmod", "os.mkfifo", "os.chown", "os.utime", "os.mknod"):
                check_dir_fd(args[0], args[-1])
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
        elif event == "object.__setattr__" and text(args[1]) == "__code__":
            block("replacing code objects is not allowed")

    def hook(event, args):
        try:
            check(event, args)
        except BaseException:  # never raise into the program: the traceback would carry this hook's frames
            block("the sandbox could not check an operation")

    _sys.addaudithook(hook)

_program = os.path.join(cfg["workdir"], cfg["program"])
with open(_program, encoding="utf-8") as _handle:
    _code = compile(_handle.read(), _program, "exec")
import importlib.util
if importlib.util.find_spec("pytest") is None:  # pytest-style tests start with `import pytest`: a stand-in
    _pytest = type(sys)("pytest")
    exec(compile(cfg["pytest_shim"], "pytest", "exec"), _pytest.__dict__)
    sys.modules["pytest"] = _pytest
if cfg["audit"]:
    _install_hook(os.path.realpath(cfg["workdir"]), _roots, cfg["mark"], cfg["blocked_exit"])
sys.argv = [_program]
_namespace = {"__name__": "__main__", "__file__": _program, "__builtins__": __builtins__}
del cfg, json, resource, _limit, _unshare_network, _install_hook, _handle, _confine, _as_init, _prctl, importlib
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
    newroot = Path(tempfile.mkdtemp(prefix="sandbox-root-"))  # stays empty here: the run mounts its root on it
    try:
        result = _run_in(workdir, newroot, build_program(code, tests), limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(newroot, ignore_errors=True)
    relabel = functools.partial(_relabel_lines, code_lines=len(code.rstrip().splitlines()),
                                test_lines=len(tests.strip().splitlines()))
    return replace(result, reason=relabel(result.reason), stderr=relabel(result.stderr))


def _relabel_lines(text: str, code_lines: int, test_lines: int) -> str:
    """Line numbers of the joined program as the visitor sees them: "code, line 3" or "tests, line 2"."""
    first_test = code_lines + 2 if code_lines else 1  # build_program puts one blank line between the two

    def where(line: int) -> tuple[str, int] | None:
        if 1 <= line <= code_lines:
            return "code", line
        if first_test <= line < first_test + test_lines:
            return "tests", line - first_test + 1
        return None

    def swap(match: re.Match) -> str:
        number = int(match.group(1) or match.group(2))
        place = where(number)
        if place is None:
            return match.group()
        if match.group(1):
            return f'File "{place[0]}", line {place[1]}'
        return f"({place[0]}, line {place[1]}: "

    return _PROGRAM_LINE.sub(swap, text)


def build_program(code: str, tests: str) -> str:
    """The file the sandbox runs: solution, tests, and a runner for uncalled tests.

    The runner calls top-level `test_*` functions, the `test_*` methods of `Test*` classes (pytest's style) and
    `unittest.TestCase` classes (extraction drops the `unittest.main()` under a main guard): a test that is
    written but never run must not read as passed.
    """
    program = code.rstrip() + "\n\n" + tests.strip() + "\n"
    if _HAS_TESTS.search(tests):
        program += _TEST_RUNNER
    return program


_HAS_TESTS = re.compile(r"^(?:def test\w*\(|class Test\w*\b|class \w+\((?:[\w.]*\.)?TestCase\))", re.MULTILINE)
_TEST_RUNNER = '''

def _sandbox_run_tests():
    import sys
    import traceback
    import unittest
    found = list(globals().items())
    calls = [f for n, f in found if n.startswith("test") and callable(f) and not isinstance(f, type)]
    calls += [getattr(c(), m) for n, c in found if isinstance(c, type) and n.startswith("Test")
              and not issubclass(c, unittest.TestCase) for m in sorted(vars(c))
              if m.startswith("test") and callable(vars(c)[m])]
    failed = 0
    for call in calls:
        try:
            call()
        except Exception:
            failed += 1
            traceback.print_exc()
    cases = [c for c in dict(found).values() if isinstance(c, type) and issubclass(c, unittest.TestCase)
             and c.__module__ == __name__]
    result = unittest.TestResult()
    unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in cases).run(result)
    for _, text in result.errors + result.failures:
        sys.stderr.write(text)
    failed += len(result.errors) + len(result.failures)
    ran = len(calls) + result.testsRun
    sys.stdout.write(f"{ran - failed} passed, {failed} failed\\n")
    if failed or not ran:
        raise SystemExit(1)


_sandbox_run_tests()
'''


def _run_in(workdir: Path, newroot: Path, program: str, limits: SandboxLimits) -> SandboxResult:
    (workdir / _PROGRAM).write_text(program, encoding="utf-8")
    python = limits.python or sandbox_python()
    uid = _run_uid(python)
    if uid is not None:
        os.chown(workdir, uid, uid)
        os.chown(workdir / _PROGRAM, uid, uid)
    config = _child_config(workdir, newroot, limits, uid)
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
    stderr = _RUNNER_FRAME.sub("", _BOOTSTRAP_FRAME.sub("", stderr))
    for prefix in {f"{workdir}/", f"{os.path.realpath(workdir)}/"}:  # the run directory is the server's business
        stderr = stderr.replace(f'File "{prefix}', 'File "')
    status, reason = classify(returncode, timed_out, stderr, limits)
    logger.info("sandbox run status=%s seconds=%.2f uid=%s", status, duration, uid)
    return SandboxResult(status == "passed", status, reason, stdout, stderr, duration, returncode)


def _child_config(workdir: Path, newroot: Path, limits: SandboxLimits, uid: int | None) -> dict:
    allowed = limits.max_processes + 2  # the bootstrap and the pid namespace's init run as the run's uid too
    nproc = allowed if uid is not None else _tasks_of_uid(os.getuid()) + allowed
    return {
        "workdir": str(workdir), "newroot": str(newroot), "program": _PROGRAM, "uid": uid, "audit": limits.audit_hook,
        "isolation": limits.isolation, "unisolated_mark": _UNISOLATED_MARK, "unisolated_exit": UNISOLATED_EXIT,
        "cpu_s": int(limits.timeout_s) + 1, "memory_bytes": limits.memory_mb << 20,
        "file_bytes": limits.max_file_mb << 20, "open_files": limits.max_open_files, "nproc": nproc,
        "mark": _BLOCKED_MARK, "blocked_exit": BLOCKED_EXIT, "pytest_shim": _pytest_shim(),
    }


@functools.lru_cache(maxsize=1)
def _pytest_shim() -> str:
    """The source of the stand-in `pytest` a run gets when its interpreter has none (assistant/sandbox_pytest.py)."""
    return Path(__file__).with_name("sandbox_pytest.py").read_text(encoding="utf-8")


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
    if returncode == UNISOLATED_EXIT and _UNISOLATED_MARK in stderr:
        why = stderr.rsplit(_UNISOLATED_MARK, 1)[1].strip().splitlines()[0]
        return "error", f"error: this server cannot isolate code runs ({why}), so running code is turned off"
    if _last_exception(stderr).startswith("MemoryError") or (returncode < 0 and "MemoryError" in stderr):
        return "memory", f"stopped: exceeded the {limits.memory_mb} MB memory limit"
    if returncode == -signal.SIGXFSZ or "[Errno 27] File too large" in _last_exception(stderr):
        return "killed", f"stopped: wrote more than the {limits.max_file_mb} MB file/output limit"
    if returncode < 0:
        return "killed", f"stopped: killed by {_signal_name(-returncode)}"
    return "failed", "failed: " + failure_summary(stderr)


def _signal_name(number: int) -> str:
    """SIGKILL, or "signal 40" for one the signal module has no name for (real-time signals)."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_exception(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line and not line.startswith(" ")]
    return lines[-1] if lines else ""


def missing_module(result: SandboxResult) -> str | None:
    """The module a failed run could not import ("requests"), or None: runs have only the interpreter's own
    modules (often just the standard library) and no network to install more."""
    if result.status != "failed":
        return None
    match = _NO_MODULE.match(_last_exception(result.stderr))
    return match.group(1) if match else None


_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")


def reads_input(result: SandboxResult) -> bool:
    """Whether a failed run wanted keyboard input (`input()`): runs have none, so it raised EOFError."""
    return result.status == "failed" and _last_exception(result.stderr).startswith("EOFError: EOF when reading a line")


def failure_summary(stderr: str) -> str:
    """`AssertionError (line 12: assert add(1, 2) == 4)` from a traceback; the exit status if there is none."""
    exception = _last_exception(stderr)
    if not exception.startswith(("Traceback", "File")) and ("Error" in exception or "Exception" in exception):
        frames = re.findall(rf'File ".*?{_PROGRAM}", line (\d+).*\n\s+(\S.*)', stderr)
        where = f" (line {frames[-1][0]}: {frames[-1][1].strip()})" if frames else ""
        return exception + where
    return exception or "the program exited with an error"


@functools.lru_cache(maxsize=1)
def isolation_problem() -> str | None:
    """Why this machine cannot isolate runs (None: it can). One tiny run, once per process, for the UI to say so up front."""
    result = run_python("pass\n", limits=SandboxLimits(timeout_s=10))
    return None if result.status == "passed" else result.reason
