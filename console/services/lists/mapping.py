"""Column mapping: the fields a list can fill, the vendors' names for them, and presets."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from console.models import MappingPreset
from console.services.tenancy import scoped

# Target fields in the order the mapping page lists them.
FIELDS: dict[str, str] = {
    "business_name": "Business name",
    "contact_name": "Owner / contact full name",
    "first_name": "Owner first name",
    "last_name": "Owner last name",
    "title": "Owner title",
    "street": "Street address",
    "address2": "Address line 2 (suite, unit)",
    "city": "City",
    "state": "State",
    "zip": "ZIP / postal code",
    "county": "County",
    "phone": "Business phone",
    "mobile": "Mobile / cell",
    "email": "Email",
    "website": "Website",
    "sic_code": "SIC code",
    "sic_description": "Industry / SIC description",
    "naics_code": "NAICS code",
    "naics_description": "NAICS description",
    "employees": "Employees",
    "revenue": "Annual revenue / sales volume",
}
CUSTOM = ""  # keep the column on the lead as a custom field
IGNORE = "ignore"  # drop the column
CHOICES: dict[str, str] = {CUSTOM: "Keep as custom field", IGNORE: "Ignore", **FIELDS}

# Header names seen in USBizData, Data Axle (infoUSA), Apollo, ZoomInfo, D&B Hoovers,
# Google Maps scrapers and hand-made spreadsheets, after `header_words`.
ALIASES: dict[str, tuple[str, ...]] = {
    "business_name": (
        "company",
        "company name",
        "business",
        "business name",
        "name of business",
        "organization",
        "organisation",
        "organization name",
        "account name",
        "account",
        "firm",
        "firm name",
        "legal name",
        "company legal name",
        "dba",
        "dba name",
        "businessname",
        "companyname",
        "employer",
        "store name",
        "practice name",
    ),
    "contact_name": (
        "contact",
        "contact name",
        "owner",
        "owner name",
        "executive",
        "executive name",
        "key contact",
        "principal",
        "full name",
        "name",
        "contact full name",
        "primary contact",
        "decision maker",
        "contact person",
        "owner full name",
        "executive full name",
        "person name",
        "owners name",
        "owner s name",
        "business owner",
        "business owner name",
        "owner contact",
        "owner operator",
        "principal name",
        "contact person name",
        "ceo",
        "ceo name",
        "president",
        "key executive",
    ),
    "first_name": (
        "first name",
        "first",
        "contact first name",
        "executive first name",
        "owner first name",
        "fname",
        "firstname",
        "given name",
        "contact first",
        "owner first",
        "owner firstname",
        "owner fname",
        "principal first name",
        "principal first",
        "executive first",
    ),
    "last_name": (
        "last name",
        "last",
        "surname",
        "contact last name",
        "executive last name",
        "owner last name",
        "lname",
        "lastname",
        "family name",
        "contact last",
        "owner last",
        "owner lastname",
        "owner lname",
        "principal last name",
        "principal last",
        "executive last",
    ),
    "title": (
        "title",
        "contact title",
        "executive title",
        "job title",
        "position",
        "owner title",
        "contact position",
        "designation",
    ),
    "street": (
        "address",
        "street",
        "street address",
        "address 1",
        "address1",
        "address line 1",
        "mailing address",
        "physical address",
        "location address",
        "business address",
        "addr",
        "company address",
        "company street",
        "street 1",
        "street1",
    ),
    "address2": (
        "address 2",
        "address2",
        "address line 2",
        "suite",
        "unit",
        "apt",
        "street 2",
        "suite unit",
    ),
    "city": (
        "city",
        "town",
        "location city",
        "mailing city",
        "physical city",
        "company city",
        "business city",
    ),
    "state": (
        "state",
        "st",
        "province",
        "state code",
        "location state",
        "mailing state",
        "company state",
        "business state",
        "state province",
    ),
    "zip": (
        "zip",
        "zip code",
        "zipcode",
        "postal code",
        "postcode",
        "zip5",
        "zip 5",
        "postal",
        "location zip code",
        "location zip",
        "mailing zip",
        "mailing zip code",
        "company postal code",
        "company zip",
        "zip postal code",
    ),
    "county": ("county", "county name", "location county"),
    "phone": (
        "phone",
        "phone number",
        "business phone",
        "telephone",
        "tel",
        "office phone",
        "main phone",
        "company phone",
        "work phone",
        "phone 1",
        "corporate phone",
        "company phone number",
        "phone number combined",
        "telephone number",
        "landline",
        "direct phone",
        "location phone",
    ),
    "mobile": (
        "mobile",
        "mobile phone",
        "cell",
        "cell phone",
        "cellular",
        "mobile number",
        "direct mobile",
        "contact mobile",
        "mobile phone number",
        "owner mobile",
        "owner cell",
        "cell number",
        "wireless",
    ),
    "email": (
        "email",
        "e mail",
        "email address",
        "contact email",
        "business email",
        "owner email",
        "work email",
        "executive email",
        "primary email",
    ),
    "website": (
        "website",
        "web",
        "web address",
        "url",
        "site",
        "company website",
        "homepage",
        "domain",
        "website url",
        "web site",
    ),
    "sic_code": (
        "sic",
        "sic code",
        "primary sic",
        "primary sic code",
        "sic code 1",
        "sic 1",
        "sic4",
        "sic 6",
    ),
    "sic_description": (
        "sic description",
        "industry",
        "sic desc",
        "primary sic description",
        "category",
        "business type",
        "line of business",
        "industry description",
        "sic code description",
        "industry type",
    ),
    "naics_code": ("naics", "naics code", "primary naics", "primary naics code", "naics 1"),
    "naics_description": (
        "naics description",
        "naics desc",
        "primary naics description",
        "naics title",
    ),
    "employees": (
        "employees",
        "employee count",
        "number of employees",
        "employee size",
        "employees total",
        "employees number",
        "employee range",
        "employees on site",
        "company size",
        "staff",
        "headcount",
        "location employee size actual",
        "location employee size",
        "employee size range",
        "no of employees",
        "emp size",
        "employees range",
    ),
    "revenue": (
        "revenue",
        "annual revenue",
        "sales",
        "sales volume",
        "annual sales",
        "revenue range",
        "location sales volume actual",
        "location sales volume",
        "estimated revenue",
        "corporate sales",
        "sales volume range",
        "annual sales volume",
        "est revenue",
        "sales range",
    ),
}
_ALIAS_LOOKUP: dict[str, str] = {
    alias: field for field, aliases in ALIASES.items() for alias in aliases
}
# When no alias matches exactly: words inside a header that give its field away, in order.
_CONTAINS: tuple[tuple[str, str], ...] = (
    ("fax", IGNORE),
    ("email", "email"),
    ("mobile", "mobile"),
    ("cell", "mobile"),
    ("phone", "phone"),
    ("zip", "zip"),
    ("postal", "zip"),
    ("naics", "naics_code"),
    ("sic", "sic_code"),
    ("website", "website"),
    ("revenue", "revenue"),
    ("sales", "revenue"),
    ("employee", "employees"),
    ("company", "business_name"),
    ("business", "business_name"),
)


# Words that say a header is about the owner or contact person, and words that say it
# is about something else ("Last Contact Date" is no last name).
_PERSON_WORDS = frozenset(
    {"owner", "owners", "contact", "executive", "principal", "ceo", "president", "person",
     "primary", "key", "decision", "officer", "name", "proprietor"}
)  # fmt: skip
_NOT_A_NAME = frozenset(
    {"date", "updated", "modified", "time", "called", "contacted", "seen", "activity", "sale",
     "sales", "order", "visit", "year", "phone", "email", "mobile", "cell", "title"}
)  # fmt: skip
_FIRST = frozenset({"first", "fname", "firstname", "given"})
_LAST = frozenset({"last", "lname", "lastname", "surname"})


def _person_field(words: set[str]) -> str:
    """The owner-name field a header's words name (`Owner 1 First Name`), else ""."""
    if words & _NOT_A_NAME:
        return ""
    if words & _FIRST and words & (_PERSON_WORDS | {"firstname", "fname"}):
        return "first_name"
    if words & _LAST and words & (_PERSON_WORDS | {"lastname", "lname", "surname"}):
        return "last_name"
    if "name" in words and words & (_PERSON_WORDS - {"name", "primary", "key"}):
        return "contact_name"
    return ""


def header_words(header: str) -> str:
    """A header reduced to lower-case words: `Company_Name:` -> `company name`."""
    text = header.replace("#", " number ").lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def guess_field(header: str) -> str:
    """The target field a header most likely names, or CUSTOM when none fits."""
    words = header_words(header)
    if words in _ALIAS_LOOKUP:
        return _ALIAS_LOOKUP[words]
    person = _person_field(set(words.split()))
    if person:
        return person
    for word, field in _CONTAINS:
        if word in words.split() or (len(word) > 4 and word in words):
            return field
    return CUSTOM


def auto_map(headers: Sequence[str]) -> list[str]:
    """A field per column from the alias table; each field is given to one column only."""
    taken: set[str] = set()
    mapping: list[str] = []
    for header in headers:
        field = guess_field(header)
        if field in FIELDS and field in taken:
            field = CUSTOM
        taken.add(field)
        mapping.append(field)
    return mapping


def clean_mapping(mapping: Sequence[str], width: int) -> list[str]:
    """A mapping of exactly `width` known choices; unknown values keep the column as custom."""
    cleaned = [value if value in CHOICES else CUSTOM for value in list(mapping)[:width]]
    return cleaned + [CUSTOM] * (width - len(cleaned))


@dataclass(frozen=True)
class MappingCheck:
    """What is wrong with a mapping, in words; empty `errors` means it can run."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether the mapping can be used."""
        return not self.errors


def check_mapping(mapping: Sequence[str]) -> MappingCheck:
    """Whether the mapping can satisfy the rule: a business name, or an owner with a phone."""
    fields = [field for field in mapping if field in FIELDS]
    errors: list[str] = []
    warnings: list[str] = []
    duplicates = sorted({FIELDS[f] for f in fields if fields.count(f) > 1})
    if duplicates:
        errors.append("Each field can come from one column only: " + ", ".join(duplicates) + ".")
    has_owner = bool({"contact_name", "first_name", "last_name"} & set(fields))
    has_phone = bool({"phone", "mobile"} & set(fields))
    if "business_name" not in fields and not (has_owner and has_phone):
        errors.append(
            "Map a column to Business name, or map an owner name and a phone: "
            "every lead needs one or the other."
        )
    if not has_owner:
        warnings.append(
            "No owner-name column is mapped: every text will greet the owner with its "
            "fallback (“Hi there”). Map the owner's first and last name, or full name, "
            "if the file has them."
        )
    if not has_phone and "email" not in fields:
        warnings.append("No phone or email column is mapped: these leads cannot be contacted.")
    if "zip" not in fields:
        warnings.append("No ZIP column: duplicates are found by phone and email only.")
    return MappingCheck(tuple(errors), tuple(warnings))


def header_key(headers: Sequence[str]) -> str:
    """A digest of a header, so a preset is offered again for files laid out the same way."""
    joined = "\x1f".join(header_words(h) for h in headers)
    return hashlib.sha256(joined.encode()).hexdigest()


def preset_for_header(session: Session, team_id: int, headers: Sequence[str]):
    """The team's newest preset saved for exactly this header, if any."""
    return session.scalars(
        scoped(MappingPreset, team_id)
        .where(MappingPreset.header_key == header_key(headers))
        .order_by(MappingPreset.id.desc())
        .limit(1)
    ).first()


def apply_preset(preset: MappingPreset, headers: Sequence[str]) -> list[str]:
    """The preset's fields laid over `headers` by header name; unknown headers auto-mapped."""
    by_name = {header_words(name): field for name, field in preset.fields.items()}
    guessed = auto_map(headers)
    return clean_mapping(
        [by_name.get(header_words(h), guessed[i]) for i, h in enumerate(headers)], len(headers)
    )


def team_presets(session: Session, team_id: int) -> list[MappingPreset]:
    """A team's saved mappings by name."""
    return list(session.scalars(scoped(MappingPreset, team_id).order_by(MappingPreset.name)))


def save_preset(
    session: Session,
    team_id: int,
    name: str,
    headers: Sequence[str],
    mapping: Sequence[str],
    created_by_id: int | None = None,
) -> MappingPreset:
    """Save (or overwrite) a named mapping for this header."""
    name = " ".join(name.split())[:80]
    preset = session.scalars(
        scoped(MappingPreset, team_id).where(MappingPreset.name == name)
    ).first() or MappingPreset(team_id=team_id, name=name, created_by_id=created_by_id)
    preset.header_key = header_key(headers)
    preset.fields = {h: f for h, f in zip(headers, mapping, strict=False)}
    session.add(preset)
    session.flush()
    return preset


def find_preset(session: Session, team_id: int, name: str) -> MappingPreset | None:
    """A team's preset by name or id."""
    query = scoped(MappingPreset, team_id)
    if name.isdigit():
        return session.scalars(query.where(MappingPreset.id == int(name))).first()
    return session.scalars(query.where(MappingPreset.name == name)).first()
