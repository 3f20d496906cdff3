"""Server mode: notice when another sendbot process changed the shared Chroma server, so this one can catch up.

Every process that shares a `chroma run` server reads the same registry of live files (a collection on the server).
A watcher compares that registry's fingerprint with the one the process's current index was built from, every
`interval` seconds, and calls `on_change` (the bot's reload: a new pipeline, the local BM25 index rebuilt) when they
differ. Until the reload finishes, questions are answered from the previous state, whole: never a mix of the two.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Protocol

from index.store import Store

log = logging.getLogger("sendbot.sync")


class Reloadable(Protocol):
    """What the watcher follows: the store a process answers from now, and how it rebuilds (SendBot has both)."""

    @property
    def store(self) -> Store: ...

    def reload(self) -> None: ...


class RegistryWatcher:
    """A daemon thread that reloads its owner whenever the shared registry changes; it ends when the owner is gone."""

    def __init__(self, owner: Reloadable, interval: float) -> None:
        self._owner = weakref.ref(owner)  # a watcher must not keep a discarded bot (and its model) alive
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sendbot-registry-watcher", daemon=True)

    def start(self) -> "RegistryWatcher":
        """Begin watching in the background; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (the thread ends within one interval)."""
        self._stop.set()

    def check(self) -> bool:
        """Reload once if the shared registry differs from the one in use; True if it did."""
        owner = self._owner()
        if owner is None:
            self._stop.set()
            return False
        store = owner.store
        if store.current_fingerprint() == store.fingerprint:
            return False
        owner.reload()
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.check():
                    log.info("the Chroma server's documents changed: index reloaded")
            except Exception as error:  # the server may be restarting: keep answering from what we have, retry
                log.warning("could not check the Chroma server for changes (%s: %s)", type(error).__name__, error)
