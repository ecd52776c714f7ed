"""Skips are accounted for: a pytest plugin (registered in tests/conftest.py) that fails
the run when a test is skipped for a reason not on :data:`ALLOWED_SKIPS`.

A skip hides a check; this list is where the project says which checks may be missing and
why. Each entry is ``(regular expression searched in the skip reason, why it is fine)``.
``-ra`` (in pytest's addopts) prints every skip with its reason; this plugin adds a
"skip policy" section naming the unlisted ones, and turns a passing exit status into 1
(a failing one, including 5 "no tests collected", is left as it is).

``METAPLASTIC_SKIP_PROFILE=torch-free`` (set by ``make test-notorch``) also allows
:data:`TORCH_FREE_SKIPS`: that environment installs no extra, on purpose."""

from __future__ import annotations

import os
import re

import pytest

ALLOWED_SKIPS: tuple[tuple[str, str], ...] = (
    (r"no CUDA device", "GPU-only checks; they run on a machine with a CUDA device"),
    (r"no GPU meter|NVML|RAPL", "energy meters that need the hardware's counters (NVIDIA NVML, Intel RAPL)"),
    (r"^capabilities\.meta_train is False$",
     "conformance checks of meta-training, for backends that declare they do not meta-train"),
    (r"^no bad observation is defined for ", "conformance check of the harness's observation check, for spaces "
     "other than Box/Discrete"),
    (r"^documents snntorch 1\.0\.0's importer", "pins the NIR-import behaviour of snntorch 1.0.0 only; "
     "a newer snntorch skips it"),
    (r"^backend unavailable: backend 'needs-extra'",
     "the deliberate fake plugin whose extra is missing (tests/conftest.py, plugin_site)"),
    (r"^no Python 3\.10 interpreter",
     "the Lava runtime's checks need a Python 3.10 interpreter (lava-nc does not run on the host's Python); "
     "a machine without one skips them"),
)

TORCH_FREE_SKIPS: tuple[tuple[str, str], ...] = (
    (r"\b(torch|snntorch|nir|nirtorch|neurobench)\b|the '(torch|snn)' extra",
     "the torch-free environment has no torch, snntorch, NIR or NeuroBench, by design"),
)

PROFILE_ENV = "METAPLASTIC_SKIP_PROFILE"
PROFILES = {"": ALLOWED_SKIPS, "torch-free": ALLOWED_SKIPS + TORCH_FREE_SKIPS}


def allowed_skips() -> tuple[tuple[str, str], ...]:
    """The allow-list for the profile named in ``METAPLASTIC_SKIP_PROFILE`` (default: none)."""
    profile = os.environ.get(PROFILE_ENV, "").strip()
    if profile not in PROFILES:
        raise pytest.UsageError(f"{PROFILE_ENV}={profile!r}: expected one of {sorted(p for p in PROFILES if p)}")
    return PROFILES[profile]


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a skipped report gives (``longrepr`` is ``(path, lineno, "Skipped: why")``)."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


class SkipPolicy:
    """Collects every skip of the session; fails the session on unlisted ones."""

    def __init__(self, allowed: tuple[tuple[str, str], ...]):
        self.allowed = [re.compile(pattern) for pattern, _ in allowed]
        self.unlisted: list[tuple[str, str]] = []
        self.n_skips = 0

    def _record(self, report) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        self.n_skips += 1
        reason = skip_reason(report)
        if not any(p.search(reason) for p in self.allowed):
            self.unlisted.append((report.nodeid, reason))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)        # a module-level importorskip skips the whole module here

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.unlisted and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.n_skips:
            return
        tr = terminalreporter
        if not self.unlisted:
            tr.write_line(f"skip policy: all {self.n_skips} skips are on the allow-list (tests/skip_policy.py)")
            return
        tr.section("skip policy", sep="=", red=True, bold=True)
        for nodeid, reason in self.unlisted:
            tr.write_line(f"unlisted skip: {nodeid}: {reason}")
        tr.write_line(f"{len(self.unlisted)} of {self.n_skips} skips have a reason not on the allow-list in "
                      f"tests/skip_policy.py: install what they need, fix the test, or add the reason there "
                      f"(with why); {PROFILE_ENV}=torch-free allows the torch-free environment's skips")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipPolicy(allowed_skips()), "metaplastic-skip-policy")
