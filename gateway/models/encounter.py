"""The encounter contract: what billing staff hand the gateway, one claim each.

An ``Encounter`` is the typed, frozen form of one encounter file object (see
``schemas/encounter.schema.json``, generated from these models, and the normative examples in
``samples/encounters/``). The model checks types, shapes and code lists; the scrubber
(``gateway.edits``) checks everything a clearinghouse would reject and reports it by code and path.
Run ``python tools/write_schemas.py`` to regenerate the JSON schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from gateway.models.encounter_types import (
    AdjustmentGroup,
    ClaimFilingIndicator,
    ClaimId,
    Code,
    CodeList,
    Frequency,
    Gender,
    IcdCode,
    IcdCodeList,
    Identifier,
    IsoDate,
    Kind,
    NdcCode,
    NdcUnit,
    OptionalCode,
    OptionalIcdCode,
    OptionalIdentifier,
    OptionalPhone,
    OptionalText,
    PayerResponsibility,
    Phone,
    PointerList,
    RelatedCause,
    Relationship,
    ReleaseOfInformation,
    RevenueCode,
    TaxId,
    TaxIdType,
    Text,
    UnitType,
    ZipCode,
)

__all__ = [
    "Address",
    "Adjudication",
    "AdjudicationAdjustment",
    "BillingProvider",
    "Contact",
    "Encounter",
    "InputCorrection",
    "Institutional",
    "LineAdjudication",
    "Ndc",
    "OccurrenceCode",
    "OccurrenceSpanCode",
    "OtherPayer",
    "OtherSubscriber",
    "Patient",
    "Payer",
    "Procedure",
    "Provider",
    "ServiceFacility",
    "ServiceLine",
    "Subscriber",
    "ValueCode",
    "json_schema",
]


class _Model(BaseModel):
    """Base of every contract model: frozen, unknown fields refused, names as in the contract."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------------------- parts


class Address(_Model):
    """A postal address (N3/N4)."""

    line1: Text = Field(description="Street address, first line (N301). No PO box for providers.")
    line2: OptionalText = Field(None, description="Street address, second line (N302).")
    city: Text = Field(description="City (N401).")
    state: Code = Field(description="Two-letter state or province code (N402), e.g. `IL`.")
    zip: ZipCode = Field(
        description="ZIP code (N403): 5 or 9 digits; the billing provider needs all 9. "
        "A hyphen (`62701-1234`) is accepted and removed."
    )
    country_code: OptionalCode = Field(
        None, description="Two-letter country code (N404), only for addresses outside the US."
    )


class Contact(_Model):
    """Who the payer calls about the claim (PER in loop 2010AA)."""

    name: Text = Field(description="Contact name, a person or an office (PER02).")
    phone: Phone = Field(
        description="Phone number, 10 digits; punctuation such as `(217) 555-0100` is removed."
    )
    phone_extension: OptionalCode = Field(None, description="Phone extension.")
    email: OptionalText = Field(None, description="Email address.")
    fax: OptionalPhone = Field(None, description="Fax number, 10 digits.")


class BillingProvider(_Model):
    """The provider billing the claim (loop 2010AA)."""

    npi: Code = Field(description="National Provider Identifier: 10 digits with a check digit.")
    organization_name: OptionalText = Field(
        None, description="Organization name (NM103); or give `last_name` for an individual."
    )
    last_name: OptionalText = Field(None, description="Last name, when the provider is a person.")
    first_name: OptionalText = Field(None, description="First name, when the provider is a person.")
    middle_name: OptionalText = Field(None, description="Middle name or initial.")
    tax_id: TaxId = Field(description="Tax identification number: 9 digits (EIN or SSN).")
    tax_id_type: TaxIdType = Field(description="`EIN` (REF*EI) or `SSN` (REF*SY).")
    taxonomy: OptionalCode = Field(
        None, description="Provider taxonomy code (PRV03), 10 characters, e.g. `207Q00000X`."
    )
    address: Address = Field(description="Street address with a 9-digit ZIP code; no PO box.")
    contact: Contact | None = Field(None, description="Billing contact (PER).")


class Provider(_Model):
    """A person who took part in the care: rendering, referring, attending, operating..."""

    npi: Code = Field(description="National Provider Identifier: 10 digits with a check digit.")
    last_name: Text = Field(description="Last name (NM103).")
    first_name: OptionalText = Field(None, description="First name (NM104).")
    middle_name: OptionalText = Field(None, description="Middle name or initial (NM105).")
    suffix: OptionalText = Field(None, description="Name suffix such as `JR` (NM107).")
    taxonomy: OptionalCode = Field(None, description="Provider taxonomy code (PRV03).")


class ServiceFacility(_Model):
    """Where the service was performed, when not at the billing provider's address (2310C/E)."""

    name: Text = Field(description="Facility name (NM103).")
    npi: OptionalCode = Field(None, description="Facility NPI, when it has one.")
    address: Address = Field(description="Facility street address; no PO box.")


class Payer(_Model):
    """The payer the claim is sent to (loop 2010BB)."""

    id: Identifier = Field(description="Payer identifier as the clearinghouse knows it (NM109).")
    name: Text = Field(description="Payer name (NM103).")
    address: Address | None = Field(None, description="Payer address (N3/N4), rarely needed.")


class Subscriber(_Model):
    """The insured member (loop 2000B/2010BA)."""

    member_id: Identifier = Field(description="Member identifier on the insurance card (NM109).")
    last_name: Text = Field(description="Last name, as on the insurance card.")
    first_name: OptionalText = Field(None, description="First name, as on the insurance card.")
    middle_name: OptionalText = Field(None, description="Middle name or initial.")
    suffix: OptionalText = Field(None, description="Name suffix such as `JR`.")
    birth_date: IsoDate | None = Field(
        None, description="Birth date; required when the subscriber is the patient."
    )
    gender: Gender | None = Field(
        None, description="`M`, `F` or `U`; required when the subscriber is the patient."
    )
    address: Address | None = Field(
        None, description="Home address; required when the subscriber is the patient."
    )
    group_number: OptionalIdentifier = Field(None, description="Group or policy number (SBR03).")
    group_name: OptionalText = Field(None, description="Group or plan name (SBR04).")
    payer_responsibility: PayerResponsibility = Field(
        description="This payer's place in the order of payment: `primary`, `secondary`..."
    )
    claim_filing_indicator: ClaimFilingIndicator = Field(
        description="Kind of plan (SBR09): `CI` commercial, `MB` Medicare Part B, `MC` Medicaid, "
        "`BL` Blue Cross Blue Shield, `HM` HMO, `12` PPO, `WC` workers' compensation..."
    )
    insurance_type: OptionalCode = Field(
        None,
        description="Insurance type code (SBR05), required when Medicare (`MA`/`MB`) is not the "
        "primary payer: why Medicare is secondary, e.g. `12` working aged (employer group plan), "
        "`13` end-stage renal disease, `14` no-fault or auto, `15` workers' compensation, "
        "`16` public health service, `41` black lung, `42` veterans, `43` disabled (large "
        "employer plan), `47` other liability.",
    )


class Patient(_Model):
    """The patient when not the subscriber (loop 2000C/2010CA); ``null`` when self."""

    last_name: Text = Field(description="Last name.")
    first_name: OptionalText = Field(None, description="First name.")
    middle_name: OptionalText = Field(None, description="Middle name or initial.")
    suffix: OptionalText = Field(None, description="Name suffix such as `JR`.")
    birth_date: IsoDate = Field(description="Birth date.")
    gender: Gender = Field(description="`M`, `F` or `U`.")
    relationship_to_subscriber: Relationship = Field(
        description="PAT01: `01` spouse, `19` child, `20` employee, `21` unknown, "
        "`39` organ donor, `40` cadaver donor, `53` life partner, `G8` other "
        "(`18` self means `patient` is null)."
    )
    address: Address = Field(description="Home address.")
    death_date: IsoDate | None = Field(None, description="Date of death, when deceased.")


class Ndc(_Model):
    """The drug given on a service line (LIN/CTP in loop 2410)."""

    code: NdcCode = Field(
        description="National Drug Code in the 11-digit 5-4-2 form, no hyphens; a hyphenated "
        "10-digit package code (`0003-0293-05`) is accepted and zero-padded."
    )
    quantity: Decimal = Field(description='Quantity of drug given, e.g. `"1"` or `"0.5"`.')
    unit: NdcUnit = Field(description="`UN` units, `ML`, `GR` grams, `F2` intl. units, `ME` mg.")
    prescription_number: OptionalIdentifier = Field(
        None, description="Prescription number (REF*XZ)."
    )


class ServiceLine(_Model):
    """One billed service (loop 2400: SV1 on 837P, SV2 on 837I)."""

    line_id: OptionalIdentifier = Field(
        None,
        description="Line item control number (REF*6R), unique in the claim; remittances use it "
        "to pay lines separately.",
    )
    revenue_code: RevenueCode = Field(
        None,
        description="Institutional only: 4-digit revenue code (SV201), e.g. `0450` "
        "(`450` is read as `0450`).",
    )
    procedure_code: OptionalCode = Field(
        None,
        description="CPT or HCPCS code (5 characters); required on professional lines, "
        "situational on institutional ones.",
    )
    modifiers: CodeList = Field(
        (), description="Procedure modifiers, 2 characters each, at most 4."
    )
    description: OptionalText = Field(None, description="Procedure description (for NOC codes).")
    charge: Decimal = Field(description='Line charge, a decimal string such as `"185.00"`.')
    units: Decimal = Field(description="Units of service, greater than zero.")
    unit_type: UnitType = Field(description="`UN` units, `MJ` minutes, `DA` days.")
    service_date: IsoDate = Field(description="Date of service (or the first date of a range).")
    service_date_to: IsoDate | None = Field(
        None, description="Last date of service, when the line covers a range."
    )
    place_of_service: OptionalCode = Field(
        None, description="Professional only: place of service when it differs from the claim's."
    )
    diagnosis_pointers: PointerList = Field(
        (),
        description="Professional: 1-based positions in `diagnoses` this line treats, at most 4; "
        "the first is the primary one. The CMS-1500 letters `A`-`L` are accepted.",
    )
    emergency: bool = Field(False, description="Professional: the service was an emergency.")
    non_covered_charge: Decimal | None = Field(
        None, description="Institutional: the non-covered part of the charge (SV207)."
    )
    ndc: Ndc | None = Field(None, description="The drug given, for drug lines.")
    rendering_provider: Provider | None = Field(
        None, description="Rendering provider of this line, when not the claim's."
    )
    prior_authorization: OptionalIdentifier = Field(
        None, description="Prior authorization number for this line only."
    )


class OccurrenceCode(_Model):
    """An occurrence code and its date (HI*BH)."""

    code: Code = Field(description="Occurrence code, 2 characters (e.g. `11` onset of symptoms).")
    date: IsoDate = Field(description="Date of the occurrence.")


class OccurrenceSpanCode(_Model):
    """An occurrence span code and its dates (HI*BI)."""

    code: Code = Field(description="Occurrence span code, 2 characters (e.g. `74`).")
    from_date: IsoDate = Field(description="First date of the span.")
    to_date: IsoDate = Field(description="Last date of the span.")


class ValueCode(_Model):
    """A value code and its amount (HI*BE)."""

    code: Code = Field(description="Value code, 2 characters (e.g. `80` covered days).")
    amount: Decimal = Field(description="Amount or quantity, a decimal string.")


class Procedure(_Model):
    """An ICD-10-PCS procedure performed in the stay, with its date (HI*BBR / HI*BBQ)."""

    code: IcdCode = Field(description="ICD-10-PCS code, 7 characters, no dot.")
    date: IsoDate = Field(description="Date of the procedure.")


class Institutional(_Model):
    """The institutional (837I) block: type of bill, statement period, stay and UB-04 codes."""

    facility_type: Code = Field(
        description="First two digits of the type of bill, e.g. `11` hospital inpatient, "
        "`13` hospital outpatient; the claim frequency completes it (`111`)."
    )
    statement_from: IsoDate = Field(description="First day the claim covers (DTP*434).")
    statement_to: IsoDate = Field(
        description="Last day the claim covers; for an inpatient stay, the discharge date."
    )
    admission_date: IsoDate | None = Field(
        None, description="Admission date (DTP*435); required for inpatient claims."
    )
    admission_hour: OptionalCode = Field(None, description="Admission hour `HHMM` (24-hour).")
    discharge_hour: OptionalCode = Field(
        None, description="Discharge hour `HHMM` (DTP*096), for an inpatient stay that ended."
    )
    admission_type: OptionalCode = Field(
        None,
        description="CL101: `1` emergency, `2` urgent, `3` elective, `4` newborn, `5` trauma, "
        "`9` information not available.",
    )
    admission_source: OptionalCode = Field(
        None,
        description="CL102 point of origin, e.g. `1` non-health-care point, `7` emergency room.",
    )
    patient_status: Code = Field(
        description="CL103 discharge status, 2 digits, e.g. `01` home, `30` still a patient."
    )
    admitting_diagnosis: OptionalIcdCode = Field(
        None, description="Admitting diagnosis (HI*ABJ), inpatient claims."
    )
    reason_for_visit_diagnoses: IcdCodeList = Field(
        (), description="Patient's reasons for visit (HI*APR), at most 3, outpatient claims."
    )
    principal_procedure: Procedure | None = Field(
        None, description="Principal ICD-10-PCS procedure (HI*BBR), inpatient claims."
    )
    other_procedures: tuple[Procedure, ...] = Field(
        (), description="Other ICD-10-PCS procedures (HI*BBQ), at most 24."
    )
    condition_codes: CodeList = Field(
        (), description="Condition codes (HI*BG), 2 characters each, at most 24."
    )
    occurrence_codes: tuple[OccurrenceCode, ...] = Field(
        (), description="Occurrence codes with their dates (HI*BH), at most 24."
    )
    occurrence_span_codes: tuple[OccurrenceSpanCode, ...] = Field(
        (), description="Occurrence span codes with their dates (HI*BI), at most 24."
    )
    value_codes: tuple[ValueCode, ...] = Field(
        (), description="Value codes with amounts (HI*BE), at most 24."
    )
    drg_code: OptionalCode = Field(None, description="Diagnosis related group (HI*DR), if known.")


# ------------------------------------------------------------------------------------- the root


class AdjudicationAdjustment(_Model):
    """One adjustment another payer made (a CAS triplet on the 837's 2320 or 2430 loop)."""

    group: AdjustmentGroup = Field(
        description="`CO` contractual, `PR` patient responsibility, `OA` other, `PI` payer "
        "initiated (`CR` is accepted for old remittances)."
    )
    reason: Code = Field(description="Claim adjustment reason code (CARC), e.g. `45` or `2`.")
    amount: Decimal = Field(description='The adjusted amount, a decimal string such as `"12.00"`.')
    quantity: Decimal | None = Field(None, description="Adjusted units, when the payer gave them.")


class LineAdjudication(_Model):
    """Another payer's decision on one service line (2430: SVD, line CAS, DTP*573)."""

    line_id: Identifier = Field(
        description="The service line decided: its `line_id`, or its 1-based position in "
        "`service_lines` when the lines carry no `line_id`."
    )
    paid_amount: Decimal = Field(description="What the payer paid for the line (SVD02).")
    procedure_code: OptionalCode = Field(
        None,
        description="The procedure the payer adjudicated (SVD03), when it differs from the "
        "line's; the line's own code when absent.",
    )
    modifiers: CodeList = Field((), description="Modifiers the payer adjudicated with (SVD03).")
    revenue_code: OptionalCode = Field(
        None, description="Institutional: the revenue code the payer adjudicated (SVD04)."
    )
    units: Decimal | None = Field(
        None, description="Units the payer paid (SVD05); the line's units when absent."
    )
    adjustments: tuple[AdjudicationAdjustment, ...] = Field(
        (), description="The line's adjustments (line CAS)."
    )
    adjudication_date: IsoDate | None = Field(
        None, description="When the payer decided the line (DTP*573); `paid_date` when absent."
    )


class Adjudication(_Model):
    """What another payer decided on this claim: what it paid, adjusted and left to the patient."""

    paid_amount: Decimal = Field(description="What the payer paid for the claim (AMT*D).")
    paid_date: IsoDate = Field(description="When the payer adjudicated the claim (DTP*573).")
    payer_claim_control_number: OptionalIdentifier = Field(
        None, description="The payer's claim control number (CLP07; REF*F8 in 2330B)."
    )
    patient_responsibility: Decimal | None = Field(
        None, description="What the patient still owes after this payer (AMT*EAF)."
    )
    adjustments: tuple[AdjudicationAdjustment, ...] = Field(
        (), description="Claim-level adjustments (CAS in 2320)."
    )
    lines: tuple[LineAdjudication, ...] = Field(
        (), description="Line-level decisions (2430), when the payer gave them."
    )
    remark_codes: CodeList = Field(
        (),
        description="Medicare outpatient remark codes (RARC) the payer gave (MOA), at most 5.",
    )


class OtherSubscriber(_Model):
    """The member insured with another payer (2320 SBR and 2330A)."""

    member_id: Identifier = Field(description="Member identifier on that payer's card (NM109).")
    last_name: Text = Field(description="Last name, as on that insurance card.")
    first_name: OptionalText = Field(None, description="First name, as on that insurance card.")
    middle_name: OptionalText = Field(None, description="Middle name or initial.")
    suffix: OptionalText = Field(None, description="Name suffix such as `JR`.")
    birth_date: IsoDate | None = Field(None, description="Birth date of that subscriber.")
    gender: Gender | None = Field(None, description="`M`, `F` or `U`.")
    address: Address | None = Field(None, description="That subscriber's address (N3/N4).")
    group_number: OptionalIdentifier = Field(None, description="Group or policy number (SBR03).")
    group_name: OptionalText = Field(None, description="Group or plan name (SBR04).")
    claim_filing_indicator: ClaimFilingIndicator = Field(
        description="Kind of plan (SBR09), e.g. `MB` Medicare Part B, `CI` commercial."
    )
    insurance_type: OptionalCode = Field(
        None,
        description="Insurance type code (SBR05), required when this payer is Medicare "
        "(`MA`/`MB`) and not the primary payer; the codes of `subscriber.insurance_type`.",
    )
    relationship_to_patient: Relationship = Field(
        Relationship.SELF,
        description="How the patient relates to that subscriber (2320 SBR02, read like PAT01): "
        "`18` the patient is that subscriber, `01` spouse, `19` child, `20` employee, `G8` other.",
    )


class OtherPayer(_Model):
    """Another of the patient's coverages, in order of responsibility (2320/2330 loops)."""

    responsibility: PayerResponsibility = Field(
        description="This payer's place: `primary`, `secondary`, `tertiary` (the claim's own "
        "payer's place is `subscriber.payer_responsibility`)."
    )
    payer: Payer = Field(description="The other payer (2330B).")
    subscriber: OtherSubscriber = Field(description="The member insured with that payer.")
    partner: OptionalIdentifier = Field(
        None,
        description="The trading partner that reaches this payer, when not the claim's own "
        "(a file name in `config/partners/`).",
    )
    adjudication: Adjudication | None = Field(
        None, description="This payer's decision, when it is known (paper EOB, or an 835)."
    )


@dataclass(frozen=True)
class InputCorrection:
    """A change the model made to what was written, for the scrubber to report as a warning."""

    path: str  # JSON path of the field, e.g. ``diagnoses[1]``
    kind: Literal["icd-dot"]  # the dot of an ICD-10 code was removed


class Encounter(_Model):
    """One coded encounter: everything needed to build one 837P or 837I claim."""

    model_config = ConfigDict(
        title="Encounter",
        json_schema_extra={
            "description": "One coded encounter handed to the X12 claim gateway: the input "
            "contract for building an 837P (professional) or 837I (institutional) claim.",
        },
    )

    claim_id: ClaimId = Field(
        description="Patient control number sent as CLM01: 1-38 letters, digits or `-`, starting "
        "with a letter or digit (20 or fewer recommended: payers return 20), unique per claim; "
        "responses (277CA, 835) come back under it."
    )
    kind: Kind = Field(description="`professional` (837P) or `institutional` (837I).")
    frequency: Frequency = Field(
        Frequency.ORIGINAL,
        description="Claim frequency: `1` original, `7` replacement, `8` void (7 and 8 need "
        "`original_payer_claim_number`).",
    )
    partner: OptionalIdentifier = Field(
        None,
        description="Trading partner: a file name in `config/partners/` without `.toml` "
        "(the default partner when absent).",
    )
    billing_provider: BillingProvider = Field(description="The provider billing the claim.")
    pay_to_address: Address | None = Field(
        None, description="Where payment goes, when not the billing provider's address (2010AB)."
    )
    rendering_provider: Provider | None = Field(
        None, description="Who performed the service, when not the billing provider (2310B)."
    )
    referring_provider: Provider | None = Field(
        None, description="The referring provider (2310A on 837P, 2310F on 837I)."
    )
    supervising_provider: Provider | None = Field(
        None, description="Professional: the supervising provider (2310D)."
    )
    attending_provider: Provider | None = Field(
        None, description="Institutional: the attending provider (2310A), required there."
    )
    operating_provider: Provider | None = Field(
        None, description="Institutional: the operating physician (2310B)."
    )
    other_operating_provider: Provider | None = Field(
        None, description="Institutional: another operating physician (2310C)."
    )
    service_facility: ServiceFacility | None = Field(
        None, description="Where the service was given, when not the billing provider's address."
    )
    payer: Payer = Field(description="The payer the claim goes to.")
    subscriber: Subscriber = Field(description="The insured member.")
    patient: Patient | None = Field(
        None, description="The patient when not the subscriber; `null` when the subscriber is."
    )
    place_of_service: OptionalCode = Field(
        None, description="Professional: 2-digit CMS place of service code, e.g. `11` office."
    )
    diagnoses: IcdCodeList = Field(
        description="ICD-10-CM codes without dots, principal first, at most 12 (837P) "
        "or 25 (837I: principal + 24 other)."
    )
    total_charge: Decimal | None = Field(
        None,
        description="Claim total charge; computed from the lines when absent, and must equal "
        "their sum when given.",
    )
    patient_amount_paid: Decimal | None = Field(
        None, description="Amount the patient already paid (AMT*F5)."
    )
    prior_authorization: OptionalIdentifier = Field(
        None, description="Prior authorization (REF*G1)."
    )
    referral_number: OptionalIdentifier = Field(None, description="Referral number (REF*9F).")
    medical_record_number: OptionalIdentifier = Field(
        None, description="Medical record number (REF*EA)."
    )
    original_payer_claim_number: OptionalIdentifier = Field(
        None,
        description="The payer's claim control number of the claim replaced or voided (REF*F8); "
        "required for frequency 7 and 8, absent for 1.",
    )
    signature_on_file: bool = Field(True, description="Provider signature on file (CLM06).")
    accept_assignment: bool = Field(True, description="Provider accepts assignment (CLM07).")
    benefits_assigned: bool = Field(True, description="Benefits assigned to provider (CLM08).")
    release_of_information: ReleaseOfInformation = Field(
        ReleaseOfInformation.YES,
        description="`Y` signed release on file, `I` informed consent only (CLM09).",
    )
    related_causes: tuple[RelatedCause, ...] = Field(
        (), description="Professional: `AA` auto accident, `EM` employment, `OA` other accident."
    )
    accident_state: OptionalCode = Field(
        None, description="State where an auto accident happened (CLM11-4)."
    )
    accident_date: IsoDate | None = Field(None, description="Accident date (DTP*439).")
    onset_date: IsoDate | None = Field(None, description="Onset of current illness (DTP*431).")
    initial_treatment_date: IsoDate | None = Field(
        None, description="Initial treatment date (DTP*454)."
    )
    last_seen_date: IsoDate | None = Field(None, description="Last seen date (DTP*304).")
    acute_manifestation_date: IsoDate | None = Field(
        None, description="Acute manifestation date (DTP*453)."
    )
    last_menstrual_period_date: IsoDate | None = Field(
        None, description="Last menstrual period (DTP*484)."
    )
    hospitalized_from: IsoDate | None = Field(
        None, description="Professional: admission date of a related hospital stay (DTP*435)."
    )
    hospitalized_to: IsoDate | None = Field(
        None, description="Professional: discharge date of a related hospital stay (DTP*096)."
    )
    delay_reason_code: OptionalCode = Field(
        None, description="Why the claim is late (CLM20), e.g. `1` eligibility unknown."
    )
    note: OptionalText = Field(None, description="Claim note (NTE*ADD), up to 80 characters.")
    institutional: Institutional | None = Field(
        None, description="Institutional claims only: type of bill, statement period, stay codes."
    )
    service_lines: tuple[ServiceLine, ...] = Field(
        description="The billed services, at least one: at most 50 (837P) or 999 (837I)."
    )
    other_payers: tuple[OtherPayer, ...] = Field(
        (),
        description="The patient's other coverages, in order of responsibility, with each "
        "payer's adjudication when known (coordination of benefits: 2320/2330/2430).",
    )

    _corrections: tuple[InputCorrection, ...] = PrivateAttr(default=())

    def __eq__(self, other: object) -> bool:
        """Equal content is an equal encounter, however it was written (dots, spaces...)."""
        if not isinstance(other, Encounter):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    @model_validator(mode="wrap")
    @classmethod
    def _note_corrections(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Remember where ICD-10 codes were written with a dot, for the scrubber's warning."""
        found = tuple(_icd_dots(data)) if isinstance(data, dict) else ()
        model = handler(data)
        if found and isinstance(model, Encounter):
            model._corrections = found
        return model

    @property
    def corrections(self) -> tuple[InputCorrection, ...]:
        """Changes made to the input while reading it (e.g. ICD-10 dots removed)."""
        # read from pydantic's private store directly: the scrubber asks for every encounter,
        # and attribute lookup of a private attribute goes through a slow __getattr__
        private = self.__pydantic_private__
        found: tuple[InputCorrection, ...] = private["_corrections"] if private else ()
        return found

    @property
    def is_professional(self) -> bool:
        """Whether this encounter becomes an 837P claim."""
        return self.kind is Kind.PROFESSIONAL

    @property
    def computed_total_charge(self) -> Decimal:
        """The sum of the line charges (what CLM02 must be)."""
        return sum((line.charge for line in self.service_lines), Decimal(0))

    @property
    def patient_relationship(self) -> Relationship:
        """The patient's relationship to the subscriber (``18`` self when ``patient`` is null)."""
        if self.patient is None:
            return Relationship.SELF
        return self.patient.relationship_to_subscriber

    @property
    def first_service_date(self) -> date:
        """The earliest service date of the lines."""
        return min(line.service_date for line in self.service_lines)


def _icd_dots(data: dict[str, Any]) -> Iterator[InputCorrection]:
    """Paths of ICD-10 codes written with a dot in the raw input."""

    def dotted(value: Any) -> bool:
        return isinstance(value, str) and "." in value

    diagnoses = data.get("diagnoses")
    if isinstance(diagnoses, str):  # a lone code is read as a list of one
        diagnoses = [diagnoses]
    if isinstance(diagnoses, list | tuple):
        for i, code in enumerate(diagnoses):
            if dotted(code):
                yield InputCorrection(f"diagnoses[{i}]", "icd-dot")
    block = data.get("institutional")
    if isinstance(block, dict):
        if dotted(block.get("admitting_diagnosis")):
            yield InputCorrection("institutional.admitting_diagnosis", "icd-dot")
        reasons = block.get("reason_for_visit_diagnoses")
        if isinstance(reasons, str):
            reasons = [reasons]
        if isinstance(reasons, list | tuple):
            for i, code in enumerate(reasons):
                if dotted(code):
                    yield InputCorrection(
                        f"institutional.reason_for_visit_diagnoses[{i}]", "icd-dot"
                    )
        principal = block.get("principal_procedure")
        if isinstance(principal, dict) and dotted(principal.get("code")):
            yield InputCorrection("institutional.principal_procedure.code", "icd-dot")
        others = block.get("other_procedures")
        if isinstance(others, list | tuple):
            for i, proc in enumerate(others):
                if isinstance(proc, dict) and dotted(proc.get("code")):
                    yield InputCorrection(f"institutional.other_procedures[{i}].code", "icd-dot")


def json_schema() -> dict[str, Any]:
    """The JSON schema of one encounter object (what ``schemas/encounter.schema.json`` holds)."""
    schema = Encounter.model_json_schema(mode="validation")
    # what depends on kind and frequency, for validators outside the gateway (the scrubber
    # reports the same as E-INSTITUTIONAL-MISSING, E-FREQUENCY-NEEDS-ORIGINAL...)
    schema["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": "institutional"}}},
            "then": {"required": ["institutional", "attending_provider"]},
        },
        {
            "if": {"properties": {"kind": {"const": "professional"}}},
            "then": {"required": ["place_of_service"]},
        },
        {
            "if": {"properties": {"frequency": {"enum": ["7", "8"]}}, "required": ["frequency"]},
            "then": {
                "required": ["original_payer_claim_number"],
                "properties": {"original_payer_claim_number": {"type": "string"}},
            },
        },
    ]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """The JSON schema as the text stored in ``schemas/encounter.schema.json``."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
