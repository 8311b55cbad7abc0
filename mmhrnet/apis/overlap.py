"""Reading ahead and writing behind: image / frame decoding and result writing in threads of
their own, overlapped with the network (which releases the GIL while it computes).

Both keep the order and the errors of a plain loop: :class:`ReadAhead` yields the items of
an iterator in order and raises its error (the same exception object) where the loop would
have met it, after the items before it; :class:`WriteBehind` calls its function on the items in
order, and its first error is raised by the next :meth:`~WriteBehind.put` or by
:meth:`~WriteBehind.finish`, after which nothing more is written. :meth:`~WriteBehind.close`
waits until every item put before it is written, so a run stopped by an error or Ctrl-C keeps
the files of every item done.
"""
import queue
import threading
from typing import Callable, Iterable

_END = object()
_POLL_S = 0.1  # how often a blocked thread looks whether it was told to stop


class ReadAhead:
    """Iterates over ``iterable`` in a background thread, up to ``depth`` items ahead.

    The iterable is iterated (and, a generator, closed) in that thread only: a video capture
    or a file it holds is opened and released there. :meth:`close` stops it early.
    """

    def __init__(self, iterable: Iterable, depth: int = 2, name: str = 'mmhrnet-read'):
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, args=(iterable, ), name=name,
                                        daemon=True)
        self._thread.start()

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, iterable):
        iterator = None
        try:
            iterator = iter(iterable)
            for item in iterator:
                if not self._put((True, item)):
                    break
            else:
                self._put((False, _END))
        except BaseException as e:  # raised in the consumer's thread, where the loop was
            self._put((False, e))
        finally:
            close = getattr(iterator, 'close', None)
            if close is not None:
                close()

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        ok, item = self._queue.get()
        if ok:
            return item
        self._done = True
        if item is _END:
            raise StopIteration
        raise item

    def close(self) -> None:
        """Stops reading and waits for the thread (it finishes the item it is reading)."""
        self._done = True
        self._stop.set()
        while self._thread.is_alive():
            try:  # free a put that waits for room
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(_POLL_S)


class WriteBehind:
    """Calls ``write(*args)`` for every :meth:`put` in a background thread, in order, with at
    most ``depth`` calls waiting."""

    def __init__(self, write: Callable, depth: int = 4, name: str = 'mmhrnet-write'):
        self.write = write
        self.error = None  # the first call's error
        self._raised = False
        self._queue: queue.Queue = queue.Queue(depth)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            args = self._queue.get()
            if args is _END:
                return
            if self.error is None:  # after an error the rest is taken and dropped
                try:
                    self.write(*args)
                except BaseException as e:
                    self.error = e

    def _raise(self):
        if self.error is not None and not self._raised:
            self._raised = True
            raise self.error

    def put(self, *args) -> None:
        """Queues a call (waits while ``depth`` are queued); raises an earlier call's error."""
        self._raise()
        self._queue.put(args)

    def close(self) -> None:
        """Waits until the calls queued are done (or dropped after an error) and stops the
        thread; raises nothing (see :meth:`finish`)."""
        if self._thread.is_alive():
            self._queue.put(_END)
            while self._thread.is_alive():  # joined in steps: Ctrl-C still reaches the caller
                self._thread.join(_POLL_S)

    def finish(self) -> None:
        """:meth:`close`, then raises the first error of a call, if any."""
        self.close()
        self._raise()
