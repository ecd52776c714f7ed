"""What the property tests share: hypothesis settings, the outcome checks (success or the
library's one-line error; on the command line exit 0, or exit 2 with one line on stderr and
nothing written), and strategies for hostile values, JSON documents and file contents.

Values that are valid but would allocate or run for minutes (``hidden=65536`` on a loaded
run, ``bandits:n=10000000`` evaluated) are not generated where a test builds or runs what
it loaded: resource limits are issue 13's Must 8, not what these tests look for."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from metaplastic.errors import MetaplasticError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runs_v0_1_0"

# derandomize: the same examples on every run of one commit (CI; hypothesis also draws
# constants from the package's source); database=None: no failing examples stored (the
# .hypothesis/ cache folder ignores itself in git); deadline=None: the first example pays
# for imports and JIT.
COMMON = dict(deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much, HealthCheck.large_base_example])


def fast(n: int = 100) -> settings:
    """Settings of a property whose examples take milliseconds."""
    return settings(max_examples=n, **COMMON)


def slow(n: int = 15) -> settings:
    """Settings of a property whose examples run a command (tens of milliseconds or more):
    on a failure, only the first bug found is shrunk (each shrink step runs the command)."""
    return settings(max_examples=n, report_multiple_bugs=False, **COMMON)


# --- outcomes ------------------------------------------------------------------------------


def check_error(exc: BaseException) -> None:
    """``exc`` must be a MetaplasticError whose message is one non-empty line."""
    if not isinstance(exc, MetaplasticError):
        raise AssertionError(f"{type(exc).__module__}.{type(exc).__qualname__} leaked instead of a "
                             f"MetaplasticError: {str(exc)[:300]!r}") from exc
    msg = str(exc)
    assert msg.strip(), f"{type(exc).__name__} with an empty message"
    assert "\n" not in msg and "\r" not in msg, f"{type(exc).__name__} message is not one line: {msg!r}"


def outcome(fn: Callable[..., Any], *args: Any, **kw: Any) -> tuple[bool, Any]:
    """``(True, result)`` or ``(False, error)`` for a one-line MetaplasticError; any other
    exception fails (as an AssertionError chained to it, so hypothesis tells bugs apart)."""
    try:
        return True, fn(*args, **kw)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - the point is to catch what leaks
        check_error(exc)
        return False, exc


def run_cli(args: Sequence[str]) -> tuple[int, str, str]:
    """``metaplastic ARGS`` in-process: (exit code, stdout, stderr). An exception other than
    SystemExit (a traceback on the command line) fails."""
    from metaplastic.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    except (KeyboardInterrupt,):
        raise
    except BaseException as exc:  # noqa: BLE001
        raise AssertionError(f"`metaplastic {' '.join(map(str, args))[:300]}` raised "
                             f"{type(exc).__qualname__}: {str(exc)[:300]!r} (a traceback, not exit 2)") from exc
    return (0 if code is None else code), out.getvalue(), err.getvalue()


def check_cli(code: int, out: str, err: str, *, what: str = "") -> None:
    """Exit 0, or exit 2 with exactly one line on stderr (``metaplastic: error: ...``) and
    nothing on stdout."""
    assert code in (0, 2), f"{what}: exit {code!r}; stderr: {err[-500:]!r}"
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("metaplastic: error: "), \
            f"{what}: exit 2 must print one line on stderr, got {err[-800:]!r}"
        assert out == "", f"{what}: exit 2 printed on stdout: {out[:300]!r}"


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses NaN and Infinity (they are not JSON)."""
    def refuse(token: str) -> Any:
        raise AssertionError(f"output is not JSON: it holds {token}")
    return json.loads(text, parse_constant=refuse)


# --- folders --------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root`` with its bytes (``None`` for a folder)."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = Path(p).read_bytes()
    return out


def diff(before: dict[str, bytes | None], after: dict[str, bytes | None]) -> list[str]:
    """Names added, removed or changed between two snapshots, but for the run's lock file
    (an OS lock on a file that stays, as ``flock`` locks do)."""
    from metaplastic.runs.rundir import RunDir

    lock = getattr(RunDir, "LOCK", ".lock")
    return sorted(k for k in before.keys() | after.keys()
                  if k != lock and before.get(k, b"\0gone") != after.get(k, b"\0gone"))


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh temporary folder for one example (function-scoped fixtures do not reset
    between hypothesis examples)."""
    d = tempfile.mkdtemp(prefix="mp-prop-")
    try:
        yield Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def need(module: str, extra: str) -> None:
    """Skip unless ``module`` imports; the reason names the extra (the torch-free profile of
    tests/skip_policy.py allows it)."""
    pytest.importorskip(module, reason=f"this property needs {module} (the '{extra}' extra)")


# --- run directories (copies of tests/fixtures/runs_v0_1_0) -----------------------------------

# run -> (module it needs, the extra that installs it)
RUNS = {"torch-rl2": ("torch", "torch"), "snntorch-rl2": ("snntorch", "snn"), "numba-es": (None, None)}


def needs(run: str) -> None:
    module, extra = RUNS[run]
    if module:
        need(module, extra)


def resume_args(run: str, out: Path) -> list[str]:
    """The command that started the fixture ``run``, with one more update: it resumes."""
    src = FIXTURES / run
    req = json.loads((src / "train.json").read_text())
    updates = json.loads((src / "progress.json").read_text())["updates"]
    args = ["train", "--backend", req["backend"], "--tasks", req["tasks"], "--budget", str(updates + 1),
            "--seed", str(req["seed"]), "--out", str(out)]
    for k, v in req["config"].items():
        args += ["--algo", v] if k == "algo" else ["--set", f"{k}={v}"]
    return args


def check_run(src: Path, resume: Callable[[Path], list[str]], prepare: Callable[[Path], None]) -> tuple[int, int]:
    """Copy the run ``src``, let ``prepare(dir)`` damage the copy, then run
    ``evaluate --run DIR --n-tasks 2 --json`` (exit 0 with strict JSON, or 2 with one line;
    the run left as it was) and ``resume(DIR)``, the command that resumes it (exit 0, or 2
    with one line and nothing written). Returns both exit codes."""
    with scratch() as d:
        out = d / src.name
        shutil.copytree(src, out, ignore=shutil.ignore_patterns(".lock"))
        prepare(out)
        before = snapshot(out)
        code, stdout, err = run_cli(["evaluate", "--run", out, "--n-tasks", "2", "--json"])
        check_cli(code, stdout, err, what="evaluate")
        if code == 0:
            strict_json(stdout)
        assert not diff(before, snapshot(out)), f"evaluate changed {diff(before, snapshot(out))} (exit {code})"
        resumed, stdout, err = run_cli(resume(out))
        check_cli(resumed, stdout, err, what="train (resume)")
        if resumed == 2:
            assert not diff(before, snapshot(out)), f"a refused resume changed {diff(before, snapshot(out))}"
        return code, resumed


def evaluate_then_resume(run: str, prepare: Callable[[Path], None]) -> tuple[int, int]:
    """:func:`check_run` on the fixture ``run`` (tests/fixtures/runs_v0_1_0)."""
    return check_run(FIXTURES / run, lambda out: resume_args(run, out), prepare)


# a fresh run per backend, in the layout this checkout writes (see conftest.fresh_run)
FRESH = {
    "numba": (None, None, ["--backend", "numba", "--algo", "es", "--set", "hidden=8", "--set", "population=4",
                           "--set", "batch_tasks=4"]),
    "torch": ("torch", "torch", ["--backend", "torch", "--algo", "rl2", "--set", "hidden=8", "--set", "batch_tasks=8"]),
    "snntorch": ("snntorch", "snn", ["--backend", "snntorch", "--algo", "rl2", "--set", "hidden=8",
                                     "--set", "batch_tasks=8"]),
}


def fresh_command(backend: str, out: Path, budget: int) -> list[str]:
    """``metaplastic train`` of the fresh run of ``backend`` (rerun with a larger budget: resume)."""
    return ["train", *FRESH[backend][2], "--tasks", "bandits:k=3,n=6", "--budget", str(budget), "--seed", "0",
            "--out", str(out)]


# --- strategies -----------------------------------------------------------------------------

HUGE_DIGITS = "9" * 5000  # past Python's int/str conversion limit (4300 digits)

NASTY_TEXT = (
    "", " ", "0", "-0", "1", "-1", "2", "3", "1.5", "-1.5", "1e3", "1e-400", "1e309", "-1e309", "nan", "NaN", "-nan",
    "inf", "-inf", "Infinity", "true", "false", "True", "yes", "no", "null", "None", "0x10", "0b1", "1_000",
    "2147483648", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1" + "0" * 40,
    HUGE_DIGITS, "é", "\u0663", "\uff11\uff12", "\u00a0", "\x00", "\t", "a,b", "k=v", "a:b", "=", ",", ":",
    "../..", "/", ".", "~", "\U0001f600", "'", '"', "\\", "%s", "{}", "[]",
)

ints = st.one_of(st.integers(-3, 20), st.integers(), st.sampled_from([2**31, 2**63, -2**63 - 1, 10**40, -10**40]))
floats = st.floats(allow_nan=True, allow_infinity=True)
texts = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=12), ints.map(str), floats.map(repr))

# Python values a caller may pass as a parameter (a spec's raw strings, or keywords)
py_values = st.one_of(
    texts, ints, floats, st.booleans(), st.none(), st.just(HUGE_DIGITS),
    st.lists(st.integers(-2, 5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(b"5"), st.just(3 + 0j), st.just(float("nan")),
)



def json_of(scalar_ints: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON documents whose integers come from ``scalar_ints``."""
    scalars = st.one_of(st.none(), st.booleans(), scalar_ints, floats, texts)
    nested = st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=12,
    )
    return st.one_of(scalars, nested)  # st.recursive alone rarely gives a plain scalar


json_values = json_of(ints)
# for files whose numbers a command then uses as sizes (a run's config: batch_tasks,
# population, hidden): no valid-but-huge sizes, which would train for hours (Must 8)
small_json_values = json_of(st.integers(-3, 300))


def json_paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys/indices) to a value inside ``doc``, the root excluded."""
    out: list[tuple] = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out += json_paths(v, prefix + (k,))
    return out


def _set(doc: Any, path: tuple, value: Any) -> Any:
    doc = copy.deepcopy(doc)
    at = doc
    for k in path[:-1]:
        at = at[k]
    at[path[-1]] = value
    return doc


def _delete(doc: Any, path: tuple) -> Any:
    doc = copy.deepcopy(doc)
    at = doc
    for k in path[:-1]:
        at = at[k]
    del at[path[-1]]
    return doc


@st.composite
def mutated_json(draw, doc: Any, extra_keys: Sequence[str] = (), values: st.SearchStrategy[Any] = json_values) -> Any:
    """``doc`` with a top-level value replaced, a value anywhere in it replaced, a key or
    item removed, a key added, or the whole document replaced by arbitrary JSON (from
    ``values``). The kind is drawn first, so that each is as likely as the others (a
    ``one_of`` of these strategies mostly gives whole documents)."""
    paths = json_paths(doc)
    kinds = ["whole"]
    if isinstance(doc, dict) and doc:
        kinds.append("top")
    if paths:
        kinds += ["deep", "delete"]
    if isinstance(doc, dict):
        kinds.append("add")
    kind = draw(st.sampled_from(kinds), label="mutation")
    if kind == "top":
        return _set(doc, (draw(st.sampled_from(sorted(doc))),), draw(values))
    if kind == "deep":
        return _set(doc, draw(st.sampled_from(paths)), draw(values))
    if kind == "delete":
        return _delete(doc, draw(st.sampled_from(paths)))
    if kind == "add":
        key = draw(st.one_of(st.text(max_size=8), st.sampled_from(list(extra_keys) or [""])))
        return {**copy.deepcopy(doc), key: draw(values)}
    return draw(values)


def dumps(doc: Any) -> bytes:
    """JSON text as Python writes it (NaN/Infinity included, as a careless tool would)."""
    return json.dumps(doc, allow_nan=True).encode()


def mutated_bytes(data: bytes) -> st.SearchStrategy[bytes]:
    """``data`` truncated, with bytes overwritten, or with bytes inserted; or garbage."""
    n = len(data)

    def overwrite(edits: list[tuple[int, int]]) -> bytes:
        b = bytearray(data)
        for i, v in edits:
            b[i % n] = v
        return bytes(b)

    options = [st.binary(max_size=64)]
    if n:
        options += [
            st.integers(0, n - 1).map(lambda k: data[:k]),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 255)), min_size=1, max_size=4).map(overwrite),
            st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=8)).map(lambda t: data[:t[0]] + t[1] + data[t[0]:]),
        ]
    return st.one_of(*options)


def json_file_contents(doc: Any, extra_keys: Sequence[str] = (), values: st.SearchStrategy[Any] = json_values
                       ) -> st.SearchStrategy[bytes | None]:
    """What a JSON run file may hold: mutated JSON (NaN included), JSON that overflows Python's
    integers, mutated or garbage bytes, or nothing (``None``: the file is deleted)."""
    text = dumps(doc)
    return st.sampled_from(["json", "bytes", "huge int", "deleted"]).flatmap(lambda kind: {
        "json": mutated_json(doc, extra_keys, values).map(dumps),
        "bytes": mutated_bytes(text),
        "huge int": st.just(b'{"x": ' + HUGE_DIGITS.encode() + b"}"),
        "deleted": st.none(),
    }[kind])


def write_or_delete(path: Path, data: bytes | None) -> None:
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(data)


# --- arrays and npz files ---------------------------------------------------------------------

dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_, np.complex128,
                          "U3", "S3", "datetime64[s]", "m8[s]"])
arrays = hnp.arrays(dtype=dtypes, shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, 1e308, 2.0, -0.0])


def _poke(a: np.ndarray, data) -> np.ndarray:
    """``a`` (float) with one element set to a special value."""
    a = np.array(a, dtype=np.float64)
    if a.size:
        a.reshape(-1)[data.draw(st.integers(0, a.size - 1), label="index")] = data.draw(special, label="special")
    else:
        a = np.array(data.draw(special, label="special"))
    return a


@st.composite
def mutated_array_dict(draw, bases: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One of ``bases`` (an npz file's arrays) with an entry replaced, poked (NaN, inf, ...),
    reshaped, transposed, retyped, made a scalar or removed, or one added; one to three times."""
    data = draw(st.data())
    arrays_ = dict(draw(st.sampled_from(list(bases))))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(arrays_) or ["w_in"]))
        how = draw(st.sampled_from(["replace", "poke", "reshape", "transpose", "delete", "add", "retype", "scalar"]))
        a = arrays_.get(key, np.zeros(2))
        if how == "replace":
            arrays_[key] = draw(arrays)
        elif how == "poke" and a.dtype.kind in "iuf":
            arrays_[key] = _poke(a, data)
        elif how == "reshape":
            arrays_[key] = np.resize(a, draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)))
        elif how == "transpose":
            arrays_[key] = np.asarray(a).T
        elif how == "delete":
            arrays_.pop(key, None)
        elif how == "add":
            arrays_[draw(st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s and "\x00" not in s))] = draw(arrays)
        elif how == "retype":
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    arrays_[key] = np.asarray(a).astype(draw(dtypes))
            except (ValueError, TypeError, OverflowError):
                pass
        elif how == "scalar":
            arrays_[key] = np.asarray(draw(st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(), st.text(max_size=4),
                                                      st.booleans())))
    return arrays_


def npz_bytes(arrays_: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays_)
    return buf.getvalue()


# --- torch files -----------------------------------------------------------------------------


def load_torch(path: Path) -> Any:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def torch_bytes(obj: Any) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def tree_paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths to every entry of nested dicts and lists (tensors are leaves)."""
    out: list[tuple] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out += tree_paths(v, prefix + (k,))
    return out


def tree_get(obj: Any, path: tuple) -> Any:
    for k in path:
        obj = obj[k]
    return obj


plain_values = py_values.filter(lambda v: not isinstance(v, (bytes, complex)))  # what torch's weights_only load reads


@st.composite
def mutated_torch_object(draw, bases: Sequence[Any]) -> Any:
    """One of ``bases`` (a loaded torch file) with a tensor reshaped, retyped, poked with
    NaN/inf, transposed, emptied or made a scalar, an entry removed or replaced by a plain
    value, or a key added; or something else entirely (a tensor, a list, a number)."""
    import torch

    obj = copy.deepcopy(draw(st.sampled_from(list(bases))))
    paths = tree_paths(obj)
    how = draw(st.sampled_from(["tensor", "tensor", "tensor", "delete", "value", "add", "whole"]), label="mutation")
    if how == "whole" or not paths:
        return draw(st.one_of(plain_values, st.just(torch.zeros(3)), st.just([torch.ones(2, 2)]), st.just({})))
    path = draw(st.sampled_from(paths), label="path")
    parent = tree_get(obj, path[:-1])
    key, leaf = path[-1], parent[path[-1]]
    if how == "tensor":
        t = leaf if isinstance(leaf, torch.Tensor) else torch.zeros(2)
        op = draw(st.sampled_from(["shape", "dtype", "poke", "transpose", "empty", "scalar"]), label="tensor op")
        if op == "shape":
            shape = draw(st.lists(st.integers(0, 5), max_size=3))
            t = torch.zeros(*shape) if shape else torch.tensor(0.0)
        elif op == "dtype":
            t = t.to(draw(st.sampled_from([torch.float64, torch.float16, torch.int64, torch.bool, torch.complex64,
                                           torch.uint8])))
        elif op == "poke":
            t = t.clone().to(torch.float32)
            if t.numel():
                t.view(-1)[draw(st.integers(0, t.numel() - 1))] = float(draw(special))
        elif op == "transpose":
            t = t.t() if t.dim() <= 2 else t.mT
        elif op == "empty":
            t = torch.zeros(0)
        else:
            t = torch.tensor(float(draw(special)))
        parent[key] = t
    elif how == "delete":
        del parent[key]
    elif how == "value":
        parent[key] = draw(plain_values)
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=8))] = draw(st.one_of(st.just(torch.zeros(2)), st.integers(-3, 3)))
    return obj


# --- any file of a run -----------------------------------------------------------------------


def metrics_contents(path: Path) -> st.SearchStrategy[bytes | None]:
    """metrics.jsonl: its lines mutated, mixed with arbitrary lines, torn, or garbage bytes."""
    raw = path.read_bytes()
    lines = raw.decode().splitlines() or ['{"update": 1}']
    good = [json.loads(x) for x in lines]
    one = st.one_of(
        st.sampled_from(good).flatmap(lambda m: mutated_json(m, ["update"])).map(lambda m: dumps(m).decode()),
        json_values.map(lambda v: dumps(v).decode()),
        st.sampled_from(lines).flatmap(lambda x: st.integers(0, len(x)).map(lambda k: x[:k])),
        st.text(max_size=10),
    )
    text = st.tuples(st.lists(st.one_of(st.sampled_from(lines), one), max_size=5), st.sampled_from(["\n", "\r\n", ""]))
    return st.sampled_from(["lines", "bytes", "deleted"]).flatmap(lambda kind: {
        "lines": text.map(lambda t: ("\n".join(t[0]) + t[1]).encode()),
        "bytes": mutated_bytes(raw),
        "deleted": st.none(),
    }[kind])


def file_contents(path: Path, others: Sequence[Path] = ()) -> st.SearchStrategy[bytes | None]:
    """What the run file ``path`` may be replaced by (``None``: deleted), by its kind: JSON
    (``config.json`` without valid-but-huge sizes, see the module docstring), metric lines,
    npz arrays, torch objects (or ``others``, files of the same name from other runs)."""
    raw = path.read_bytes()
    if path.suffix == ".json":
        return json_file_contents(json.loads(raw), values=small_json_values if path.name == "config.json" else json_values)
    if path.suffix == ".jsonl":
        return metrics_contents(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            base = {k: z[k] for k in z.files}
        kinds = {"arrays": mutated_array_dict([base]).map(npz_bytes)}
    elif path.suffix == ".pt":
        kinds = {"object": mutated_torch_object([load_torch(path)]).map(torch_bytes)}
        if others:
            kinds["another run's"] = st.sampled_from(list(others)).map(lambda p: p.read_bytes())
    else:
        kinds = {}
    kinds.update({"bytes": mutated_bytes(raw), "deleted": st.none()})
    return st.sampled_from(sorted(kinds)).flatmap(lambda kind: kinds[kind])
