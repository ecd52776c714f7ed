"""pytest plugin (registered through the ``pytest11`` entry point): a ``learner`` fixture
that raises :class:`~metaplastic.errors.BackendUnavailable` skips the test, unless the
backend is named in ``METAPLASTIC_REQUIRE_BACKENDS=a,b`` (or it is ``all``), which makes
it a failure. This is what lets a conformance class take ``learner`` directly, so a
plugin author may parametrize it."""

from __future__ import annotations

import os

import pytest

from metaplastic.errors import BackendUnavailable

REQUIRE_ENV = "METAPLASTIC_REQUIRE_BACKENDS"


def required_backends() -> set[str]:
    """The names in ``METAPLASTIC_REQUIRE_BACKENDS``."""
    return {n.strip() for n in os.environ.get(REQUIRE_ENV, "").split(",") if n.strip()}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    try:
        return (yield)
    except BackendUnavailable as exc:
        if fixturedef.argname != "learner":
            raise
        required = required_backends()
        if required and ((exc.name or "") in required or "all" in required):
            pytest.fail(f"required backend unavailable: {exc}", pytrace=False)
        pytest.skip(f"backend unavailable: {exc}")
