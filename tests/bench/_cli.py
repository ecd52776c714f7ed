"""Running ``metaplastic`` in this process for the bench tests."""

import contextlib
import io


def cli(*args: str) -> tuple[int, str, str]:
    """``metaplastic ARGS`` in this process: (exit code, stdout, stderr)."""
    from metaplastic.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def assert_one_line_exit_2(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2, (out, err)
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
