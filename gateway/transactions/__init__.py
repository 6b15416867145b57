"""Pure mappings between domain models and X12 transaction sets (no I/O).

The response readers (``remittance``, ``claim_ack``, ``ack999``, ``ta1``) turn segments from
``gateway.x12.read_segments`` into the models of ``gateway.models``;
``detect.detect_transactions`` tells which transactions a file holds; ``reader`` is the
``gateway parse`` command's back end.
"""
