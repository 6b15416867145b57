"""TR3 checks (SNIP 1-3) of X12 files: the fast validator driven by the implementation-guide maps,
and the pyx12 adapter used as the reference (``gateway.validation.pyx12_adapter``)."""
