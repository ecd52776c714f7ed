import importlib
import json
import sys

import pytest

import metaplastic
import metaplastic.errors
from metaplastic.errors import BackendUnavailable, UnknownNameError
from metaplastic.registry import BACKENDS, TASKS, Registry
from tests.conftest import write_distribution


def test_builtin_backend_listed_with_capabilities_and_version():
    infos = {i.name: i for i in metaplastic.backends()}
    assert infos["random"].available
    assert infos["random"].distribution == "metaplastic"
    assert infos["random"].version == metaplastic.__version__
    assert infos["random"].capabilities.meta_train is False


def test_unknown_backend_lists_installed_names():
    with pytest.raises(UnknownNameError) as err:
        metaplastic.make("randmo")
    msg = str(err.value)
    assert "random" in msg and "did you mean 'random'" in msg and "\n" not in msg


def test_broken_plugin_does_not_break_the_others(plugin_site):
    infos = {i.name: i for i in metaplastic.backends()}
    assert {"probe", "broken", "random"} <= set(infos)
    assert infos["broken"].available is False
    assert infos["broken"].reason.startswith("import failed: ImportError: broken_plugin needs a library")
    assert "second line" not in infos["broken"].reason
    assert infos["probe"].available and infos["probe"].version == "0.1.0"
    with pytest.raises(BackendUnavailable, match="broken"):
        metaplastic.make("broken")
    assert metaplastic.make("probe").name == "probe"


@pytest.fixture
def exiting_site(tmp_path, monkeypatch):
    """Fake distributions whose import calls ``sys.exit`` (a backend and a task family), and
    one whose import is interrupted (in a group of its own: ``metaplastic backends`` must
    not meet it)."""
    site = write_distribution(
        tmp_path / "site", "metaplastic-exits", "0.1.0",
        {"metaplastic.backends": {"exits": "exit_plugin:Learner"},
         "metaplastic.tasks": {"exits-tasks": "exit_plugin:Tasks"},
         "metaplastic.test-interrupt": {"interrupted": "interrupt_plugin:Learner"}},
        modules=("exit_plugin", "interrupt_plugin"),
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    BACKENDS.refresh()
    TASKS.refresh()
    yield site
    for mod in ("exit_plugin", "interrupt_plugin"):
        sys.modules.pop(mod, None)
    BACKENDS.refresh()
    TASKS.refresh()


def test_a_plugin_raising_system_exit_at_import_is_listed_unavailable(exiting_site):
    # before: SystemExit went through the registry and `metaplastic backends` exited with no output
    info = BACKENDS.info("exits")
    assert not info.available
    assert info.reason == "import failed: SystemExit: exit_plugin was run as a script"
    assert not TASKS.info("exits-tasks").available
    with pytest.raises(BackendUnavailable, match=r"^backend 'exits' cannot be used here: import failed: SystemExit"):
        metaplastic.make("exits")
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C while a plugin loads still interrupts
        Registry("metaplastic.test-interrupt", "backend").info("interrupted")


def test_metaplastic_backends_survives_a_plugin_raising_system_exit(exiting_site, monkeypatch, capsys):
    from metaplastic.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["backends", "--json"])
    out = capsys.readouterr().out
    assert exc.value.code in (0, None), out
    rows = json.loads(out)
    rows = rows["backends"] if isinstance(rows, dict) else rows
    listed = {r["name"]: r for r in rows}
    assert listed["exits"]["available"] is False and "SystemExit" in listed["exits"]["reason"]
    assert listed["random"]["available"] is True


def test_missing_extra_names_the_pip_command_without_importing(plugin_site):
    info = {i.name: i for i in metaplastic.backends()}["needs-extra"]
    assert not info.available
    assert info.install == "pip install 'metaplastic-probe[fancy]'"
    assert "definitely-not-installed-pkg" in info.reason


def test_fallback_chain_is_data_and_takes_first_available(plugin_site):
    reg = Registry("metaplastic.backends", "backend", {"fam": ("broken", "needs-extra", "probe", "random")})
    assert reg.resolve("fam") == "probe"
    reg2 = Registry("metaplastic.backends", "backend", {"fam": ("broken", "needs-extra", "not-there")})
    with pytest.raises(BackendUnavailable) as err:
        reg2.resolve("fam")
    assert "broken: import failed" in str(err.value) and "not-there: not installed" in str(err.value)


def test_available_reports_family_names():
    av = metaplastic.available()
    assert av["random"].available
    assert "spiking" in av  # a family; its members are added by later backends
    if not av["spiking"].available:
        assert "snntorch" in av["spiking"].reason and "numba" in av["spiking"].reason


def test_make_rejects_unknown_config_key():
    with pytest.raises(metaplastic.errors.ConfigError, match="unknown parameter 'sed'"):
        metaplastic.make("random", sed=1)


def test_non_string_name_is_a_clear_error():
    with pytest.raises(UnknownNameError, match="must be a string"):
        BACKENDS.resolve(3)
