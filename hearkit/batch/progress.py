"""The progress bar of a batch run: recordings done, ETA, audio hours, cost so far.

Cost so far is the billed audio of completed jobs at the batch rate; beside it, what the same
audio would have cost at the realtime rate (see :mod:`hearkit.batch.cost`). The numbers start
from what earlier runs into the same folder already completed. On hearkit's own engine
(``charged=False``) the bar shows ``$0 (local engine)`` instead: nothing is billed.
"""

from __future__ import annotations

from types import TracebackType
from typing import Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from hearkit.batch.cost import batch_cost, format_usd, realtime_cost

__all__ = ["BatchProgress"]


class BatchProgress:
    """A rich progress bar fed by the batch runner (a no-op when ``enabled`` is false).

    ``enabled="lines"``: no bar (stdout is a log file or a pipe, where a bar shows nothing until
    the end) but one plain line per finished recording: ``batch 3/6 · audio 0.01 h · …``.
    """

    def __init__(
        self,
        total: int,
        *,
        done: int = 0,
        audio_seconds: float = 0.0,
        enabled: bool | Literal["lines"] = True,
        console: Console | None = None,
        charged: bool = True,
    ) -> None:
        self.total = total
        self.charged = charged
        self.done = done
        self.failed = 0
        self.audio_seconds = audio_seconds
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._lines = (console or Console(highlight=False, soft_wrap=True)) if enabled == "lines" else None
        if enabled is True:
            self._progress = Progress(
                TextColumn("[bold]batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[stats]}"),
                console=console,
                transient=False,
            )

    def __enter__(self) -> BatchProgress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("batch", total=self.total, completed=self.done, stats="")
            self._refresh()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._refresh()
            self._progress.stop()

    @property
    def stats(self) -> str:
        """``audio 1.23 h · $0.11 batch (realtime $0.22) · 2 failed``; ``audio 1.23 h · $0 (local
        engine)`` when the work is not billed."""
        text = f"audio {self.audio_seconds / 3600:.2f} h · "
        if self.charged:
            text += (
                f"{format_usd(batch_cost(self.audio_seconds))} batch"
                f" (realtime {format_usd(realtime_cost(self.audio_seconds))})"
            )
        else:
            text += "$0 (local engine)"
        return text + (f" · {self.failed} failed" if self.failed else "")

    def completed(self, audio_seconds: float | None) -> None:
        """One recording done; ``audio_seconds`` is what was billed for it."""
        self.done += 1
        self.audio_seconds += audio_seconds or 0.0
        self._advance()

    def failed_one(self) -> None:
        self.failed += 1
        self._advance()

    def _advance(self) -> None:
        if self._lines is not None:
            self._lines.print(f"batch {self.done + self.failed}/{self.total} · {self.stats}", markup=False)
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)
            self._refresh()

    def _refresh(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, stats=self.stats)
