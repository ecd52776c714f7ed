"""Progress bars on standard error (rich), shown only when a person is watching a terminal.

Example:
    >>> with progress_bar("work", total=3, enabled=False) as advance:
    ...     for _ in range(3):
    ...         advance(1)
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


@contextlib.contextmanager
def progress_bar(description: str, total: int, *, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n=1, **fields)``; a no-op when disabled or not on a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n=1, **fields: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as prog:
        task = prog.add_task(description, total=total, status="")

        def advance(n: int = 1, **fields: object) -> None:
            status = " ".join(f"{k}={v}" for k, v in fields.items())
            prog.update(task, advance=n, **({"status": status} if fields else {}))

        yield advance
