"""The skip policy (tests/skip_policy.py) fails a run whose skips are not accounted for."""

import importlib.util
from pathlib import Path

import pytest

# loaded from its file: with --import-mode=importlib the tests folder is not on sys.path
_spec = importlib.util.spec_from_file_location("_skip_policy_under_test", Path(__file__).with_name("skip_policy.py"))
skip_policy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(skip_policy)

TESTS = """
import pytest

def test_passes():
    pass

def test_no_cuda():
    pytest.skip("no CUDA device on this machine")

@pytest.mark.xfail(reason="an expected failure is not a skip")
def test_xfail():
    assert False
"""


def run(pytester, monkeypatch, source, profile=None):
    if profile is None:
        monkeypatch.delenv(skip_policy.PROFILE_ENV, raising=False)
    else:
        monkeypatch.setenv(skip_policy.PROFILE_ENV, profile)
    pytester.makepyfile(**source) if isinstance(source, dict) else pytester.makepyfile(source)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-ra", plugins=[skip_policy])


def test_listed_skips_pass(pytester, monkeypatch):
    result = run(pytester, monkeypatch, TESTS)
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["skip policy: all 1 skips are on the allow-list*",
                                 "SKIPPED * no CUDA device on this machine"])


def test_an_unlisted_skip_fails_the_run(pytester, monkeypatch):
    result = run(pytester, monkeypatch, TESTS + """
def test_interop():
    pytest.importorskip("snntorch_that_is_not_installed", reason="needs snntorch")
""")
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*= skip policy =*",
                                 "unlisted skip: test_an_unlisted_skip_fails_the_run.py::test_interop: needs snntorch",
                                 "1 of 2 skips have a reason not on the allow-list*"])


def test_a_skipped_module_is_checked_too(pytester, monkeypatch):
    result = run(pytester, monkeypatch, {"test_ok": "def test_x():\n    pass\n",
                                         "test_skipped": "import pytest\npytest.importorskip('torch_that_is_not_installed')\n"})
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["unlisted skip: test_skipped.py: could not import 'torch_that_is_not_installed'*"])


def test_the_torch_free_profile_allows_missing_torch(pytester, monkeypatch):
    source = TESTS + """
def test_snn():
    pytest.skip("the snntorch backend needs the 'snn' extra")

def test_other():
    pytest.skip("flaky, skipped for now")
"""
    result = run(pytester, monkeypatch, source, profile="torch-free")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["unlisted skip: *::test_other: flaky, skipped for now"])
    result.stdout.no_fnmatch_line("unlisted skip: *::test_snn*")


def test_an_unknown_profile_is_a_usage_error(pytester, monkeypatch):
    result = run(pytester, monkeypatch, TESTS, profile="no-gpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_failing_run_keeps_its_exit_status(pytester, monkeypatch):
    assert run(pytester, monkeypatch, "def test_fails():\n    assert False\n").ret == pytest.ExitCode.TESTS_FAILED
    result = run(pytester, monkeypatch, "import pytest\npytest.skip('no tests here', allow_module_level=True)\n")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED       # 5 stays 5: make fails on it as on 1


def test_the_allow_list_says_why():
    for allowed in (skip_policy.ALLOWED_SKIPS, skip_policy.TORCH_FREE_SKIPS):
        assert allowed and all(pattern and why for pattern, why in allowed)
