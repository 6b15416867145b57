"""The claim ledger: persistence, the claim lifecycle, reconciliation and the correction queue.

Modules (import them directly; this package imports nothing, so the pure parts stay light):

- ``lifecycle``: ``ClaimState`` and the one transition table; ``transition`` raises
  ``InvalidTransitionError``.
- ``tables`` and ``migrations``: the SQLAlchemy Core tables and their Alembic migrations.
- ``store``: ``Ledger``, the async store (SQLite in WAL mode through aiosqlite, PostgreSQL
  through asyncpg): a thin facade over its repositories, each a module over the shared base
  ``repository``: ``files``, ``intake`` (claims and versions), ``batching`` (the claim queue
  and its leases), ``submissions`` (control numbers, interchanges sent), ``responses`` (apply,
  hold, release), ``corrections`` (the correction queue), ``status``, ``transports``,
  ``users`` (the web console's users and roles) and ``audit`` (the audit trail).
- ``reconcile``: pure matching of the TA1/999/277CA/835 models (``gateway.models``) to what we
  sent; the 837 builder's record becomes a submission in ``submissions``.
- ``correction_rules``: the resubmission rules of DESIGN.md section 6 and the correction
  documents; ``resubmission``: resubmitting or voiding a claim in the ledger under those rules.
- ``control_numbers``: ``LedgerControlNumbers``, the builder's allocator backed by the ledger.
- ``records``: the plain records going in and out.

What the service does with it, in order::

    ledger = await Ledger.open(settings.ledger_url)          # migrates on open
    file = await ledger.record_file(sha256, name, "encounters")    # file.is_new False: duplicate
    outcomes = await ledger.record_claims(incoming, file_id=file.id)   # queued / invalid + item
    claims = await ledger.lease_queued_claims(worker, limit=n)     # or queued_claims()
    allocator = LedgerControlNumbers.for_running_loop(ledger)     # build in asyncio.to_thread
    submission = await ledger.record_built(interchange_sent, file_name)  # write-ahead: batched
    await ledger.record_submission_success(submission, file_id=...)      # submitted
    await ledger.abandon_submission(submission, reason)                  # or back to queued
    result = await ledger.apply_document(document, content_hash=sha256, partner=name)
    await sync_correction_files(ledger, settings.workspace.corrections)  # service.correction_files
"""
