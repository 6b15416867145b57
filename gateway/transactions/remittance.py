"""The 835 reader: segments in; the payment header, claims one at a time balance findings out.

``iter_remittance(segments)`` streams: for every 835 transaction set it yields the
``RemittanceHeader`` (BPR, TRN, payer, payee), then each ``Claim`` as soon as its loop ends, then a
``RemittanceEnd`` with the provider-level adjustments (PLB), the set's totals and its findings. Only
the claim being read is held, so a remittance of any size is read in bounded memory; the running
``summary`` of the whole file is kept on the reader. Sets that are not 835s are skipped.

Balancing (SNIP type 3) is checked on the way and reported as located ``ResponseFinding``s with the
amounts; a file is never "fixed":

- line: SVC02 - sum(line CAS) = SVC03                              (``835-LINE-BALANCE``)
- claim: CLP03 - sum(claim CAS) - sum(line CAS) = CLP04            (``835-CLAIM-BALANCE``)
- claim vs lines, when lines are present: sum(SVC03) - sum(claim CAS) = CLP04
                                                                   (``835-CLAIM-LINES-BALANCE``)
- transaction: sum(CLP04) - sum(PLB) = BPR02 (negated when BPR03 is D)
                                                                   (``835-TRANSACTION-BALANCE``)

4010 remittances (004010X091A1) have the same shape and are read the same way, leniently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from gateway import codes
from gateway.models.remittance import (
    Adjustment,
    Claim,
    ClaimOutcome,
    NamedEntity,
    Party,
    Procedure,
    ProviderAdjustment,
    QualifiedAmount,
    QualifiedDate,
    Reference,
    RemarkCode,
    Remittance,
    RemittanceDocument,
    RemittanceHeader,
    RemittanceSummary,
    ServiceLine,
)
from gateway.models.responses import FindingSeverity, ResponseFinding
from gateway.transactions.common import (
    AMOUNTS,
    DATES,
    EnvelopeTracker,
    at,
    parse_amount,
    parse_date,
    warning,
)
from gateway.x12 import Segment

LINE_BALANCE = "835-LINE-BALANCE"
CLAIM_BALANCE = "835-CLAIM-BALANCE"
CLAIM_LINES_BALANCE = "835-CLAIM-LINES-BALANCE"
TRANSACTION_BALANCE = "835-TRANSACTION-BALANCE"
AMOUNT_INVALID = "835-AMOUNT-INVALID"
DATE_INVALID = "835-DATE-INVALID"
BALANCE_CODES = frozenset({LINE_BALANCE, CLAIM_BALANCE, CLAIM_LINES_BALANCE, TRANSACTION_BALANCE})
MAX_FINDINGS = 10_000  # kept per reader; a garbage file of any size stays in bounded memory

_ZERO = Decimal(0)
# _PADS[k] pads a segment's elements with k blanks: absent trailing elements read as ''
_PADS = [[""] * k for k in range(12)]
_ProcedureParts = tuple[str, str, tuple[str, ...], str]
_PROCEDURE_CACHE_LIMIT = 4096  # distinct SVC01 composites remembered within a transaction set


@dataclass(slots=True)
class RemittanceEnd:
    """The end of one 835 transaction set: its PLB adjustments, totals and findings."""

    header: RemittanceHeader
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    summary: RemittanceSummary = field(default_factory=RemittanceSummary)
    findings: list[ResponseFinding] = field(default_factory=list)


RemittanceItem = RemittanceHeader | Claim | RemittanceEnd


class _Tables:
    """The code tables the hot loop looks codes up in (loaded once)."""

    __slots__ = ("carc", "cas_group", "claim_filing", "clp02", "plb_reason", "rarc", "reductions")

    def __init__(self) -> None:
        self.carc = codes.table("carc")
        self.rarc = codes.table("rarc")
        self.cas_group = codes.table("cas_group")
        self.clp02 = codes.table("clp02")
        self.claim_filing = codes.table("claim_filing_indicator")
        self.plb_reason = codes.table("plb_reason")
        self.reductions = frozenset(codes.table("outcome_rules"))


_PAID = ClaimOutcome.PAID
_PARTIALLY_PAID = ClaimOutcome.PARTIALLY_PAID
_DENIED = ClaimOutcome.DENIED
_PATIENT = ClaimOutcome.PATIENT_RESPONSIBILITY
_SPECIAL_STATUS = {
    "22": ClaimOutcome.REVERSED,
    "23": ClaimOutcome.NOT_OUR_CLAIM,
    "25": ClaimOutcome.PREDETERMINATION,
}
_OUTCOME_TEXT = {outcome: outcome.value for outcome in ClaimOutcome}


def claim_outcome(claim: Claim, reductions: frozenset[str] | None = None) -> ClaimOutcome:
    """Judge what happened to a claim from its status, amounts and adjustment codes.

    A claim paid something is ``paid`` unless part of it was denied (an adjustment that is neither
    patient responsibility nor an expected reduction such as CO-45), then ``partially_paid``. A
    claim paid nothing is ``denied`` (CLP02 4, or any denial-type adjustment), else
    ``patient_responsibility`` when the patient owes what was allowed.
    """
    status = claim.status_code
    special = _SPECIAL_STATUS.get(status)
    if special is not None:
        return special
    if reductions is None:
        reductions = frozenset(codes.table("outcome_rules"))
    denied = False
    patient = False
    for adj in (*claim.adjustments, *(a for line in claim.lines for a in line.adjustments)):
        if adj.group == "PR":
            patient = patient or adj.amount > 0
        elif is_denial(adj, reductions):
            denied = True
    return _verdict(status, claim.paid_amount, claim.patient_responsibility, denied, patient)


def is_denial(adjustment: Adjustment, reductions: frozenset[str]) -> bool:
    """Whether a CAS adjustment denies (part of) the claim: a positive amount that is neither
    patient responsibility (group ``PR``) nor an expected reduction (``reductions``, the CARCs
    of ``gateway/codes/outcome_rules`` such as 45). Codes are compared as the TR3 writes them
    (upper case): ``pr`` is not ``PR``. The reader's hot loop applies the same test inline."""
    if adjustment.group == "PR" or adjustment.reason in reductions:
        return False
    return adjustment.amount > 0


def _verdict(
    status: str, paid: Decimal, patient_responsibility: Decimal | None, denied: bool, patient: bool
) -> ClaimOutcome:
    """``claim_outcome``'s verdict once the adjustments were looked at (``denied``, ``patient``)."""
    special = _SPECIAL_STATUS.get(status)
    if special is not None:
        return special
    if paid > 0:
        return _PARTIALLY_PAID if denied else _PAID
    if status == "4" or denied:
        return _DENIED
    if patient or (patient_responsibility or _ZERO) > 0:
        return _PATIENT
    return _DENIED


class RemittanceReader:
    """Streams the 835 transaction sets of a segment stream; see the module docstring.

    >>> from gateway.x12 import read_segments
    >>> reader = iter_remittance(read_segments(open("835.x12", "rb")))   # doctest: +SKIP
    >>> for item in reader:                                               # doctest: +SKIP
    ...     if isinstance(item, Claim): reconcile(item)
    >>> reader.summary.balanced                                           # doctest: +SKIP
    """

    def __init__(self, segments: Iterable[Segment]) -> None:
        self._segments = segments
        self.summary = RemittanceSummary()

        self.findings: list[ResponseFinding] = []
        """Every finding so far, across sets (at most ``MAX_FINDINGS`` kept)."""
        self.findings_dropped = 0
        """Findings not kept once ``MAX_FINDINGS`` was reached."""
        self.sets = 0
        """835 transaction sets read."""
        self.skipped_sets: dict[str, int] = {}
        """Transaction sets that are not 835s, counted by ST01."""
        self._tables = _Tables()
        self._iterator = self._run()

    def __iter__(self) -> Iterator[RemittanceItem]:
        return self._iterator

    def __next__(self) -> RemittanceItem:
        return next(self._iterator)

    # -- findings ---------------------------------------------------------------------------------
    def _add(self, finding: ResponseFinding, local: list[ResponseFinding]) -> None:
        if len(local) < MAX_FINDINGS:
            local.append(finding)
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.findings_dropped += 1

    def _amount(self, seg: Segment, position: int, local: list[ResponseFinding]) -> Decimal:
        """A required amount; an invalid or missing one is reported and read as 0."""
        el = seg.elements
        text = el[position - 1] if position <= len(el) else ""
        value = parse_amount(text)
        if value is None:
            what = "missing" if not text else "not a number"
            self._add(
                ResponseFinding(
                    AMOUNT_INVALID,
                    f"{seg.tag}{position:02d} is {what}; read as 0 for the totals.",
                    location=at(seg, position),
                    hint="Ask the payer to correct the remittance.",
                ),
                local,
            )
            return _ZERO
        return value

    def _optional_amount(
        self, seg: Segment, position: int, local: list[ResponseFinding]
    ) -> Decimal | None:
        el = seg.elements
        text = el[position - 1] if position <= len(el) else ""
        if not text:
            return None
        value = parse_amount(text)
        if value is None:
            self._add(
                ResponseFinding(
                    AMOUNT_INVALID,
                    f"{seg.tag}{position:02d} is not a number; left out.",
                    location=at(seg, position),
                    hint="Ask the payer to correct the remittance.",
                ),
                local,
            )
        return value

    def _date(self, seg: Segment, position: int, local: list[ResponseFinding]) -> date | None:
        text = seg.get(position)
        if not text:
            return None
        value = parse_date(text)
        if value is None:
            self._add(
                warning(
                    DATE_INVALID,
                    f"{seg.tag}{position:02d} is not a valid CCYYMMDD date; left out.",
                    at(seg, position),
                ),
                local,
            )
        return value

    # -- the reader -------------------------------------------------------------------------------
    def _run(self) -> Iterator[RemittanceItem]:
        envelope = EnvelopeTracker()
        tables = self._tables
        carc = tables.carc
        cas_groups = tables.cas_group
        rarc = tables.rarc
        clp02 = tables.clp02
        filing_meanings = tables.claim_filing
        amounts_get = AMOUNTS.get
        dates_get = DATES.get
        component = ":"
        procedures: dict[str, _ProcedureParts] = {}
        in_set = False
        header: RemittanceHeader | None = None
        header_sent = False
        party: Party | None = None
        claim: Claim | None = None
        clp: Segment | None = None
        line: ServiceLine | None = None
        line_segments: list[Segment] = []
        plbs: list[ProviderAdjustment] = []
        summary = RemittanceSummary()
        local: list[ResponseFinding] = []
        bpr: Segment | None = None
        st: Segment | None = None
        unknown = codes.UNKNOWN

        for seg in self._segments:
            tag = seg.tag
            if not in_set:
                if tag != "ST":
                    envelope.update(seg)
                    continue
            else:
                assert header is not None
                # -- claim and line loops: the hot path ------------------------------------------
                if tag == "CAS":
                    if line is not None:
                        target = line.adjustments
                    elif claim is not None:
                        target = claim.adjustments
                    else:
                        continue  # a CAS outside any claim: nothing to attach it to
                    el = seg.elements
                    n = len(el)
                    if n == 3 and el[1]:
                        # the usual CAS: one group, reason and amount, no quantity
                        group, reason, text = el
                        amount = amounts_get(text)
                        if amount is None:
                            amount = parse_amount(text)
                            if amount is None:
                                amount = self._amount(seg, 3, local)
                        target.append(
                            Adjustment(
                                group,
                                cas_groups.get(group, unknown),
                                reason,
                                carc.get(reason, unknown),
                                amount,
                            )
                        )
                        continue
                    group = el[0] if n else ""
                    group_meaning = cas_groups.get(group, unknown)
                    for start in range(1, min(n, 19), 3):
                        reason = el[start]
                        if not reason:
                            continue
                        amount = amounts_get(el[start + 1]) if start + 1 < n else None
                        if amount is None:
                            amount = parse_amount(el[start + 1] if start + 1 < n else "")
                            if amount is None:
                                amount = self._amount(seg, start + 2, local)
                        quantity = None
                        if start + 2 < n and el[start + 2]:
                            quantity = self._optional_amount(seg, start + 3, local)
                        target.append(
                            Adjustment(
                                group,
                                group_meaning,
                                reason,
                                carc.get(reason, unknown),
                                amount,
                                quantity,
                            )
                        )
                    continue
                if tag == "SVC":
                    if claim is None:
                        continue
                    el = seg.elements
                    n = len(el)
                    # SVC01..SVC07, absent ones blank (one unpacking instead of seven bounds checks)
                    composite, charge_text, paid_text, revenue, units, original, original_units = (
                        el + _PADS[7 - n] if n <= 7 else el[:7]
                    )
                    charge = amounts_get(charge_text)
                    if charge is None:
                        charge = parse_amount(charge_text)
                        if charge is None:
                            charge = self._amount(seg, 2, local)
                    paid = amounts_get(paid_text)
                    if paid is None:
                        paid = parse_amount(paid_text)
                        if paid is None:
                            paid = self._amount(seg, 3, local)
                    procedure = None
                    if composite:
                        # remittances repeat a few procedures: split each composite once
                        parts = procedures.get(composite)
                        if parts is None:
                            if len(procedures) >= _PROCEDURE_CACHE_LIMIT:
                                procedures.clear()
                            parts = procedures[composite] = _procedure_parts(composite, component)
                        # (each line gets its own modifiers list: parts are shared, lists are not)
                        procedure = Procedure(parts[0], parts[1], [*parts[2]], parts[3])
                    lines = claim.lines
                    line = ServiceLine(
                        len(lines) + 1,
                        procedure,
                        charge,
                        paid,
                        revenue,
                        # a cached amount, else the full path (which also says None when absent)
                        (amounts_get(units) if units else None)
                        or self._optional_amount(seg, 5, local),
                        _procedure(original, component) if original else None,
                        self._optional_amount(seg, 7, local) if original_units else None,
                    )
                    lines.append(line)
                    line_segments.append(seg)
                    continue
                if tag == "DTM":
                    el = seg.elements
                    n = len(el)
                    qualifier = el[0] if n else ""
                    text = el[1] if n > 1 else ""
                    value = dates_get(text) or self._date(seg, 2, local)
                    if line is not None:
                        if qualifier == "472" or qualifier == "150":
                            line.service_date = value
                        elif qualifier == "151":
                            line.service_date_end = value
                    elif claim is not None:
                        if qualifier == "232":
                            claim.statement_from = value
                        elif qualifier == "233":
                            claim.statement_to = value
                        elif qualifier == "050":
                            claim.received_date = value
                        else:
                            claim.dates.append(QualifiedDate(qualifier, value))
                    elif qualifier == "405":
                        header.production_date = value
                    continue
                if tag == "REF":
                    el = seg.elements
                    n = len(el)
                    qualifier = el[0] if n else ""
                    text = el[1] if n > 1 else ""
                    if line is not None:
                        if qualifier == "6R":
                            line.line_control_number = text
                        else:
                            line.references.append(Reference(qualifier, text))
                    elif claim is not None:
                        claim.references.append(Reference(qualifier, text))
                    elif party is not None:
                        party.references.append(Reference(qualifier, text))
                    else:
                        header.references.append(Reference(qualifier, text))
                    continue
                if tag == "AMT":
                    el = seg.elements
                    n = len(el)
                    qualifier = el[0] if n else ""
                    text = el[1] if n > 1 else ""
                    amount = amounts_get(text)
                    if amount is None:
                        amount = parse_amount(text)
                        if amount is None:
                            amount = self._amount(seg, 2, local)
                    if line is not None:
                        if qualifier == "B6":
                            line.allowed_amount = amount
                        else:
                            line.amounts.append(QualifiedAmount(qualifier, amount))
                    elif claim is not None:
                        claim.amounts.append(QualifiedAmount(qualifier, amount))
                    continue
                if tag == "CLP":
                    if claim is not None:
                        self._close_claim(claim, clp, line_segments, summary, local)
                        yield claim
                    elif not header_sent:
                        header_sent = True
                        party = None
                        yield header
                    el = seg.elements
                    n = len(el)
                    # CLP01..CLP11, absent ones blank (CLP10 patient status is not kept)
                    (
                        claim_id,
                        status,
                        charge_text,
                        paid_text,
                        patient_text,
                        filing,
                        payer_claim_number,
                        facility,
                        frequency,
                        _,
                        drg,
                    ) = el + _PADS[11 - n] if n <= 11 else el[:11]
                    charge = amounts_get(charge_text)
                    if charge is None:
                        charge = parse_amount(charge_text)
                        if charge is None:
                            charge = self._amount(seg, 3, local)
                    paid = amounts_get(paid_text)
                    if paid is None:
                        paid = parse_amount(paid_text)
                        if paid is None:
                            paid = self._amount(seg, 4, local)
                    claim = Claim(
                        claim_id,
                        status,
                        clp02.get(status, unknown),
                        charge,
                        paid,
                        (amounts_get(patient_text) if patient_text else None)
                        or self._optional_amount(seg, 5, local),
                        filing,
                        filing_meanings.get(filing, unknown) if filing else "",
                        payer_claim_number,
                        facility,
                        frequency,
                        drg,
                        status == "22",
                    )
                    claim.segment_index = seg.index
                    clp = seg
                    line = None
                    line_segments = []
                    continue
                if tag == "NM1":
                    if claim is not None:
                        el = seg.elements
                        el = el + _PADS[9 - len(el)] if len(el) < 9 else el
                        code = el[0]
                        entity = NamedEntity(code, el[2], el[3], el[4], el[6], el[7], el[8])
                        if code == "QC" and claim.patient is None:
                            claim.patient = entity
                        elif code == "IL" and claim.insured is None:
                            claim.insured = entity
                        elif code == "74" and claim.corrected_insured is None:
                            claim.corrected_insured = entity
                        else:
                            claim.other_entities.append(entity)
                    continue
                if tag == "LQ":
                    if line is not None:
                        qualifier = seg.get(1)
                        code = seg.get(2)
                        meaning = rarc.get(code, unknown) if qualifier == "HE" else unknown
                        line.remarks.append(RemarkCode(code, meaning, f"LQ*{qualifier}"))
                    continue
                if tag == "MOA" or tag == "MIA":
                    if claim is not None:
                        positions = (3, 4, 5, 6, 7) if tag == "MOA" else (5, 20, 21, 22, 23)
                        for position in positions:
                            code = seg.get(position)
                            if code:
                                claim.remarks.append(RemarkCode(code, rarc.get(code, unknown), tag))
                    continue
                if tag == "QTY":
                    amount = self._amount(seg, 2, local)
                    if line is not None:
                        line.quantities.append(QualifiedAmount(seg.get(1), amount))
                    elif claim is not None:
                        claim.quantities.append(QualifiedAmount(seg.get(1), amount))
                    continue
                if tag == "LX" or tag == "TS3" or tag == "TS2":
                    if claim is not None:
                        self._close_claim(claim, clp, line_segments, summary, local)
                        yield claim
                        claim = None
                        line = None
                    elif not header_sent:
                        header_sent = True
                        yield header
                    party = None
                    continue
                if tag == "PLB":
                    if claim is not None:
                        self._close_claim(claim, clp, line_segments, summary, local)
                        yield claim
                        claim = None
                        line = None
                    elif not header_sent:
                        header_sent = True
                        yield header
                    self._read_plb(seg, plbs, summary, local)
                    continue
                if tag == "SE" or tag in _ENVELOPE:
                    if claim is not None:
                        self._close_claim(claim, clp, line_segments, summary, local)
                        yield claim
                        claim = None
                        line = None
                    if not header_sent:
                        header_sent = True
                        yield header
                    self._close_set(header, bpr, st, seg, summary, local)
                    yield RemittanceEnd(header, plbs, summary, local)
                    self.sets += 1
                    in_set = False
                    if tag == "SE":
                        continue
                    # SE was missing (the engine reported it): this segment opens what follows
                    envelope.update(seg)
                    if tag != "ST":
                        continue
                # -- header: BPR, TRN, N1 loops -------------------------------------------------
                elif claim is not None:
                    continue  # other claim-level segments (PER, ...) carry nothing we keep
                elif tag == "BPR":
                    bpr = seg
                    header.handling_code = seg.get(1)
                    header.handling_meaning = codes.meaning("bpr_handling", seg.get(1))
                    header.payment_amount = self._amount(seg, 2, local)
                    header.credit_debit = seg.get(3)
                    header.payment_method = seg.get(4)
                    header.payment_method_meaning = codes.meaning("payment_method", seg.get(4))
                    header.payment_format = seg.get(5)
                    header.payment_date = self._date(seg, 16, local)
                elif tag == "TRN":
                    header.trace_type = seg.get(1)
                    header.trace_number = seg.get(2)
                    header.originating_company_id = seg.get(3)
                elif tag == "N1":
                    party = Party(seg.get(1), seg.get(2), seg.get(3), seg.get(4))
                    if seg.get(1) == "PR" and header.payer is None:
                        header.payer = party
                    elif seg.get(1) == "PE" and header.payee is None:
                        header.payee = party
                elif party is not None:
                    if tag == "N3":
                        party.address_lines.extend(v for v in (seg.get(1), seg.get(2)) if v)
                    elif tag == "N4":
                        party.city, party.state, party.postal_code = (
                            seg.get(1),
                            seg.get(2),
                            seg.get(3),
                        )
                        party.country = seg.get(4)
                    elif tag == "PER":
                        party.contacts.append(":".join(v for v in seg.elements if v))
                if tag != "ST":
                    continue

            # an ST: open a set (possibly right after one that lacked its SE)
            if seg.get(1) != "835":
                self.skipped_sets[seg.get(1)] = self.skipped_sets.get(seg.get(1), 0) + 1
                continue
            in_set = True
            st = seg
            component = seg.delimiters.component
            procedures.clear()  # this set's composites split on its own component separator
            header = RemittanceHeader(envelope=envelope.envelope(seg))
            header_sent = False
            party = None
            claim = None
            line = None
            plbs = []
            summary = RemittanceSummary()
            local = []
            bpr = None
            continue

        if in_set and header is not None:
            # input ended inside a set (the engine reports the missing SE/GE/IEA)
            if claim is not None:
                self._close_claim(claim, clp, line_segments, summary, local)
                yield claim
            if not header_sent:
                yield header
            self._close_set(header, bpr, st, None, summary, local)
            yield RemittanceEnd(header, plbs, summary, local)
            self.sets += 1

    # -- closing loops --------------------------------------------------------------------------
    def _close_claim(
        self,
        claim: Claim,
        clp: Segment | None,
        line_segments: list[Segment],
        summary: RemittanceSummary,
        local: list[ResponseFinding],
    ) -> None:
        """Balance a claim and its lines, judge its outcome, and add it to the totals."""
        # one pass over the adjustments both sums them and judges them (see ``claim_outcome``)
        reductions = self._tables.reductions
        denied = False
        patient = False
        claim_cas = _ZERO
        for adj in claim.adjustments:
            amount = adj.amount
            claim_cas += amount
            if adj.group == "PR":
                patient = patient or amount > _ZERO
            elif not denied and adj.reason not in reductions and amount > _ZERO:
                denied = True
        lines_cas = _ZERO
        lines_paid = _ZERO
        lines = claim.lines
        for line in lines:
            line_cas = _ZERO
            for adj in line.adjustments:
                amount = adj.amount
                line_cas += amount
                if adj.group == "PR":
                    patient = patient or amount > _ZERO
                elif not denied and adj.reason not in reductions and amount > _ZERO:
                    denied = True
            lines_cas += line_cas
            line_paid = line.paid
            lines_paid += line_paid
            expected = line.charge - line_cas
            if expected != line_paid:
                self._imbalance(
                    LINE_BALANCE,
                    f"Service line {line.line_number} of claim {claim.claim_id} does not balance: "
                    f"charge SVC02 {line.charge} - adjustments {line_cas} = {expected}, "
                    f"but SVC03 paid is {line_paid}.",
                    line_segments[line.line_number - 1],  # the line's SVC
                    3,
                    claim.claim_id,
                    line.line_number,
                    expected,
                    line_paid,
                    summary,
                    local,
                )
        paid = claim.paid_amount
        charge = claim.total_charge
        expected = charge - claim_cas - lines_cas
        if clp is not None and expected != paid:
            self._imbalance(
                CLAIM_BALANCE,
                f"Claim {claim.claim_id} does not balance: charge CLP03 {charge} - "
                f"claim adjustments {claim_cas} - line adjustments {lines_cas} = {expected}, "
                f"but CLP04 paid is {paid}.",
                clp,
                4,
                claim.claim_id,
                None,
                expected,
                paid,
                summary,
                local,
            )
        if lines and clp is not None:
            expected = lines_paid - claim_cas
            if expected != paid:
                self._imbalance(
                    CLAIM_LINES_BALANCE,
                    f"Claim {claim.claim_id} does not agree with its lines: lines paid (sum of "
                    f"SVC03) {lines_paid} - claim adjustments {claim_cas} = {expected}, but CLP04 "
                    f"paid is {paid}.",
                    clp,
                    4,
                    claim.claim_id,
                    None,
                    expected,
                    paid,
                    summary,
                    local,
                )
        patient_responsibility = claim.patient_responsibility
        outcome = _verdict(claim.status_code, paid, patient_responsibility, denied, patient)
        claim.outcome = outcome
        summary.claims += 1
        summary.service_lines += len(lines)
        summary.total_charge += charge
        summary.total_paid += paid
        if patient_responsibility is not None:
            summary.patient_responsibility += patient_responsibility
        if claim.is_reversal:
            summary.reversals += 1
        outcomes = summary.outcomes
        text = _OUTCOME_TEXT[outcome]
        outcomes[text] = outcomes.get(text, 0) + 1

    def _imbalance(
        self,
        code: str,
        message: str,
        seg: Segment,
        element: int,
        claim_id: str | None,
        line_number: int | None,
        expected: Decimal,
        actual: Decimal,
        summary: RemittanceSummary,
        local: list[ResponseFinding],
    ) -> None:
        summary.balanced = False
        summary.imbalances += 1
        self._add(
            ResponseFinding(
                code,
                message,
                FindingSeverity.ERROR,
                at(seg, element),
                claim_id,
                line_number,
                expected,
                actual,
                actual - expected,
                "The payer's remittance is out of balance: post what it says and ask the payer "
                "for a corrected 835; do not adjust the amounts.",
            ),
            local,
        )

    def _read_plb(
        self,
        seg: Segment,
        plbs: list[ProviderAdjustment],
        summary: RemittanceSummary,
        local: list[ResponseFinding],
    ) -> None:
        provider = seg.get(1)
        fiscal = self._date(seg, 2, local)
        table = self._tables.plb_reason
        for position in range(3, max(len(seg), 3) + 1, 2):
            composite = seg.get(position)
            if not composite:
                continue
            reason, _, reference = composite.partition(seg.delimiters.component)
            amount = self._amount(seg, position + 1, local)
            plbs.append(
                ProviderAdjustment(
                    provider,
                    fiscal,
                    reason,
                    table.get(reason, codes.UNKNOWN),
                    reference,
                    amount,
                )
            )
            summary.plb_total += amount

    def _close_set(
        self,
        header: RemittanceHeader,
        bpr: Segment | None,
        st: Segment | None,
        end: Segment | None,
        summary: RemittanceSummary,
        local: list[ResponseFinding],
    ) -> None:
        payment = header.payment_amount
        summary.payment_amount = payment
        stated = -payment if header.credit_debit == "D" else payment
        expected = summary.total_paid - summary.plb_total
        where = bpr if bpr is not None else (st if st is not None else end)
        if expected != stated and where is not None:
            self._imbalance(
                TRANSACTION_BALANCE,
                f"Transaction set {header.envelope.transaction_control_number} does not balance: "
                f"claims paid (sum of CLP04) {summary.total_paid} - provider adjustments (PLB) "
                f"{summary.plb_total} = {expected}, but BPR02 payment is {stated}.",
                where,
                2,
                None,
                None,
                expected,
                stated,
                summary,
                local,
            )
        self._fold(summary)

    def _fold(self, summary: RemittanceSummary) -> None:
        """Add one set's totals to the file's."""
        total = self.summary
        total.claims += summary.claims
        total.service_lines += summary.service_lines
        total.reversals += summary.reversals
        total.total_charge += summary.total_charge
        total.total_paid += summary.total_paid
        total.patient_responsibility += summary.patient_responsibility
        total.plb_total += summary.plb_total
        total.payment_amount += summary.payment_amount
        total.balanced = total.balanced and summary.balanced
        total.imbalances += summary.imbalances
        for outcome, count in summary.outcomes.items():
            total.outcomes[outcome] = total.outcomes.get(outcome, 0) + count


_ENVELOPE = frozenset({"ST", "GS", "GE", "ISA", "IEA"})


def _procedure_parts(composite: str, separator: str) -> _ProcedureParts:
    """A composite procedure (SVC01 / SVC06) split: qualifier, code, modifiers, description."""
    parts = composite.split(separator)
    n = len(parts)
    return (
        parts[0],
        parts[1] if n > 1 else "",
        tuple(m for m in parts[2:6] if m) if n > 2 else (),
        parts[6] if n > 6 else "",
    )


def _procedure(composite: str, separator: str) -> Procedure:
    qualifier, code, modifiers, description = _procedure_parts(composite, separator)
    return Procedure(qualifier, code, [*modifiers], description)


def iter_remittance(segments: Iterable[Segment]) -> RemittanceReader:
    """Stream the 835s in ``segments``: header, claims one at a time, then each set's end."""
    return RemittanceReader(segments)


def read_remittance(segments: Iterable[Segment]) -> RemittanceDocument:
    """Read every 835 in ``segments`` into one ``RemittanceDocument`` (holds every claim)."""
    reader = RemittanceReader(segments)
    document = RemittanceDocument()
    current: Remittance | None = None
    for item in reader:
        if isinstance(item, RemittanceHeader):
            current = Remittance(header=item)
            document.remittances.append(current)
        elif isinstance(item, Claim):
            if current is not None:
                current.claims.append(item)
        else:
            if current is None:  # pragma: no cover - the reader always sends a header first
                current = Remittance(header=item.header)
                document.remittances.append(current)
            current.provider_adjustments = item.provider_adjustments
            current.summary = item.summary
            current.findings = item.findings
            current = None
    document.summary = reader.summary
    document.findings = list(reader.findings)
    return document


__all__ = [
    "AMOUNT_INVALID",
    "BALANCE_CODES",
    "CLAIM_BALANCE",
    "CLAIM_LINES_BALANCE",
    "DATE_INVALID",
    "LINE_BALANCE",
    "TRANSACTION_BALANCE",
    "RemittanceEnd",
    "RemittanceItem",
    "RemittanceReader",
    "claim_outcome",
    "is_denial",
    "iter_remittance",
    "read_remittance",
]
