"""The sandbox: every limit really tried, each layer (audit hook, OS) on its own where we can."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from assistant.sandbox import _UID_RANGE, SandboxLimits, _run_in, classify, failure_summary, run_python

FAST = SandboxLimits(timeout_s=1.5)
OS_ONLY = SandboxLimits(timeout_s=1.5, audit_hook=False)  # the OS layer alone, as if the hook were bypassed
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the OS layer (netns, run uid) needs root")


def run(code: str, tests: str = "", limits: SandboxLimits = FAST):
    return run_python(textwrap.dedent(code), textwrap.dedent(tests), limits)


def sandbox_processes() -> list[int]:
    """Live (not zombie) processes owned by any per-run uid."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            uid, state = entry.stat().st_uid, (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if _UID_RANGE[0] <= uid < _UID_RANGE[1] and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def listener():
    """A TCP server on 127.0.0.1 the untrusted code will try to reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.3)
    yield server
    server.close()


def assert_nobody_connected(server: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        server.accept()


# ---------------------------------------------------------------- verdicts


def test_passing_solution_and_tests_pass():
    result = run("def add(a, b):\n    return a + b\n", "assert add(2, 3) == 5\n")
    assert result.passed and result.status == "passed"
    assert result.returncode == 0 and result.duration_s < 1.5


def test_failing_assertion_is_failed_with_the_assertion_shown():
    result = run("def add(a, b):\n    return a - b\n", "def test_add():\n    assert add(2, 3) == 5\n")
    assert not result.passed and result.status == "failed"
    assert result.reason == "failed: AssertionError (tests, line 2: assert add(2, 3) == 5)"  # as the tests box counts
    assert "0 passed, 1 failed" in result.stdout and "AssertionError" in result.stderr
    assert 'File "tests", line 2, in test_add' in result.stderr  # no server path, no runner frame
    assert "sandbox-" not in result.stderr and "_sandbox_run_tests" not in result.stderr


def test_exceptions_and_syntax_errors_are_failed_with_the_error():
    assert run("def f(:\n").reason.startswith("failed: SyntaxError")
    result = run("print(undefined_name)\n")
    assert result.reason == "failed: NameError: name 'undefined_name' is not defined (code, line 1: print(undefined_name))"
    deeper = run("def f():\n    return 1 / 0\n", "f()\n")
    assert deeper.reason == "failed: ZeroDivisionError: division by zero (code, line 2: return 1 / 0)"
    assert 'File "tests", line 1, in <module>' in deeper.stderr and 'File "code", line 2, in f' in deeper.stderr


def test_uncalled_test_functions_are_run_and_a_file_without_tests_fails():
    result = run("x = 1\n", "def test_one():\n    assert x == 1\n\ndef test_two():\n    assert x == 2\n")
    assert result.status == "failed" and "1 passed, 1 failed" in result.stdout


PALINDROME = "def is_palindrome(s):\n    s = s.lower().replace(' ', '')\n    return s == s[::-1]\n"


def test_unittest_cases_are_run_and_their_failures_read_as_failures():
    """A walkthrough: the model's tests were a unittest.TestCase whose first check failed; the page said passed."""
    case = ("import unittest\n\nclass TestPalindrome(unittest.TestCase):\n    def test_word(self):\n"
            "        self.assertTrue(is_palindrome('Racecar'))\n\n    def test_sentence(self):\n"
            "        self.assertTrue(is_palindrome('A man, a plan, a canal, Panama'))\n")
    failing = run(PALINDROME, case)
    assert failing.status == "failed" and "1 passed, 1 failed" in failing.stdout
    assert failing.reason.startswith("failed: AssertionError: False is not true (tests, line 8:")
    passing = run(PALINDROME, case.split("\n\n    def test_sentence")[0] + "\n")
    assert passing.status == "passed" and "1 passed, 0 failed" in passing.stdout


def test_pytest_style_test_classes_are_run():
    tests = "class TestPalindrome:\n    def test_word(self):\n        assert is_palindrome('noon')\n\n" \
            "    def test_not(self):\n        assert is_palindrome('abc')\n"
    result = run(PALINDROME, tests)
    assert result.status == "failed" and "1 passed, 1 failed" in result.stdout and "line 6" in result.reason



DIV = "def div(a, b):\n    if b == 0:\n        raise ValueError('b is zero')\n    return a / b\n"
PYTEST_TESTS = """\
import pytest

def test_raises():
    with pytest.raises(ValueError, match="zero"):
        div(1, 0)
    pytest.raises(ZeroDivisionError, lambda: 1 / 0)

def test_approx():
    assert div(1, 3) == pytest.approx(0.3333333)
    assert [div(1, 4), 0.1 + 0.2] == pytest.approx([0.25, 0.3])

@pytest.mark.parametrize("a, b, expected", [(6, 3, 2), (1, 2, 0.5), pytest.param(9, 3, 3)])
def test_cases(a, b, expected):
    assert div(a, b) == expected

@pytest.mark.parametrize("pair", [(1, 1), (4, 2)])
@pytest.mark.parametrize("scale", [1, 10])
def test_stacked(pair, scale):
    assert div(pair[0] * scale, pair[1] * scale) >= 1

class TestDiv:
    @pytest.mark.parametrize("x", [1, 2])
    def test_method(self, x):
        assert div(x, x) == 1

@pytest.mark.slow
def test_marked():
    assert div(2, 1) == 2
"""


def test_pytest_style_tests_run_without_pytest_installed():
    """The model is asked for pytest-style tests and starts them with `import pytest`; runs had no pytest, so
    nothing ran ("ModuleNotFoundError: No module named 'pytest'") and the retry rewrote code that was fine."""
    passing = run(DIV, PYTEST_TESTS)
    assert passing.passed and "6 passed, 0 failed" in passing.stdout
    wrong_case = run(DIV, PYTEST_TESTS.replace("(1, 2, 0.5)", "(1, 2, 0.6)"))
    assert wrong_case.status == "failed" and "5 passed, 1 failed" in wrong_case.stdout
    assert "failed case: a=1, b=2, expected=0.6" in wrong_case.stderr
    assert wrong_case.reason == "failed: AssertionError (tests, line 14: assert div(a, b) == expected)"
    no_raise = run(DIV, "import pytest\n\ndef test_x():\n    with pytest.raises(ValueError):\n        div(1, 1)\n")
    assert no_raise.status == "failed" and "DID NOT RAISE ValueError" in no_raise.reason
    other = run(DIV, "import pytest\n\ndef test_x():\n    with pytest.raises(KeyError):\n        div(1, 0)\n")
    assert "ValueError: b is zero" in other.reason  # a different exception is not swallowed
    unmatched = run(DIV, "import pytest\n\ndef test_x():\n    with pytest.raises(ValueError, match='one'):\n"
                         "        div(1, 0)\n")
    assert unmatched.status == "failed" and "Regex pattern did not match" in unmatched.stderr
    assert not run(DIV, "import pytest\n\ndef test_x():\n    assert div(1, 3) == pytest.approx(0.34)\n").passed
    assert run(DIV, "import pytest\n\ndef test_x():\n    assert div(4, 2) == 2\n\npytest.main()\n").passed


# ---------------------------------------------------------------- resource limits


def test_infinite_loop_is_stopped_at_the_time_limit():
    started = time.perf_counter()
    result = run("while True:\n    pass\n")
    assert result.status == "timeout" and result.reason == "stopped: exceeded the 1.5 s time limit"
    assert time.perf_counter() - started < 5


def test_sleeping_program_is_stopped_by_the_wall_clock():
    result = run("import time\ntime.sleep(60)\n")
    assert result.status == "timeout" and 1.4 < result.duration_s < 5


def test_memory_hog_is_stopped_at_the_memory_limit():
    result = run("hog = []\nwhile True:\n    hog.append(' ' * 10**7)\n", limits=SandboxLimits(memory_mb=256))
    assert result.status == "memory" and result.reason == "stopped: exceeded the 256 MB memory limit"


def test_output_flood_is_capped():
    limits = SandboxLimits(timeout_s=5, max_file_mb=1, output_chars=500)
    result = run("while True:\n    print('x' * 1000)\n", limits=limits)
    assert result.status == "killed" and "1 MB file/output limit" in result.reason
    assert len(result.stdout) < 600 and result.stdout.endswith("[... output truncated ...]")


def test_fork_bomb_is_blocked_by_the_audit_hook():
    result = run("import os\nwhile True:\n    os.fork()\n")
    assert result.status == "blocked" and result.reason == "blocked: starting processes is not allowed"
    assert run("import subprocess\nsubprocess.run(['ls'])\n").status == "blocked"
    assert run("import os\nos.system('ls')\n").status == "blocked"


@needs_root
def test_process_limit_holds_without_the_hook():
    forks = """\
        import os, time
        n = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
        except OSError as error:
            print(n, error.errno)
        """
    result = run(forks, limits=OS_ONLY)
    made, errno = map(int, result.stdout.split())
    assert made < OS_ONLY.max_processes and errno == 11  # EAGAIN from RLIMIT_NPROC
    assert sandbox_processes() == []  # the sleeping children were killed with the run


@needs_root
def test_fork_bomb_without_the_hook_is_contained_and_killed():
    bomb = """\
        import os
        if os.fork() == 0:
            os.setsid()  # leave the process group: only the per-uid kill can reach it
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """
    result = run(bomb, limits=OS_ONLY)
    assert result.status == "timeout"
    assert sandbox_processes() == []


def test_ways_around_the_hook_are_blocked():
    assert run("import ctypes\n").reason == "blocked: loading native code (ctypes) is not allowed"
    assert run("import gc\ngc.get_objects()\n").status == "blocked"  # would reach the hook's closure
    assert run("import os\nos.chdir('/')\nprint(os.listdir())\n").status == "blocked"
    assert run("import os, signal\nos.kill(-1, signal.SIGKILL)\n").reason == "blocked: sending signals is not allowed"


HIJACK = """\
    import os, shutil, sys

    def hijack():  # what a program would do with a frame of the hook: switch its block() off
        frame = sys._getframe(1)
        while frame is not None:
            for value in list(frame.f_locals.values()):
                for cell in getattr(value, "__closure__", None) or ():
                    if getattr(cell.cell_contents, "__name__", "") == "block":
                        cell.cell_contents = lambda why: None
            frame = frame.f_back

    class Sneaky:
        def __getattr__(self, name):
            hijack()
            raise AttributeError(name)

    class Text(str):
        def __eq__(self, other):
            hijack()
            return str.__eq__(self, other)
        __hash__ = str.__hash__
        def startswith(self, *args):
            hijack()
            return str.startswith(self, *args)
        def __fspath__(self):
            hijack()
            return str(self)
"""


def test_the_hook_never_runs_the_programs_code_so_it_cannot_be_switched_off():
    """An earlier escape: the hook asked a path object for __fspath__, so the object's code ran inside the hook."""
    attempts = """\
        for attempt in (lambda: shutil.copyfile(Sneaky(), "copy"), lambda: open(Text("mine.txt"), "w").close(),
                        lambda: __import__(Text("json")), lambda: setattr(hijack, Text("__doc__"), "x"),
                        lambda: os.mkdir(Text("folder")), lambda: os.listdir(Text("."))):
            try:
                attempt()
            except Exception:
                pass
        print(os.listdir("/"))
        """
    result = run(textwrap.dedent(HIJACK) + textwrap.dedent(attempts))
    assert result.status == "blocked" and result.reason.startswith("blocked: reading files outside the sandbox")


def test_an_error_inside_the_hook_ends_the_run_instead_of_reaching_the_program():
    """An exception raised in the hook would carry its frames (and its closure) to the program's except clause."""
    gone = "import os\nos.mkdir('d')\nos.chdir('d')\nos.rmdir('../d')\nopen('x', 'w')\n"  # getcwd() fails now
    assert run(gone).reason == "blocked: the sandbox could not check an operation"
    assert run("import sys\nsys.setprofile(lambda *a: None)\n").reason == \
        "blocked: inspecting the interpreter's objects is not allowed"  # a profiler sees every frame, the hook's too


def test_descriptors_of_directories_outside_the_run_cannot_anchor_relative_paths():
    """os.open(dir) + dir_fd= would make 'name' mean a file beside the interpreter's, not in the run directory."""
    anchored = "import json, os\nfd = os.open(os.path.dirname(json.__file__), os.O_RDONLY)\nos.remove('x', dir_fd=fd)\n"
    assert run(anchored).reason == "blocked: opening directories outside the sandbox is not allowed"
    assert run("import os\nos.mkdir('d')\nos.open('d/../x', os.O_CREAT | os.O_WRONLY)\n").reason == \
        "blocked: os.open paths with '..' are not allowed"
    # '../x' is inside the run from the current directory d/e, but beside the run directory from the descriptor's
    inside = "import os\nos.makedirs('d/e')\nfd = os.open('.', os.O_RDONLY)\nos.chdir('d/e')\nos.mkdir('../x', dir_fd=fd)\n"
    assert run(inside).reason == "blocked: paths relative to a directory descriptor must be plain names"
    honest = """\
        import os, shutil, tempfile
        with tempfile.TemporaryDirectory(dir=".") as tmp:
            os.makedirs(os.path.join(tmp, "a", "b"))
            open(os.path.join(tmp, "a", "b", "f.txt"), "w").write("x")
        shutil.rmtree("made", ignore_errors=True)
        os.makedirs("made/deeper")
        open("made/deeper/g.txt", "w").write("y")
        shutil.rmtree("made")
        assert not os.path.exists("made")
        """
    assert run(honest).passed  # shutil.rmtree's descriptor-relative removals stay allowed


def test_a_run_killed_by_a_signal_without_a_name_is_reported():
    result = run("import signal\nsignal.raise_signal(40)\n")
    assert result.status == "killed" and result.reason == "stopped: killed by signal 40"


# ---------------------------------------------------------------- network


def test_network_connection_is_blocked(listener):
    port = listener.getsockname()[1]
    result = run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n")
    assert result.status == "blocked" and result.reason == "blocked: network access is not allowed"
    assert_nobody_connected(listener)


@needs_root
def test_network_namespace_holds_without_the_hook(listener):
    port = listener.getsockname()[1]
    result = run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n", limits=OS_ONLY)
    assert result.status == "failed" and "Network is unreachable" in result.reason
    assert_nobody_connected(listener)


# ---------------------------------------------------------------- the app's data and secrets


@pytest.fixture
def app_data(tmp_path):
    data = tmp_path / "app_data"
    data.mkdir()
    secret = data / "store.json"
    secret.write_text("TOP-SECRET-INDEX")
    secret.chmod(0o600)
    return secret


def test_reading_app_data_is_blocked(app_data):
    result = run(f"print(open({str(app_data)!r}).read())\n")
    assert result.status == "blocked" and result.reason.startswith("blocked: reading files outside the sandbox")
    assert "TOP-SECRET" not in result.stdout
    assert run(f"import os\nprint(os.listdir({str(app_data.parent)!r}))\n").status == "blocked"
    assert run("print(open('/etc/passwd').read())\n").status == "blocked"


def test_the_apps_files_do_not_exist_for_the_run_without_the_hook(app_data):
    """The run's root is a new one: no app data (whatever its permissions), no /proc, no programs to start."""
    app_data.chmod(0o644)  # even a world-readable file of the app's
    code = f"""\
        import os
        print(sorted(os.listdir('/')))
        for path in ({str(app_data)!r}, {str(app_data.parent)!r}, '/proc/1/environ', '/bin/sh', '/etc/passwd'):
            print(path, os.path.exists(path))
        """
    result = run(code, limits=OS_ONLY)
    assert result.passed, result.stderr
    listing, *checks = result.stdout.splitlines()
    assert "proc" not in listing and "home" not in listing
    assert all(line.endswith(" False") for line in checks), checks
    result = run(f"print(open({str(app_data)!r}).read())\n", limits=OS_ONLY)
    assert "FileNotFoundError" in result.reason and "TOP-SECRET" not in result.stdout


def test_a_run_cannot_reach_the_apps_files_through_the_standard_library_directory(app_data):
    """An earlier escape: a symlink named like a stdlib package, then a chdir into the standard library."""
    escape = """\
        import os, sys
        os.makedirs('a/b/c/d/e/f/g/h')
        os.symlink('a/b/c/d/e/f/g/h', 'json')
        """
    assert run(escape).reason == "blocked: creating symbolic links is not allowed"
    stdlib = os.path.dirname(os.__file__)
    assert run(f"import os\nos.chdir({stdlib!r})\n").reason == \
        "blocked: changing to a directory outside the sandbox is not allowed"
    result = run(escape + f"os.chdir({stdlib!r})\nprint(open('json/' + '../' * 8 + {str(app_data)[1:]!r}).read())\n",
                 limits=OS_ONLY)
    assert not result.passed and "TOP-SECRET" not in result.stdout
    assert run("import _posixsubprocess\n").reason == "blocked: starting processes is not allowed"


def test_a_machine_that_cannot_isolate_refuses_to_run_unless_told_otherwise(tmp_path):
    """When the kernel refuses the namespaces (simulated: the new root cannot be mounted), nothing runs."""
    work = Path(tempfile.mkdtemp(prefix="sandbox-test-"))  # as run_python makes it (pytest's tmp_path is 0700)
    refused = _run_in(work, tmp_path / "missing", "print('ran')\n", FAST)
    assert refused.status == "error" and "cannot isolate code runs" in refused.reason and refused.stdout == ""
    allowed = _run_in(work, tmp_path / "missing", "print('ran')\n", SandboxLimits(timeout_s=1.5, isolation="best-effort"))
    assert allowed.passed and allowed.stdout == "ran\n"
    shutil.rmtree(work)


def test_environment_secrets_are_not_visible(monkeypatch):
    monkeypatch.setenv("ASSISTANT_OPENAI_API_KEY", "sk-test-secret")
    result = run("import os\nprint(sorted(os.environ))\nprint(os.environ.get('ASSISTANT_OPENAI_API_KEY'))\n")
    assert result.passed and result.stdout == "['LANG', 'PATH']\nNone\n"
    leak = run(f"print(open('/proc/{os.getpid()}/environ').read())\n")
    assert leak.status == "blocked" and "sk-test-secret" not in leak.stdout


def test_writing_outside_the_run_directory_is_blocked(tmp_path):
    target = tmp_path / "planted.py"
    result = run(f"open({str(target)!r}, 'w').write('x')\n")
    assert result.status == "blocked" and result.reason.startswith("blocked: writing files outside the sandbox")
    assert not target.exists()
    assert run(f"import os\nos.remove({str(tmp_path)!r})\n").status == "blocked"


def test_the_run_directory_is_writable_and_deleted_afterwards():
    result = run("import os\nopen('scratch.txt', 'w').write('ok')\nprint(os.getcwd())\n")
    assert result.passed
    assert not Path(result.stdout.strip()).exists()


# ---------------------------------------------------------------- classification (pure)


def test_classify_maps_exit_statuses():
    limits = SandboxLimits(timeout_s=5)
    assert classify(-24, False, "", limits) == ("timeout", "stopped: exceeded the 5 s time limit")  # SIGXCPU
    assert classify(-9, True, "", limits)[0] == "timeout"
    assert classify(-11, False, "", limits) == ("killed", "stopped: killed by SIGSEGV")
    assert classify(86, False, "SANDBOX-BLOCKED: network access is not allowed\n", limits)[0] == "blocked"
    assert classify(86, False, "no mark: a program exiting 86 by itself\n", limits)[0] == "failed"


def test_failure_summary_without_a_traceback():
    assert failure_summary("") == "the program exited with an error"


def test_this_machine_isolates_runs():
    """CI and the development machines can isolate runs; the UI asks the same question once at start."""
    from assistant.sandbox import isolation_problem

    assert isolation_problem() is None


def test_runs_work_under_the_apps_private_umask():
    """app.main sets umask 077 (stores private to the app); the run's new root must still be reachable."""
    previous = os.umask(0o077)
    try:
        result = run("print('ran')\n", "assert True\n")
    finally:
        os.umask(previous)
    assert result.passed and result.stdout == "ran\n", result.reason


def test_the_sandbox_benchmark_runs_and_prints_its_table():
    from bench.sandbox import measure, table

    rows = measure(rounds=1)
    assert len(rows) == 6 and all(median > 0 for _, _, median, _ in rows)
    assert "| HumanEval/0 + tests | sandbox (as shipped) |" in table(rows)
