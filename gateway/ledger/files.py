"""Files the gateway received and wrote: recorded once by content hash, with their status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.ledger import tables as t
from gateway.ledger.records import (
    FileRecord,
)

if TYPE_CHECKING:
    pass

from gateway.ledger.repository import (
    Repository,
    _file_record,
    _json_ready,
    _now,
    _pk,
)


class FilesRepository(Repository):
    """Files by content hash, their status, archive place and detail."""

    async def record_file(
        self,
        content_hash: str,
        name: str,
        kind: str,
        direction: str = "in",
        *,
        status: str = "received",
        size: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> FileRecord:
        """Record a file by content hash; the same content again returns the first record."""
        try:
            return await self._insert_file(
                content_hash, name, kind, direction, status, size, detail
            )
        except IntegrityError:
            # The same content recorded by another worker at the same moment: a duplicate.
            existing = await self.file_by_hash(content_hash)
            if existing is None:
                raise
            return existing

    async def _insert_file(
        self,
        content_hash: str,
        name: str,
        kind: str,
        direction: str,
        status: str,
        size: int | None,
        detail: Mapping[str, Any] | None,
    ) -> FileRecord:
        async with self._write() as conn:
            existing = await self._file_by_hash(conn, content_hash)
            if existing is not None:
                return replace(existing, is_new=False)
            now = _now()
            result = await conn.execute(
                t.files.insert().values(
                    content_hash=content_hash,
                    name=name,
                    kind=kind,
                    direction=direction,
                    status=status,
                    size=size,
                    detail=dict(detail) if detail else None,
                    received_at=now,
                    updated_at=now,
                )
            )
            file_id = _pk(result)
        return FileRecord(file_id, content_hash, name, kind, direction, status, None, True)

    async def update_file(
        self,
        file_id: int,
        *,
        status: str | None = None,
        archive_path: str | None = None,
        kind: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Change a file's status, archive location, kind or detail."""
        values: dict[str, Any] = {"updated_at": _now()}
        if status is not None:
            values["status"] = status
        if archive_path is not None:
            values["archive_path"] = archive_path
        if kind is not None:
            values["kind"] = kind
        if detail is not None:
            values["detail"] = _json_ready(detail)
        async with self._write() as conn:
            await conn.execute(t.files.update().where(t.files.c.id == file_id).values(**values))

    async def file(self, file_id: int) -> FileRecord | None:
        """The file with this id, if any."""
        async with self._read() as conn:
            row = (
                (await conn.execute(sa.select(t.files).where(t.files.c.id == file_id)))
                .mappings()
                .first()
            )
        return None if row is None else _file_record(row, is_new=False)

    async def file_by_hash(self, content_hash: str) -> FileRecord | None:
        """The file with this content hash, if seen."""
        async with self._read() as conn:
            return await self._file_by_hash(conn, content_hash)

    async def files(self, *, status: str | None = None) -> list[FileRecord]:
        """Every file (or those with ``status``), oldest first."""
        query = sa.select(t.files).order_by(t.files.c.id)
        if status is not None:
            query = query.where(t.files.c.status == status)
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_file_record(row, is_new=False) for row in rows]

    async def _file_by_hash(self, conn: AsyncConnection, content_hash: str) -> FileRecord | None:
        row = (
            (await conn.execute(sa.select(t.files).where(t.files.c.content_hash == content_hash)))
            .mappings()
            .first()
        )
        return None if row is None else _file_record(row, is_new=False)
