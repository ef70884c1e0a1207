"""What `hearkit analyze` shows while its job runs: the job's state, as the jobs API reports it.

A one-hour call takes minutes on the local engine, and the command printed nothing between
"transcribing …" and the result. On a terminal a rich spinner line now says the job's status
(``queued``, ``running``: the API reports no finer progress, so none is invented), the time since it
was sent, and the recording's length; it is gone once the job ends. Nothing is drawn when the output
is not a terminal (a pipe, a log) or with ``--json``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from hearkit.timecode import clock

if TYPE_CHECKING:
    from rich.console import Console

    from hearkit.schema import Job

__all__ = ["job_progress"]


@contextlib.contextmanager
def job_progress(
    console: Console, job_id: str, audio_seconds: float | None, *, show: bool
) -> Iterator[Callable[[Job], None] | None]:
    """An ``on_progress`` callback for :meth:`hearkit.client.Jobs.wait` that updates a spinner line
    ("job job_…: running · 1:00:00 of audio", elapsed time), or ``None`` when ``show`` is false or
    ``console`` is not a terminal."""
    if not show or not console.is_terminal:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    length = f" · {clock(audio_seconds)} of audio" if audio_seconds else ""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"job {job_id}: sent{length}", total=None)

        def on_progress(job: Job) -> None:
            progress.update(task, description=f"job {job.job_id}: {job.status}{length}")

        yield on_progress
