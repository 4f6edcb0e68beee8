"""The tamper-evident audit log: a hash chain over the audit rows, sealed by a job.

Each audit row gets a *seal* (``audit_seals``): its position in the chain (``seq``), the
SHA-256 of its content, the hash of the seal before it and its own hash over the three. A row
changed, removed or re-ordered behind the database triggers' back (a superuser who drops them)
no longer matches its seal; a seal removed leaves a gap in ``seq``; a seal changed no longer
matches the next one. :func:`verify` walks the chain and names the first broken row.

**Why sealed by a job and not at insert.** Chaining at insert needs the previous row's hash,
i.e. one global lock held from the audit row's INSERT to the COMMIT of every transaction that
audits anything: web writes would queue behind each other and behind a long job (the SLA scan
audits as it goes), and a transaction holding the lock while waiting for a row lock can
deadlock with one holding the row and waiting for the lock. Sealing after commit costs a write
nothing: ``audit.seal`` runs every few minutes (and ``flask audit seal``), takes the rows
committed since, in id order, and appends their seals under one advisory lock (PostgreSQL;
SQLite has one writer anyway). The unique ``seq`` and ``event_id`` keep two sealers from
forking the chain even without the lock. The price is a window of a few minutes in which a new
row is not sealed yet; :func:`verify` counts those rows.

**One chain, read in blocks of 10,000.** Not a chain per day: rows commit out of ``at`` order
around midnight, so a day's chain would need re-sorting or rows from two days; and a busy day is
a huge block. The chain is continuous (the first seal of a block links to the last of the one
before, so a whole block removed is seen), and the verifier reads and checks it 10,000 seals per
query. Rows written before this chain existed are sealed by the first run, oldest first.

The audit rows themselves stay append-only (their triggers are untouched): sealing never updates
an audit row. Seals and verification records are append-only too.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from app.core.audit import AuditEvent
from app.core.clock import now_utc
from app.core.transactions import begin_write
from app.db import UTCDateTime
from app.extensions import db

BLOCK = 10_000
GENESIS = "0" * 64
#: PostgreSQL advisory lock key of the sealer (any constant shared by every process).
SEAL_LOCK = 7_252_015


class AuditSeal(db.Model):
    """The chain link of one audit row (append-only)."""

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, unique=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)


class AuditVerification(db.Model):
    """One run of :func:`verify`: what the auditor's page shows (append-only)."""

    __tablename__ = "audit_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    ok: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    checked: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    unsealed: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    broken: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    first_broken_event_id: Mapped[int | None] = mapped_column(sa.Integer)
    first_broken_seq: Mapped[int | None] = mapped_column(sa.BigInteger)
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    head_hash: Mapped[str | None] = mapped_column(sa.String(64))
    seconds: Mapped[float] = mapped_column(sa.Float, nullable=False)
    via: Mapped[str] = mapped_column(sa.String(16), nullable=False)

    @property
    def reason_label(self) -> str:
        """What the reason means, in the reader's language."""
        return str(REASONS.get(self.reason or "", self.reason or ""))


#: Why a seal did not check out (``audit_verifications.reason``) and what the auditor reads.
REASONS = {
    "seal-missing": _l("A seal is missing (removed from the chain)."),
    "link-broken": _l("A seal does not follow the one before (the chain was re-linked)."),
    "row-missing": _l("A sealed audit row was removed."),
    "row-changed": _l("A sealed audit row was changed."),
    "seal-changed": _l("A seal was changed."),
}

_EVENTS = AuditEvent.__table__
_SEALS = AuditSeal.__table__
_CONTENT = (_EVENTS.c.id, _EVENTS.c.at, _EVENTS.c.actor_id, _EVENTS.c.actor_name,
            _EVENTS.c.actor_role, _EVENTS.c.action, _EVENTS.c.object_type, _EVENTS.c.object_id,
            _EVENTS.c.ip, _EVENTS.c.user_agent, _EVENTS.c.success, _EVENTS.c.details)


def content_hash(row) -> str:
    """SHA-256 of an audit row's columns in one canonical text (same on both databases)."""
    at = row.at
    if at is not None:
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    payload = [row.id, at, row.actor_id, row.actor_name, row.actor_role, row.action,
               row.object_type, row.object_id, row.ip, row.user_agent, bool(row.success),
               row.details]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def link_hash(seq: int, event_id: int, prev_hash: str, content: str) -> str:
    """A seal's own hash: its position, its row, the seal before and the row's content."""
    return hashlib.sha256(f"{seq}:{event_id}:{prev_hash}:{content}".encode()).hexdigest()


# --- sealing -------------------------------------------------------------------------------


def _lock() -> None:
    """One sealer at a time: the writer lock on SQLite, an advisory lock on PostgreSQL."""
    begin_write()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(SEAL_LOCK)))


def _head() -> tuple[int, str]:
    """The last seal's position and hash (0 and the genesis hash on an empty chain)."""
    row = db.session.execute(
        sa.select(_SEALS.c.seq, _SEALS.c.hash).order_by(_SEALS.c.seq.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def _unsealed(limit: int) -> list:
    """Committed audit rows without a seal, oldest id first."""
    stmt = (sa.select(*_CONTENT)
            .outerjoin(_SEALS, _SEALS.c.event_id == _EVENTS.c.id)
            .where(_SEALS.c.seq.is_(None))
            .order_by(_EVENTS.c.id).limit(limit))
    return db.session.execute(stmt).all()


def seal_batch(limit: int = BLOCK) -> int:
    """Seal up to ``limit`` rows in the current transaction (flushes; the caller commits)."""
    _lock()
    rows = _unsealed(limit)
    if not rows:
        return 0
    seq, prev = _head()
    now = now_utc()
    links = []
    for row in rows:
        seq += 1
        content = content_hash(row)
        digest = link_hash(seq, row.id, prev, content)
        links.append({"seq": seq, "event_id": row.id, "content_hash": content,
                      "prev_hash": prev, "hash": digest, "sealed_at": now})
        prev = digest
    db.session.execute(sa.insert(_SEALS), links)
    return len(links)


def seal_all(limit: int = BLOCK, on_batch=None) -> int:
    """Seal every committed row, one transaction per batch of ``limit``; returns the count."""
    total = 0
    while True:
        count = seal_batch(limit)
        db.session.commit()
        total += count
        if on_batch:
            on_batch(total)
        if count < limit:
            return total


# --- verification --------------------------------------------------------------------------


@dataclass
class Verdict:
    """What :func:`verify` found."""

    checked: int = 0
    unsealed: int = 0
    broken: int = 0
    first_broken_seq: int | None = None
    first_broken_event_id: int | None = None
    reason: str | None = None
    head_hash: str | None = None
    seconds: float = 0.0
    problems: list[tuple[int, int | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken == 0

    def add(self, seq: int, event_id: int | None, reason: str) -> None:
        self.broken += 1
        if self.first_broken_seq is None:
            self.first_broken_seq, self.first_broken_event_id = seq, event_id
            self.reason = reason
        if len(self.problems) < 20:
            self.problems.append((seq, event_id, reason))


def _blocks() -> Iterator[list]:
    """The chain joined to its rows, ``BLOCK`` seals per query, in ``seq`` order."""
    last = 0
    while True:
        stmt = (sa.select(_SEALS.c.seq, _SEALS.c.event_id.label("sealed_id"),
                          _SEALS.c.content_hash, _SEALS.c.prev_hash, _SEALS.c.hash, *_CONTENT)
                .outerjoin(_EVENTS, _EVENTS.c.id == _SEALS.c.event_id)
                .where(_SEALS.c.seq > last).order_by(_SEALS.c.seq).limit(BLOCK))
        rows = db.session.execute(stmt).all()
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def _check(row, expected_seq: int, prev: str, verdict: Verdict) -> None:
    if row.seq != expected_seq:
        verdict.add(expected_seq, None, "seal-missing")
    elif row.prev_hash != prev:
        verdict.add(row.seq, row.sealed_id, "link-broken")
    elif row.id is None:
        verdict.add(row.seq, row.sealed_id, "row-missing")
    elif content_hash(row) != row.content_hash:
        verdict.add(row.seq, row.sealed_id, "row-changed")
    elif link_hash(row.seq, row.sealed_id, row.prev_hash, row.content_hash) != row.hash:
        verdict.add(row.seq, row.sealed_id, "seal-changed")


def verify() -> Verdict:
    """Walk the whole chain; every seal must follow the one before and match its row."""
    started = time.monotonic()
    verdict = Verdict()
    expected, prev = 1, GENESIS
    for block in _blocks():
        for row in block:
            _check(row, expected, prev, verdict)
            verdict.checked += 1
            expected, prev = row.seq + 1, row.hash
    verdict.head_hash = prev if verdict.checked else None
    verdict.unsealed = db.session.scalar(
        sa.select(sa.func.count()).select_from(_EVENTS)
        .outerjoin(_SEALS, _SEALS.c.event_id == _EVENTS.c.id).where(_SEALS.c.seq.is_(None)))
    verdict.seconds = round(time.monotonic() - started, 3)
    return verdict


def record(verdict: Verdict, via: str) -> AuditVerification:
    """Keep the verdict for the auditor's page (flushes; the caller commits)."""
    row = AuditVerification(
        at=now_utc(), ok=verdict.ok, checked=verdict.checked, unsealed=verdict.unsealed,
        broken=verdict.broken, first_broken_event_id=verdict.first_broken_event_id,
        first_broken_seq=verdict.first_broken_seq, reason=verdict.reason,
        head_hash=verdict.head_hash, seconds=verdict.seconds, via=via)
    db.session.add(row)
    db.session.flush()
    return row


def last_verification() -> AuditVerification | None:
    """The latest verification, for the auditor's page."""
    return db.session.scalar(
        sa.select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1))
