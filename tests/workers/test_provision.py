"""Provisioning external runtimes (metaplastic/workers/provision.py): finding an
interpreter, records and health, the worker files, install/remove and the `runtime`
commands. Fast tests use fake interpreters (shell scripts); one slow test installs the real
Lava runtime into a temporary home."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path

import pytest

from metaplastic.cli import main
from metaplastic.errors import ConfigError, RuntimeMissing
from metaplastic.workers import provision
from metaplastic.workers.provision import (
    Installed,
    ensure_worker,
    find_python,
    install,
    locate,
    remove,
    runtime_home,
    status,
    unavailable,
)
from metaplastic.workers.specs import RUNTIMES

NOT_INSTALLED = "runtime 'lava' is not installed; install it with: metaplastic runtime install lava"


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def failing_shim(path: Path) -> Path:
    """What pyenv's shim does for a version that is installed but not selected."""
    return script(path, f'echo "pyenv: {path.name}: command not found" >&2\nexit 127')


def reporting(path: Path, version: str) -> Path:
    return script(path, f"echo {version}")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty METAPLASTIC_HOME."""
    root = tmp_path / "home"
    monkeypatch.setenv("METAPLASTIC_HOME", str(root))
    return root


def fake_runtime(home: Path, *, probe_ok: bool = True, record: dict | None = None) -> Path:
    """A runtime folder that looks installed: a record and a fake venv interpreter that
    imports the probe (exit 0) or fails to."""
    root = home / "runtimes" / "lava"
    body = "exit 0" if probe_ok else "echo \"ModuleNotFoundError: No module named 'lava'\" >&2\nexit 1"
    script(root / "venv" / "bin" / "python", body)
    spec = RUNTIMES["lava"]
    rec = {"name": "lava", "requirements": list(spec.requirements), "package": spec.package,
           "site_packages": "venv/lib/python3.10/site-packages", "python_version": "3.10.99",
           "versions": {"lava-nc": "0.10.0", "numpy": "1.26.4"}}
    (root / "runtime.json").write_text(json.dumps(rec if record is None else record))
    return root


# --- where runtimes live


def test_runtime_home_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("METAPLASTIC_HOME", str(tmp_path / "mp"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert runtime_home() == tmp_path / "mp"
    monkeypatch.delenv("METAPLASTIC_HOME")
    assert runtime_home() == tmp_path / "xdg" / "metaplastic"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert runtime_home() == tmp_path / "user" / ".local" / "share" / "metaplastic"


# --- finding an interpreter


def test_find_python_skips_a_failing_shim(tmp_path, monkeypatch):
    failing_shim(tmp_path / "shims" / "python3.10")
    pyenv = tmp_path / "pyenv"
    failing_shim(pyenv / "versions" / "3.10.100" / "bin" / "python3.10")         # newest, broken
    good = reporting(pyenv / "versions" / "3.10.9" / "bin" / "python3.10", "3.10.9")
    reporting(pyenv / "versions" / "3.10.1" / "bin" / "python3.10", "3.10.1")     # older
    monkeypatch.setenv("PATH", str(tmp_path / "shims"))
    monkeypatch.setenv("PYENV_ROOT", str(pyenv))
    assert find_python("3.10") == str(good)


def test_find_python_takes_a_working_python_on_path_first(tmp_path, monkeypatch):
    on_path = reporting(tmp_path / "bin" / "python3.10", "3.10.4")
    reporting(tmp_path / "pyenv" / "versions" / "3.10.9" / "bin" / "python3.10", "3.10.9")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    assert find_python("3.10") == str(on_path)


def test_find_python_skips_a_candidate_of_another_version(tmp_path, monkeypatch):
    mislabelled = reporting(tmp_path / "bin" / "python3.99", "3.9.18")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(RuntimeMissing, match=rf"^no Python 3\.99 interpreter found \(tried {mislabelled}: reports 3\.9\.18\)"):
        find_python("3.99")


def test_no_interpreter_is_one_line_that_says_how_to_fix_it(tmp_path, monkeypatch):
    failing_shim(tmp_path / "shims" / "python3.99")
    monkeypatch.setenv("PATH", str(tmp_path / "shims"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(RuntimeMissing) as info:
        find_python("3.99")
    msg = str(info.value)
    assert msg.startswith("no Python 3.99 interpreter found")
    assert "command not found" in msg and "--python PATH" in msg and "\n" not in msg


@pytest.mark.parametrize("make, fragment", [
    (lambda d: reporting(d / "python", "3.11.7"), "reports Python 3.11.7, not 3.10"),
    (lambda d: failing_shim(d / "python3.10"), "does not run as Python (exit code 127: pyenv: python3.10: command not found)"),
    (lambda d: d / "missing" / "python3.10", "does not run as Python (not found)"),
])
def test_a_given_python_must_be_the_version_asked(tmp_path, make, fragment):
    given = make(tmp_path)
    with pytest.raises(ConfigError) as info:
        find_python("3.10", str(given))
    msg = str(info.value)
    assert msg.startswith(f"--python {given} ") and fragment in msg and "\n" not in msg
    assert msg.endswith("pass the path of a Python 3.10 interpreter")


def test_a_given_python_of_the_right_version_is_taken(tmp_path):
    given = reporting(tmp_path / "py", "3.10.2")
    assert find_python("3.10", str(given)) == str(given)


# --- unknown names, an empty home


@pytest.mark.parametrize("call", [install, locate, remove, unavailable])
def test_an_unknown_runtime_is_one_line_listing_the_known_ones(home, call):
    with pytest.raises(ConfigError, match=r"^unknown runtime 'loihi3'; known runtimes: lava$"):
        call("loihi3")


def test_an_empty_home_has_nothing_installed(home):
    assert unavailable("lava") == NOT_INSTALLED
    with pytest.raises(RuntimeMissing, match=f"^{NOT_INSTALLED}$"):
        locate("lava")
    assert remove("lava") is False
    (s,) = status()
    assert (s.name, s.installed, s.healthy, s.reason, s.size_mb) == ("lava", False, False, NOT_INSTALLED, None)
    assert s.path == home / "runtimes" / "lava"
    assert not home.exists()      # looking writes nothing


# --- records and health, cheaply


def test_a_runtime_with_a_record_and_an_interpreter_is_located(home):
    root = fake_runtime(home)
    assert unavailable("lava") is None
    rt = locate("lava")
    assert (rt.name, rt.root, rt.python) == ("lava", root, root / "venv" / "bin" / "python")
    assert rt.worker_dir == root / "venv/lib/python3.10/site-packages/metaplastic_runtime"
    (s,) = status()
    assert s.installed and s.healthy and s.reason is None
    assert s.versions == {"lava-nc": "0.10.0", "numpy": "1.26.4"} and s.python_version == "3.10.99"


@pytest.mark.parametrize("breakage, fragment", [
    ("garbage", "is broken: its runtime.json is unreadable (JSONDecodeError)"),
    ("incomplete", "is broken: its runtime.json lacks 'site_packages'"),
    ("other-pins", "was installed with lava-nc==0.9.0 numpy<2; this metaplastic needs lava-nc==0.10.0 numpy<2"),
    ("no-python", "has no working venv/bin/python"),
])
def test_a_broken_runtime_is_unavailable_with_a_reason(home, breakage, fragment):
    root = fake_runtime(home)
    record = json.loads((root / "runtime.json").read_text())
    if breakage == "garbage":
        (root / "runtime.json").write_text("{not json")
    elif breakage == "incomplete":
        del record["site_packages"]
        (root / "runtime.json").write_text(json.dumps(record))
    elif breakage == "other-pins":
        record["requirements"] = ["lava-nc==0.9.0", "numpy<2"]
        (root / "runtime.json").write_text(json.dumps(record))
    else:
        (root / "venv" / "bin" / "python").unlink()
    why = unavailable("lava")
    assert why is not None and fragment in why and "\n" not in why
    assert why.endswith("reinstall it with: metaplastic runtime install lava")
    with pytest.raises(RuntimeMissing, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        locate("lava")
    (s,) = status()
    assert not s.healthy and fragment in s.reason


def test_status_imports_the_probe_module(home):
    fake_runtime(home, probe_ok=False)
    assert unavailable("lava") is None                      # the cheap check does not run it
    (s,) = status()
    assert s.installed and not s.healthy
    assert "importing lava.magma.core.run_configs fails: ModuleNotFoundError: No module named 'lava'" in s.reason


# --- the worker files


def test_ensure_worker_refreshes_tampered_and_stale_copies(tmp_path):
    rt = Installed("lava", tmp_path, tmp_path / "venv/bin/python",
                   {"site_packages": "site", "package": "metaplastic_runtime", "name": "lava"})
    sources = sorted(p.name for p in provision.REMOTE.glob("*.py"))
    assert ensure_worker(rt) == tuple(sources)
    assert ensure_worker(rt) == ()
    for name in sources:
        assert (rt.worker_dir / name).read_bytes() == (provision.REMOTE / name).read_bytes()
    (rt.worker_dir / "frames.py").write_text("raise SystemExit('stale worker')\n")
    (rt.worker_dir / "__pycache__").mkdir()
    (rt.worker_dir / "__pycache__" / "frames.cpython-310.pyc").write_bytes(b"stale")
    (rt.worker_dir / "gone.py").write_text("")                # a module the library no longer has
    assert ensure_worker(rt) == ("frames.py", "gone.py")
    assert (rt.worker_dir / "frames.py").read_bytes() == (provision.REMOTE / "frames.py").read_bytes()
    assert not (rt.worker_dir / "gone.py").exists()
    assert not (rt.worker_dir / "__pycache__" / "frames.cpython-310.pyc").exists()
    record = json.loads((tmp_path / "runtime.json").read_text())
    assert sorted(record["worker_sha256"]) == sources
    assert [p.name for p in rt.worker_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_the_worker_code_imports_nothing_of_metaplastic():
    """It is copied alone into a foreign interpreter: only relative imports of itself."""
    for path in sorted(provision.REMOTE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            assert not [n for n in names if n.split(".")[0] == "metaplastic"], f"{path.name} imports {names}"


# --- install, with fake interpreters


def fake_base_python(path: Path, pip_fails: bool = True) -> Path:
    """A "Python 3.10" whose ``-m venv DIR`` makes a venv whose pip fails like pip does."""
    return script(path, """
if [ "$2" = "-m" ] && [ "$3" = "venv" ]; then
  mkdir -p "$4/bin"
  printf '#!/bin/sh\\necho "WARNING: Location is ignored" >&2\\necho "ERROR: No matching distribution found for lava-nc==0.10.0" >&2\\necho "WARNING: after" >&2\\nexit 1\\n' > "$4/bin/python"
  chmod +x "$4/bin/python"
  exit 0
fi
echo 3.10.99""")


def test_a_failed_pip_install_is_one_line_and_leaves_nothing(home, tmp_path):
    python = fake_base_python(tmp_path / "py310")
    said = []
    with pytest.raises(RuntimeMissing) as info:
        install("lava", str(python), say=said.append)
    assert str(info.value) == ("installing lava-nc==0.10.0 numpy<2 failed: "
                               "ERROR: No matching distribution found for lava-nc==0.10.0")
    assert said == [f"creating venv with {python} (3.10.99)", "installing lava-nc==0.10.0 numpy<2 ..."]
    assert sorted(p.name for p in (home / "runtimes").iterdir()) == [".lava.lock"]
    assert unavailable("lava") == NOT_INSTALLED


def test_a_failed_venv_is_one_line_and_leaves_nothing(home, tmp_path):
    python = script(tmp_path / "py310", 'if [ "$3" = "venv" ]; then mkdir -p "$4"; '
                    'echo "Error: ensurepip is not available" >&2; exit 1; fi\necho 3.10.99')
    with pytest.raises(RuntimeMissing, match=f"^creating a venv with {python} failed: Error: ensurepip is not available$"):
        install("lava", str(python))
    assert sorted(p.name for p in (home / "runtimes").iterdir()) == [".lava.lock"]


def test_install_of_a_healthy_runtime_only_refreshes_the_worker(home, tmp_path):
    root = fake_runtime(home)
    said = []
    rt = install("lava", say=said.append)      # no interpreter is searched for
    assert rt.root == root and (rt.worker_dir / "frames.py").is_file()
    assert len(said) == 1 and said[0].startswith(f"runtime 'lava' is already installed in {root} "
                                                 "(lava-nc 0.10.0, numpy 1.26.4); worker files refreshed (")
    said.clear()
    install("lava", say=said.append)
    assert said[0].endswith("worker files up to date")


def test_a_wrong_python_is_refused_even_when_installed(home, tmp_path):
    fake_runtime(home)
    with pytest.raises(ConfigError, match="reports Python 3.11.7, not 3.10"):
        install("lava", str(reporting(tmp_path / "py", "3.11.7")))


def test_an_unhealthy_runtime_is_rebuilt_and_a_leftover_partial_removed(home, tmp_path):
    root = fake_runtime(home, probe_ok=False)
    (home / "runtimes" / ".lava.partial" / "junk").mkdir(parents=True)     # a killed install
    said = []
    with pytest.raises(RuntimeMissing, match="failed: ERROR: No matching distribution"):
        install("lava", str(fake_base_python(tmp_path / "py310")), say=said.append)
    assert said[0].startswith(f"replacing the runtime in {root}: runtime 'lava' in {root} is broken: importing")
    assert not (home / "runtimes" / ".lava.partial").exists()
    assert root.exists()            # the old one stays until a new one is ready


# --- the commands


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_cli_status_on_an_empty_home(home, capsys):
    code, out, err = run_cli(capsys, "runtime", "status", "--json")
    assert code == 0, err
    (row,) = json.loads(out)["runtimes"]
    assert row["name"] == "lava" and row["installed"] is False and row["reason"] == NOT_INSTALLED
    code, out, err = run_cli(capsys, "runtime", "status")
    assert code == 0 and "lava" in out and "metaplastic runtime install lava" in out


def test_cli_remove(home, capsys):
    assert run_cli(capsys, "runtime", "remove", "lava")[:2] == (0, "runtime 'lava' is not installed; nothing to remove\n")
    root = fake_runtime(home)
    code, out, _ = run_cli(capsys, "runtime", "remove", "lava")
    assert code == 0 and out.startswith("removed runtime 'lava'") and not root.exists()
    assert unavailable("lava") == NOT_INSTALLED


@pytest.mark.parametrize("args, message", [
    (["runtime", "install", "loihi3"], "unknown runtime 'loihi3'; known runtimes: lava"),
    (["runtime", "remove", "loihi3"], "unknown runtime 'loihi3'; known runtimes: lava"),
    (["runtime", "install", "lava", "--python", "/nonexistent/python3.10"],
     "--python /nonexistent/python3.10 does not run as Python (not found); pass the path of a Python 3.10 interpreter"),
])
def test_cli_errors_are_one_line_with_exit_code_2(home, capsys, args, message):
    code, out, err = run_cli(capsys, *args)
    assert (code, out, err) == (2, "", f"metaplastic: error: {message}\n")


def test_cli_install_failure_is_one_line(home, tmp_path, capsys):
    code, out, err = run_cli(capsys, "runtime", "install", "lava", "--python", str(fake_base_python(tmp_path / "py")))
    assert code == 2 and "creating venv with" in out
    assert err == ("metaplastic: error: installing lava-nc==0.10.0 numpy<2 failed: "
                   "ERROR: No matching distribution found for lava-nc==0.10.0\n")


# --- the real thing


@pytest.mark.slow
def test_install_the_lava_runtime(home):
    try:
        python = find_python("3.10")
    except RuntimeMissing as exc:
        pytest.skip(str(exc))
    said = []
    rt = install("lava", python, say=said.append)
    root = home / "runtimes" / "lava"
    assert rt.root == root and rt.python == root / "venv" / "bin" / "python"
    assert said[:2] == [f"creating venv with {python} (3.10.{said[0].split('(3.10.')[1]}",
                        "installing lava-nc==0.10.0 numpy<2 ..."]
    assert said[2].startswith(f"installed in {root} (") and said[2].endswith(" s)")
    assert sorted(p.name for p in (home / "runtimes").iterdir()) == [".lava.lock", "lava"]

    record = json.loads((root / "runtime.json").read_text())
    assert record == rt.record
    assert record["requirements"] == ["lava-nc==0.10.0", "numpy<2"] and record["python"] == python
    assert record["versions"]["lava-nc"] == "0.10.0" and record["versions"]["numpy"].startswith("1.")
    assert record["python_version"].startswith("3.10.") and record["site_packages"] == "venv/lib/python3.10/site-packages"
    sources = {p.name: p.read_bytes() for p in provision.REMOTE.glob("*.py")}
    assert sorted(record["worker_sha256"]) == sorted(sources)
    for name, data in sources.items():
        assert (rt.worker_dir / name).read_bytes() == data

    # the venv works in its final folder: its interpreter, the worker package, its scripts
    check = subprocess.run([str(rt.python), "-c", "import sys, lava.magma, metaplastic_runtime.frames; print(sys.prefix)"],
                           capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == str(root / "venv")
    pip = subprocess.run([str(root / "venv" / "bin" / "pip"), "--version"], capture_output=True, text=True)
    assert pip.returncode == 0 and str(root / "venv") in pip.stdout, pip.stderr
    assert unavailable("lava") is None and locate("lava").record == record
    (s,) = status()
    assert s.installed and s.healthy and s.versions["lava-nc"] == "0.10.0" and s.size_mb > 50

    said.clear()                                        # a second install does nothing
    install("lava", say=said.append)
    assert len(said) == 1 and said[0].endswith("worker files up to date")
    assert json.loads((root / "runtime.json").read_text())["created"] == record["created"]

    (rt.worker_dir / "frames.py").write_text("raise SystemExit('stale')\n")
    assert ensure_worker(locate("lava")) == ("frames.py",)
    assert (rt.worker_dir / "frames.py").read_bytes() == sources["frames.py"]

    assert remove("lava") is True
    assert not root.exists() and unavailable("lava") == NOT_INSTALLED
    assert remove("lava") is False
