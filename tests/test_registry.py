import pytest

import metaplastic
import metaplastic.errors
from metaplastic.errors import BackendUnavailable, UnknownNameError
from metaplastic.registry import BACKENDS, Registry


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
