"""The GX suites in a process of their own, for a short-lived command.

Great Expectations' import is ~1.5-2 s of Python that a tiny run's check stage would wait
for: in the command's own process a thread cannot overlap it with the run, whose Python
holds the GIL. A helper process started with the command imports it on the other core
meanwhile. The command computes the check frames in DuckDB as always and sends them (small:
transforms/validation.py) through the helper's stdin, each as soon as it is computed; the
helper judges each as it comes with the same suites (`validation.judge`) while the command
computes the next, replies with the verdicts, then writes the Data Docs while the
command publishes, and replies again when they are written (a writer thread here waits for
that reply, and `validation.docs_written` for it). Replies come on a copy of its stdout;
anything the helper prints goes to stderr.

A helper that fails or is gone leaves the command to validate in its own process, where any
error of GX's is reported as the run's. The command ends its helper when it ends, however it
ends (`stop`, from flows/cli.py); a command killed outright closes the helper's stdin, and the
helper ends when it reads that.
"""

import atexit
import itertools
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

# What a broken or closed pipe to the helper raises here (ValueError: a pipe closed on this side).
_BROKEN = (OSError, ValueError, EOFError, pickle.UnpicklingError)

# The helper of this process, once started (see `start`).
_running: "Helper | None" = None


def start() -> "Helper":
    """Start this process's helper (once): it imports Great Expectations at once, on the
    other core, while this process goes on. Cheap to call early: this module imports only
    the standard library until the helper is used."""
    global _running
    if _running is None:
        _running = Helper()
    return _running


def running() -> "Helper | None":
    return _running


def stop() -> None:
    """End this process's helper, if one runs (when the command that started it ends)."""
    if _running is not None:
        _running.stop()


class Helper:
    """The command's side: one helper process, one request at a time."""

    def __init__(self) -> None:
        # a session of its own: a Ctrl-C at the terminal is the command's to handle (its end
        # closes the helper's stdin), not a second traceback from the helper
        self.process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, start_new_session=True)
        self.busy = threading.Lock()  # held from a request until its Data Docs are written
        atexit.register(self.stop)  # after the last request's Data Docs: their waiter is not a daemon

    def validate(self, frames: Iterable[tuple], docs_target: Path | None, earlier_docs: Path | None):
        """The verdicts, and a function that waits until the helper has written the Data Docs
        into `docs_target` (it returns what went wrong, or None; no function without a
        target); None when the helper could not give the verdicts (the caller then validates
        in its own process, with the frames `frames` has not given yet). Each frame (table,
        frame) is sent as `frames` gives it: the helper judges it while the next is computed.
        An error computing a frame is the caller's; the helper, left with half a request, ends."""
        self.busy.acquire()
        try:
            answered = self._sent(frames, docs_target, earlier_docs)
        except BaseException:
            self.busy.release()
            self.stop()
            raise
        try:
            kind, report = pickle.load(self.process.stdout) if answered else (None, None)
        except _BROKEN:
            kind = None
        if kind is None:
            self.busy.release()
            self.stop()
            return None
        if kind != "report":  # GX failed there: here it fails again, or succeeds
            self.busy.release()
            return None
        if docs_target is None:  # no Data Docs: nothing more comes for this request
            self.busy.release()
            return report, None
        return report, self._docs_written

    def _sent(self, frames: Iterable[tuple], docs_target: Path | None, earlier_docs: Path | None) -> bool:
        """Send a request, its frames as `frames` gives them and its end (None); False when the
        pipe broke. An error computing a frame is raised from here."""
        for message in itertools.chain([(docs_target, earlier_docs)], frames, [None]):
            try:
                _send(self.process.stdin, message)
            except _BROKEN:
                return False
        return True

    def _docs_written(self) -> str | None:
        try:
            return pickle.load(self.process.stdout)[1]
        except _BROKEN as error:
            self.stop()
            return f"the validation helper stopped: {error!r}"
        finally:
            self.busy.release()

    def stop(self) -> None:
        """End the helper at once (nothing is asked of it by now) and reap it."""
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        self.process.kill()
        self.process.wait()
        global _running
        if _running is self:
            _running = None


def serve(requests, replies) -> None:
    """The helper's side: GX imported and the suites prepared at once, then one request after
    another until stdin closes (the suites prepared again for each)."""
    from transforms import validation

    while True:
        try:  # ready before the request comes
            suites = validation.prepared_suites()
        except Exception:  # noqa: BLE001 - judge tries again, and its failure is the request's
            suites = None
        try:
            docs_target, earlier_docs = pickle.load(requests)
        except EOFError:
            return
        frames = _frames(requests)
        try:
            report, context = validation.judge(frames, docs_target, suites)
        except Exception as error:  # noqa: BLE001 - the command validates itself and reports it
            for _frame in frames:  # the rest of the request: the command sends it before it reads the reply
                pass
            _send(replies, ("error", repr(error)))
            continue
        _send(replies, ("report", report))
        if docs_target is not None:
            _send(replies, ("docs", validation.docs_problem(context, docs_target, earlier_docs)))


def _frames(requests) -> Iterator[tuple]:
    """A request's frames (table, frame), each as it comes, up to its end (None)."""
    while (table_and_frame := pickle.load(requests)) is not None:
        yield table_and_frame


def _send(stream, message) -> None:
    """One message, on its way at once: a request or a frame to the helper, a reply from it."""
    pickle.dump(message, stream, pickle.HIGHEST_PROTOCOL)
    stream.flush()


if __name__ == "__main__":
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what anything prints goes to stderr; the copy of stdout carries the replies
    try:
        serve(sys.stdin.buffer, replies)
    except BrokenPipeError:  # the command ended while this wrote its reply: nothing to tell
        os._exit(0)
