"""File-safety primitives of the service: nothing half-written is read, nothing is lost or exposed.

- ``set_private_umask()``: everything the process creates is owner-only.
- ``atomic_write``: temp file in the same folder, fsync, ``os.replace`` (or, never replacing,
  ``rename_no_replace``: ``renameat2(RENAME_NOREPLACE)``, so no file ever has two names), fsync
  the folder (0o600).
- ``WorkspaceGuard``: refuses symlinks and paths outside the workspace.
- ``is_candidate_name`` and ``SettleTracker``: an inbox file is taken only once complete (no
  dotfiles, ``*.tmp`` or ``*.part``; size and mtime unchanged across the settle interval).
- ``claim_file``: takes a file from an inbox by atomic rename into the processing folder, so two
  workers never process the same file; ``list_claimed`` finds claimed files again after a crash.
- ``archive_file`` (``archive/YYYY/MM/DD/``) and ``quarantine_file`` (beside ``<name>.error.json``):
  never overwrite (a ``-N`` suffix is added), never delete input; any name the file system allows
  (``fit_name`` shortens a stored name that leaves no room for ``-N.error.json``).
- ``tidy_folder``: the gateway's temp files a crash left (a second name of a finished file, or an
  orphan older than a safe age). ``find_refused``: inbox entries the gateway will never take
  (symlinks, hard links, stale dotfiles, names that are not UTF-8) and whether to quarantine them.
- ``hold_lock``: an ``flock`` held for the life of a process (one process per worker id).
- ``sha256_file`` / ``read_file`` (aiofiles) and their ``*_sync`` forms.

The package's modules: ``gateway.durable`` (the atomic write and private mkdir every layer
uses, re-exported here), ``common`` (errors, crash points), ``inbox``, ``moving`` and
``reading``. Import from the package: ``gateway.service.files``.

The moving functions are synchronous (a rename and a few fsyncs each); from the event loop, call
them through ``asyncio.to_thread``.
"""

from gateway.durable import (
    atomic_write,
    atomic_write_async,
    ensure_private_dir,
    fit_name,
    fsync_directory,
    hold_lock,
    is_own_temp,
    numbered_name,
    rename_no_replace,
    set_private_umask,
    write_new_file,
)
from gateway.service.files.common import (
    CHUNK_SIZE,
    CRASH_VARIABLE,
    ERROR_SUFFIX,
    FileProblem,
    FileTooLargeError,
    UnsafePathError,
    crash_point,
)
from gateway.service.files.inbox import (
    FileState,
    Refusal,
    SettleTracker,
    TidyReport,
    WorkspaceGuard,
    file_state,
    find_refused,
    is_candidate_name,
    is_utf8_name,
    printable_name,
    tidy_folder,
)
from gateway.service.files.moving import (
    ClaimedFile,
    archive_file,
    claim_file,
    list_claimed,
    move_no_overwrite,
    quarantine_file,
    release_claimed,
)
from gateway.service.files.reading import read_file, read_file_sync, sha256_file, sha256_file_sync

__all__ = [
    "CHUNK_SIZE",
    "CRASH_VARIABLE",
    "ERROR_SUFFIX",
    "ClaimedFile",
    "FileProblem",
    "FileState",
    "FileTooLargeError",
    "Refusal",
    "SettleTracker",
    "TidyReport",
    "UnsafePathError",
    "WorkspaceGuard",
    "archive_file",
    "atomic_write",
    "atomic_write_async",
    "claim_file",
    "crash_point",
    "ensure_private_dir",
    "file_state",
    "find_refused",
    "fit_name",
    "fsync_directory",
    "hold_lock",
    "is_candidate_name",
    "is_own_temp",
    "is_utf8_name",
    "list_claimed",
    "move_no_overwrite",
    "numbered_name",
    "printable_name",
    "quarantine_file",
    "read_file",
    "read_file_sync",
    "release_claimed",
    "rename_no_replace",
    "set_private_umask",
    "sha256_file",
    "sha256_file_sync",
    "tidy_folder",
    "write_new_file",
]
