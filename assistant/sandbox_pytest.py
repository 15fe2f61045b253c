"""A small stand-in for `pytest` inside sandbox runs whose interpreter has none.

Tests written "pytest style" (by a visitor or by the model, which is asked for exactly that) start with
`import pytest` and use `pytest.raises`, `pytest.approx` and `@pytest.mark.parametrize`. Runs have only the
interpreter's own modules, usually the standard library, so that import failed and not one check ran. The
sandbox's bootstrap loads this file's source as the module `pytest` when the real one cannot be imported; the
sandbox's runner then calls the `test_*` functions as before. Fixtures are not provided: a test that asks for one
fails with the missing argument named.

Standard library only: this runs inside the sandbox, before the untrusted code.
"""

from __future__ import annotations

import math
import re
import sys

__version__ = "0 (sandbox stand-in)"


class Failed(AssertionError):
    """Raised by `fail()`."""


def fail(reason: str = "") -> None:
    raise Failed(reason)


def main(*_args, **_kwargs) -> int:
    """`pytest.main()` at the end of a test file: the sandbox runs the `test_*` functions itself."""
    return 0


class RaisesContext:
    """`with raises(ValueError, match="bad"):`: the block must raise that exception (its text matching)."""

    def __init__(self, expected, match=None):
        self.expected, self.match, self.value = expected, match, None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            raise Failed(f"DID NOT RAISE {_names(self.expected)}")
        if not issubclass(kind, self.expected):
            return False  # a different exception propagates, as in pytest
        if self.match is not None and not re.search(self.match, str(value)):
            raise Failed(f"Regex pattern did not match.\n Regex: {self.match!r}\n Input: {str(value)!r}")
        self.value, self.type = value, kind
        return True


def raises(expected, *args, match=None, **kwargs):
    """`raises(E)` as a context manager, or `raises(E, func, *args)` calling func."""
    context = RaisesContext(expected, match)
    if not args:
        return context
    with context:
        args[0](*args[1:], **kwargs)
    return context


def _names(expected) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(k.__name__ for k in kinds)


class ApproxValue:
    """`approx(0.3) == 0.1 + 0.2`: numbers (or sequences / dicts of them) equal within a tolerance."""

    def __init__(self, expected, rel=None, abs=None):
        self.expected, self.rel, self.abs = expected, rel, abs

    def __eq__(self, actual):
        return _close(actual, self.expected, 1e-6 if self.rel is None else self.rel,
                      1e-12 if self.abs is None else self.abs)

    def __ne__(self, actual):
        return not self == actual

    __hash__ = None

    def __repr__(self):
        return f"approx({self.expected!r})"


def approx(expected, rel=None, abs=None):  # noqa: A002 - pytest's own argument name
    return ApproxValue(expected, rel, abs)


def _close(actual, expected, rel, tolerance) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and actual.keys() == expected.keys() and all(
            _close(actual[k], v, rel, tolerance) for k, v in expected.items())
    if isinstance(expected, (list, tuple)):
        return isinstance(actual, (list, tuple)) and len(actual) == len(expected) and all(
            _close(a, e, rel, tolerance) for a, e in zip(actual, expected))
    try:
        return math.isclose(actual, expected, rel_tol=rel, abs_tol=tolerance)
    except TypeError:
        return actual == expected


class _Param(tuple):
    """The values of one `param(...)` case."""


def param(*values, id=None, marks=()):  # noqa: A002 - pytest's own argument name
    """One case of a parametrize list."""
    return _Param(values)


class _Mark:
    """`pytest.mark`: `parametrize` runs a test once per case; every other mark leaves the test as it is."""

    @staticmethod
    def parametrize(names, cases, ids=None, **_options):
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)

        def decorate(test):
            def run_cases(*bound, **fixed):  # bound: a Test class's instance
                for case in cases:
                    values = case if len(names) > 1 or isinstance(case, _Param) else (case,)
                    arguments = dict(zip(names, values))
                    try:
                        test(*bound, **fixed, **arguments)
                    except Exception:
                        # which case failed, above its traceback (a note after it would hide the exception's line)
                        sys.stderr.write("failed case: " + ", ".join(f"{k}={v!r}" for k, v in arguments.items()) + "\n")
                        raise
            run_cases.__name__ = getattr(test, "__name__", "test")
            return run_cases
        return decorate

    def __getattr__(self, name):
        def mark(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:
                return args[0]
            return lambda test: test
        return mark


mark = _Mark()
