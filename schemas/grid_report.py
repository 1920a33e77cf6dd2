"""The grid report: what grid apps publish on ``grid.reports`` (wire contract v1).

``GridReportV1`` is the contract exactly; ``AcceptedReportV1`` is what intake forwards on
``grid.reports.accepted``: the same report, normalised, with personal data masked and a note
of where it came from. Adding an optional field keeps version 1; a breaking change adds
``GridReportV2`` here and turns ``GridReport`` into a union discriminated by
``schema_version``.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_serializer,
    field_validator,
    model_validator,
)

from schemas.pii import mask_phone, mask_pii_text

__all__ = [
    "CHANNELS",
    "DISTRICTS",
    "MAX_PAYLOAD_BYTES",
    "PLACE_TYPES",
    "REPORTER_ROLES",
    "AcceptedReportV1",
    "Channel",
    "District",
    "GridReport",
    "GridReportV1",
    "IndicatorRef",
    "IntakeSource",
    "PlaceType",
    "ReporterRole",
    "accepted_report_adapter",
    "grid_report_adapter",
]

# Reports are a few hundred bytes; 64 KiB leaves room for 2,000 characters of text and all
# optional fields many times over, and keeps a hostile payload from costing the parser.
MAX_PAYLOAD_BYTES = 64 * 1024

Channel = Literal["grid_app", "hotline_12345", "wecom_group", "courier_app", "resident_app"]
ReporterRole = Literal[
    "grid_worker",
    "community_worker",
    "courier",
    "ride_hailing_driver",
    "truck_driver",
    "resident",
    "volunteer",
    "hotline_operator",
]
District = Literal[
    "海曙区", "江北区", "镇海区", "北仑区", "鄞州区",
    "奉化区", "余姚市", "慈溪市", "宁海县", "象山县",
]  # fmt: skip
PlaceType = Literal[
    "rental_housing",
    "old_residential",
    "nine_small_venue",
    "high_rise",
    "industrial",
    "street",
    "other",
]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]
REPORTER_ROLES: tuple[str, ...] = ReporterRole.__args__  # type: ignore[attr-defined]
DISTRICTS: tuple[str, ...] = District.__args__  # type: ignore[attr-defined]
PLACE_TYPES: tuple[str, ...] = PlaceType.__args__  # type: ignore[attr-defined]

ReportId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Latitude = Annotated[float, Field(ge=28.8, le=30.5, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=120.8, le=122.5, allow_inf_nan=False)]


class GridReportV1(BaseModel):
    """One report from a grid app, the hotline or a sentinel, exactly as the contract says.

    Strict: ``"1"`` is not ``1`` and a timestamp must be an ISO-8601 string with an offset,
    so an app's bug is answered at once instead of guessed around. Unknown fields are refused
    so that a misspelt optional field is not silently dropped.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, str_strip_whitespace=True)

    schema_version: Literal[1]
    report_id: ReportId
    reported_at: AwareDatetime
    channel: Channel
    reporter_role: ReporterRole
    district: District
    grid_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    street: ShortText | None = None
    community: ShortText | None = None
    address: ShortText | None = None
    place_type: PlaceType | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    category_hint: Annotated[str, StringConstraints(max_length=64)] | None = None
    reporter_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    contact_phone: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_is_not_a_bool(cls, version: object) -> object:
        if isinstance(version, bool):  # pydantic's Literal[1] takes true, as 1 == True
            msg = "schema_version must be the number 1, not a boolean"
            raise ValueError(msg)  # noqa: TRY004 - pydantic wants ValueError here
        return version

    @model_validator(mode="after")
    def _lat_and_lon_together(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            msg = "lat and lon must be given together"
            raise ValueError(msg)
        return self

    @field_serializer("contact_phone")
    def _mask_contact_phone(self, phone: str | None) -> str | None:
        return None if phone is None else mask_phone(phone)

    def accepted(
        self,
        source: IntakeSource,
        *,
        sealed_pii: str | None = None,
        indicators: tuple[IndicatorRef, ...] = (),
    ) -> AcceptedReportV1:
        """Normalise for ``grid.reports.accepted``: PII in the text masked, source noted."""
        fields = self.model_dump(exclude_none=True)  # contact_phone masked by the serializer
        fields["text"] = mask_pii_text(self.text)
        extra = {"intake": source, "sealed_pii": sealed_pii, "indicators": indicators}
        return AcceptedReportV1.model_validate({**fields, **extra}, strict=False)


class IntakeSource(BaseModel):
    """Where intake read a report: enough to find its original bytes again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    partition: int
    offset: int
    received_at: AwareDatetime


class IndicatorRef(BaseModel):
    """A phone number, bank account or link in the text, as a keyed digest and masked.

    The digest lets fraud campaigns be spotted (the same scam number in several reports)
    without the number itself travelling; only holders of the key can test a guess.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["phone", "bank_account", "link"]
    digest: str
    masked: str


class AcceptedReportV1(GridReportV1):
    """A validated report as intake forwards it: normalised, PII masked, source noted.

    ``sealed_pii`` holds the raw phone numbers and text, encrypted with the PII key, for the
    responders whose role needs them (police, bank); nothing else can read it.
    """

    intake: IntakeSource
    sealed_pii: str | None = None
    indicators: tuple[IndicatorRef, ...] = ()

    @field_serializer("contact_phone")
    def _mask_contact_phone(self, phone: str | None) -> str | None:
        return phone  # already masked by GridReportV1.accepted(); masking twice loses digits


GridReport = GridReportV1
grid_report_adapter: TypeAdapter[GridReportV1] = TypeAdapter(GridReport)
accepted_report_adapter: TypeAdapter[AcceptedReportV1] = TypeAdapter(AcceptedReportV1)
