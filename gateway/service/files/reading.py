"""Reading and hashing a file the service holds: streamed, size-limited, symlinks refused."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import aiofiles

from gateway.durable import open_nofollow
from gateway.service.files.common import CHUNK_SIZE, FileTooLargeError


def sha256_file_sync(path: Path) -> str:
    """The SHA-256 of a file's content (hex), read in chunks; symlinks are refused."""
    digest = hashlib.sha256()
    with open(path, "rb", opener=open_nofollow) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


async def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content (hex), streamed with aiofiles."""
    digest = hashlib.sha256()
    async with aiofiles.open(path, "rb", opener=open_nofollow) as handle:
        while chunk := await handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def read_file_sync(path: Path, max_bytes: int) -> bytes:
    """A file's bytes, or ``FileTooLargeError`` beyond ``max_bytes``; symlinks are refused."""
    with open(path, "rb", opener=open_nofollow) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise FileTooLargeError(path, size, max_bytes)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while being read
        raise FileTooLargeError(path, len(data), max_bytes)
    return data


async def read_file(path: Path, max_bytes: int) -> bytes:
    """A file's bytes read with aiofiles, or ``FileTooLargeError`` beyond ``max_bytes``."""
    async with aiofiles.open(path, "rb", opener=open_nofollow) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise FileTooLargeError(path, size, max_bytes)
        data = await handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLargeError(path, len(data), max_bytes)
    return data
