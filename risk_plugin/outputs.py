"""Atomic outputs: each file appears complete under its final name or not at all, and the outputs
of one run are kept or removed together (:func:`output_transaction`)."""
import contextlib
import contextvars
import errno
import os
import shutil
import tempfile
from pathlib import Path

from .errors import Problem, RiskMapError

SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")


class OutputError(RiskMapError):
    """An output cannot be written where it was asked for."""


_WRITE_ERRNOS = {errno.EACCES: ("没有写权限", "permission denied"), errno.EPERM: ("没有写权限", "permission denied"),
                 errno.EROFS: ("文件系统只读", "read-only file system"), errno.ENOSPC: ("磁盘已满", "no space left on the disk"),
                 errno.EDQUOT: ("超出磁盘配额", "disk quota exceeded")}


def _output_error(final, exc):
    zh, en = _WRITE_ERRNOS.get(getattr(exc, "errno", None), ("无法写入", "cannot be written"))
    return OutputError(Problem(f"输出/output {final}", f"无法写出结果: {zh} ({exc.strerror or exc})",
                               f"the output cannot be written: {en} ({exc.strerror or exc})",
                               "选择一个有写权限、空间足够的文件夹", "choose a folder you can write to, with free space"))


class OutputTransaction:
    """The outputs of one run: all of them, or none.

    Each file still appears complete under its final name as soon as it is written (later steps may
    read it back); a file it replaces is kept aside until :meth:`commit`. :meth:`rollback` removes what
    the run wrote and puts the replaced files back, so a run that fails at its third output leaves
    neither its first two nor a gap where older results were.
    """

    def __init__(self):
        self.placed, self.aside, self.made_dirs = [], [], []

    def _set_aside(self, final):
        keep = Path(tempfile.mkdtemp(prefix=".riskmap-old-", dir=final.parent))
        os.replace(final, keep / final.name)
        self.aside.append((final, keep))
        return keep

    def place(self, item, final):
        final = Path(final)
        if final.exists():
            self._set_aside(final)
        os.replace(item, final)
        self.placed.append(final)

    def retire(self, final):
        """Remove an old file (a stale shapefile sidecar) so that rollback can restore it."""
        self._set_aside(Path(final))

    def commit(self):
        for _, keep in self.aside:
            shutil.rmtree(keep, ignore_errors=True)
        self.placed, self.aside = [], []

    def rollback(self):
        for final in reversed(self.placed):
            with contextlib.suppress(OSError):
                shutil.rmtree(final) if final.is_dir() and not final.is_symlink() else final.unlink()
        for final, keep in reversed(self.aside):
            with contextlib.suppress(OSError):
                os.replace(keep / final.name, final)
            shutil.rmtree(keep, ignore_errors=True)
        for folder in reversed(self.made_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()          # only if the run left it empty
        self.placed, self.aside, self.made_dirs = [], [], []


_TRANSACTION = contextvars.ContextVar("riskmap_output_transaction", default=None)
_ON_OUTPUT = contextvars.ContextVar("riskmap_on_output", default=())


@contextlib.contextmanager
def on_output(hook):
    """Within this block, call ``hook(tmp_path, final_path)`` for every file written through :func:`atomic_path`,
    once it is complete and before it moves into place; files the hook writes beside ``tmp_path`` (a .qml) move
    with it. The Processing layer stores each output's style this way (processing/styling.py), so the engine needs
    no QGIS and a file never appears without its style."""
    token = _ON_OUTPUT.set(_ON_OUTPUT.get() + (hook,))
    try:
        yield
    finally:
        _ON_OUTPUT.reset(token)


@contextlib.contextmanager
def output_transaction():
    """All outputs written inside the block are kept together or removed together (nested blocks join
    the outer one)."""
    if _TRANSACTION.get() is not None:
        yield _TRANSACTION.get()
        return
    txn = OutputTransaction()
    token = _TRANSACTION.set(txn)
    try:
        yield txn
    except BaseException:
        txn.rollback()
        raise
    else:
        txn.commit()
    finally:
        _TRANSACTION.reset(token)


def _make_parent(final):
    txn = _TRANSACTION.get()
    missing = [p for p in [final.parent, *final.parent.parents] if not p.exists()]
    final.parent.mkdir(parents=True, exist_ok=True)
    if txn is not None:
        txn.made_dirs.extend(reversed(missing))


@contextlib.contextmanager
def atomic_path(final_path):
    """Yield a temporary path beside ``final_path``; move it into place on success.

    On any exception the temporary file(s) are removed and ``final_path`` is left
    as it was. Shapefile sidecars move together. Inside :func:`output_transaction` a later failure
    of the same run also takes this output back. Hooks of :func:`on_output` run just before the move. A folder that cannot be written to gives an
    OutputError naming the path, not a PermissionError.
    """
    final = Path(final_path)
    txn = _TRANSACTION.get()
    try:
        _make_parent(final)
        tmpdir = Path(tempfile.mkdtemp(prefix=".riskmap-tmp-", dir=final.parent))
    except OSError as exc:
        raise _output_error(final, exc) from exc
    tmp = tmpdir / final.name
    try:
        try:
            yield str(tmp)
        except OSError as exc:
            if getattr(exc, "errno", None) in _WRITE_ERRNOS:
                raise _output_error(final, exc) from exc
            raise
        for hook in _ON_OUTPUT.get():
            hook(str(tmp), str(final))
        produced = sorted(tmpdir.iterdir())
        if not produced:
            raise RuntimeError(f"nothing was written for {final}")
        if final.suffix.lower() == ".shp":
            for ext in SHAPEFILE_SIDECARS:
                old = final.with_suffix(ext)
                if old.exists() and not (tmpdir / old.name).exists():
                    txn.retire(old) if txn is not None else old.unlink()
        try:
            for item in produced:
                (txn.place if txn is not None else os.replace)(item, final.parent / item.name)
        except OSError as exc:
            raise _output_error(final, exc) from exc
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)




def place(item, final):
    """Move a finished file into place (inside a transaction: so that rollback takes it back)."""
    txn = _TRANSACTION.get()
    try:
        (txn.place if txn is not None else os.replace)(item, final)
    except OSError as exc:
        raise _output_error(Path(final), exc) from exc


def retire(old):
    """Remove a file this run replaces (inside a transaction: restored on rollback)."""
    txn = _TRANSACTION.get()
    txn.retire(old) if txn is not None else Path(old).unlink()
