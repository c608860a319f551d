"""Report directories written whole or not at all.

:class:`ReportDirectory` is a context manager: the files of a report are
written into a temporary folder beside the target; on success a
``manifest.json`` (every file with its size and SHA-256, and ``"complete":
true``) is written last and the folder is renamed into place. While a run
writes ``D``, the previous report is moved aside to ``D.previous`` and ``D``
does not exist, so an interrupted run never leaves a report under ``D``
that is not the new one in full; a run that fails with an error puts the
previous report back. A lock file ``.D.lock`` beside the folder keeps two
runs from writing the same report at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import GatefieldError

__all__ = ["ReportDirectory", "MANIFEST"]

MANIFEST = "manifest.json"


def _lock(path: Path):
    import fcntl

    handle = open(path, "w")  # noqa: SIM115 - held for the writer's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise GatefieldError(
            f"another gatefield run is writing the report beside {path.parent}; wait for it or use another --out"
        ) from None
    return handle


class ReportDirectory:
    """Write a report folder atomically (see the module docstring).

    Use as ``with ReportDirectory(path, about) as report:`` and call
    :meth:`path` for each file to write; ``about`` (a dict: the command, the
    cell, ...) goes into the manifest.
    """

    def __init__(self, target, about: dict | None = None):
        self.target = Path(target)
        self.about = dict(about or {})
        self._files: list = []

    def __enter__(self) -> ReportDirectory:
        parent = self.target.parent
        if self.target.exists() and not self.target.is_dir():
            raise GatefieldError(
                f"cannot write the report to {self.target}: it is a file, not a folder; choose another --out"
            )
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._handle = _lock(parent / f".{self.target.name}.lock")
        except OSError as err:
            raise GatefieldError(f"cannot write the report to {self.target}: {err.strerror}") from None
        try:
            self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=parent))
        except OSError as err:
            self._release()
            raise GatefieldError(f"cannot write the report to {self.target}: {err.strerror}") from None
        self._previous = self.target.with_name(self.target.name + ".previous")
        if self.target.exists():
            if self._previous.exists():
                shutil.rmtree(self._previous)
            os.replace(self.target, self._previous)
        return self

    def path(self, name: str) -> Path:
        """Where to write the file ``name`` (inside the temporary folder)."""
        if Path(name).name != name or name == MANIFEST:
            raise GatefieldError(f"a report file needs a plain name other than {MANIFEST}, got {name!r}")
        self._files.append(name)
        return self._tmp / name

    def _manifest(self) -> dict:
        files = {}
        for name in self._files:
            data = (self._tmp / name).read_bytes()
            files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        return {"complete": True, "files": files, **self.about}

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                (self._tmp / MANIFEST).write_text(json.dumps(self._manifest(), indent=2) + "\n")
                os.replace(self._tmp, self.target)
                if self._previous.exists():
                    shutil.rmtree(self._previous)
            else:
                shutil.rmtree(self._tmp, ignore_errors=True)
                if self._previous.exists() and not self.target.exists():
                    os.replace(self._previous, self.target)
        except OSError as err:
            raise GatefieldError(f"cannot write the report to {self.target}: {err.strerror}") from None
        finally:
            self._release()

    def _release(self):
        self._handle.close()

    @property
    def files(self) -> dict:
        """Name -> final path of every file written."""
        return {name: str(self.target / name) for name in self._files}


def verify(target) -> bool:
    """Whether the report folder ``target`` is complete: its manifest says so
    and every file it lists is there with the recorded size and hash."""
    folder = Path(target)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("complete") is not True:
        return False
    for name, entry in manifest.get("files", {}).items():
        try:
            data = (folder / name).read_bytes()
        except OSError:
            return False
        if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            return False
    return True
