"""The claim ledger: persistence, the claim lifecycle, reconciliation and the correction queue."""
