"""The vocabulary in which a domain (customer, material, supplier, ...) is declared.

A domain module builds one :class:`Domain` from :class:`Attribute` and
:class:`IdentityRule` values. Validation, storage, survivorship, matching keys, the
admin and the importers all read the declaration, so adding a domain means adding a
module (see ``golden/domains/__init__.py``).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from matching.engine.spec import MatchSpec

#: Separator of several values in one cell of a multi-valued attribute.
MULTI_VALUE_SEPARATOR = ";"
#: Longest text accepted for one value (after normalisation).
MAX_VALUE_LENGTH = 1000


class InvalidValue(ValueError):
    """A single value failed validation; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecordRejected(ValueError):
    """The whole record cannot be accepted (no key, no name, bad required value, ...)."""

    def __init__(self, reason: str, *, attribute: str = "", value: Any = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.attribute = attribute
        self.value = value


class Sensitivity(enum.StrEnum):
    """How carefully a value must be guarded; field permissions default from it."""

    PUBLIC = "public"
    INTERNAL = "internal"
    RESTRICTED = "restricted"


@dataclass(frozen=True)
class Context:
    """Facts about the record that canonicalisers of other attributes may need."""

    country: str | None = None


Canonicaliser = Callable[[str, Context], Any]

#: Survivorship rules understood by ``golden.survivorship``, in the order of a chain.
SURVIVORSHIP_RULES = (
    "source_priority",
    "most_recent",
    "most_complete",
    "most_frequent",
    "aggregate",
)


@dataclass(frozen=True)
class Attribute:
    name: str
    canonicalise: Canonicaliser
    label: str = ""
    required: bool = False
    multi_valued: bool = False
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    survivorship: tuple[str, ...] = ("source_priority", "most_recent", "most_frequent")

    def __post_init__(self) -> None:
        unknown = [rule for rule in self.survivorship if rule not in SURVIVORSHIP_RULES]
        if unknown:
            raise ValueError(f"{self.name}: unknown survivorship rule(s) {unknown}")
        if "aggregate" in self.survivorship and not self.multi_valued:
            raise ValueError(f"{self.name}: 'aggregate' needs a multi-valued attribute")

    @property
    def verbose_name(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class IdentityRule:
    """Equal canonical values of ``attribute`` mean the same real-world entity.

    A *strong* identifier is also a veto: two records carrying different values of it
    are never linked by another rule (two companies may share ``info@`` but never a
    tax ID).
    """

    attribute: str
    strong: bool = True
    #: Numbers that only mean something within a country (national IDs, tax numbers
    #: without a country prefix) are compared together with the record's country.
    scope_by_country: bool = False


@dataclass(frozen=True)
class ValidationResult:
    canonical: dict[str, Any]
    issues: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Domain:
    name: str
    label: str
    id_prefix: str
    attributes: tuple[Attribute, ...]
    #: At least one of these must hold a value, otherwise the record is rejected.
    name_attributes: tuple[str, ...]
    identity_rules: tuple[IdentityRule, ...] = ()
    #: Builds the human-readable name of a record from its canonical values.
    display_name: Callable[[Mapping[str, Any]], str] = lambda values: ""
    #: Fills attributes that can be derived from others (before validation).
    infer: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    #: Attributes that survive together from one source record, e.g. an address.
    survivorship_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Fuzzy matching: comparisons, blocking rules, default parameters, thresholds.
    matching: MatchSpec | None = None

    def __post_init__(self) -> None:
        names = [attribute.name for attribute in self.attributes]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.name}: duplicate attribute names")
        for name in (*self.name_attributes, *(rule.attribute for rule in self.identity_rules)):
            if name not in names:
                raise ValueError(f"{self.name}: '{name}' is not an attribute")
        for group, members in self.survivorship_groups.items():
            for name in members:
                if name not in names:
                    raise ValueError(f"{self.name}: group '{group}' names unknown '{name}'")
            chains = {self.attribute(name).survivorship for name in members}
            if len(chains) != 1:
                raise ValueError(f"{self.name}: group '{group}' mixes survivorship rules")
        if len(self.id_prefix) != 3 or not self.id_prefix.isalpha() or not self.id_prefix.isupper():
            raise ValueError(f"{self.name}: the ID prefix must be three capital letters")

    @cached_property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(attribute.name for attribute in self.attributes)

    @cached_property
    def _known_names(self) -> frozenset[str]:
        return frozenset(self.attribute_names)

    @cached_property
    def _validation_order(self) -> tuple[Attribute, ...]:
        # The country comes first: phone numbers and tax IDs are read in its light.
        return tuple(sorted(self.attributes, key=lambda attribute: attribute.name != "country"))

    def survivorship_group(self, name: str) -> tuple[str, tuple[str, ...]]:
        """The (name, attributes) of the survivorship group of ``name``, if any."""
        for group, members in self.survivorship_groups.items():
            if name in members:
                return group, members
        return "", ()

    def attribute(self, name: str) -> Attribute:
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        raise KeyError(f"{self.name} has no attribute '{name}'")

    def unknown_attributes(self, names: Iterable[str]) -> list[str]:
        known = self._known_names
        return [name for name in names if name not in known]

    def validate(self, raw: Mapping[str, Any]) -> ValidationResult:
        """Canonicalise ``raw`` (attribute name → value).

        Invalid optional values become data-quality issues and are left out of the
        canonical values; a record without any name, with an unknown attribute or with
        a missing or invalid required value raises :class:`RecordRejected`.
        """
        (result,) = self.validate_many([raw])
        if isinstance(result, RecordRejected):
            raise result
        return result

    def validate_many(
        self, raws: Sequence[Mapping[str, Any]]
    ) -> list[ValidationResult | RecordRejected]:
        """:meth:`validate` of each of ``raws``: its result, or the rejection it would
        raise. One attribute at a time over all the records (the country of every
        record first), which is about a quarter faster per record than one record at
        a time: each canonicaliser runs many times in a row."""
        outcomes: list[ValidationResult | RecordRejected | None] = [None] * len(raws)
        present: list[dict[str, Any] | None] = []
        for index, raw in enumerate(raws):
            try:
                present.append(self._present_values(raw))
            except RecordRejected as rejection:
                outcomes[index] = rejection
                present.append(None)
        canonicals: list[dict[str, Any]] = [{} for _ in raws]
        issues: list[list[dict[str, str]]] = [[] for _ in raws]
        contexts = [_NO_CONTEXT] * len(raws)
        for attribute in self._validation_order:
            name = attribute.name
            for index, values in enumerate(present):
                if values is None:
                    continue
                if name not in values:
                    if attribute.required:
                        outcomes[index] = RecordRejected(
                            f"required attribute '{name}' is missing", attribute=name
                        )
                        present[index] = None
                    continue
                value, attribute_issues = _canonicalise(attribute, values[name], contexts[index])
                if attribute.required and (attribute_issues or value is None):
                    reason = attribute_issues[0]["reason"] if attribute_issues else "empty"
                    outcomes[index] = RecordRejected(
                        f"required attribute '{name}' is invalid: {reason}",
                        attribute=name,
                        value=str(values[name]),
                    )
                    present[index] = None
                    continue
                if attribute_issues:
                    issues[index].extend(attribute_issues)
                if value is not None:
                    canonicals[index][name] = value
                    if name == "country":
                        contexts[index] = Context(country=value)
        names = self.name_attributes
        for index, values in enumerate(present):
            if values is None:
                continue
            canonical = canonicals[index]
            if not any(name in canonical for name in names):
                outcomes[index] = RecordRejected(
                    "no identifying attribute: the record needs at least one of " + ", ".join(names)
                )
                continue
            outcomes[index] = ValidationResult(
                canonical=dict(sorted(canonical.items())), issues=issues[index]
            )
        return outcomes  # type: ignore[return-value]

    def _present_values(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The non-blank values of ``raw``, with inferred ones added; raises
        :class:`RecordRejected` for an unknown attribute or a NUL character."""
        unknown = self.unknown_attributes(raw)
        if unknown:
            raise RecordRejected(
                f"unknown attribute(s) for {self.name}: {', '.join(sorted(unknown))}",
                attribute=sorted(unknown)[0],
            )
        values = {}
        for name, value in raw.items():
            if type(value) is str:  # nearly every value: the checks below, inline
                if not value or value.isspace():
                    continue
                text = value
            elif _is_blank(value):
                continue
            else:
                text = str(value)
            if "\x00" in text:  # no database stores it in text, no source means it
                raise RecordRejected(
                    f"'{name}' contains a NUL character", attribute=name, value=repr(value)[:80]
                )
            values[name] = value
        if self.infer is not None:
            values = self.infer(dict(values))
        return values


_NO_CONTEXT = Context()


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(_is_blank(item) for item in value)
    return False


def _canonicalise(
    attribute: Attribute, value: Any, context: Context
) -> tuple[Any, list[dict[str, str]]]:
    if type(value) is str and not attribute.multi_valued:
        return _canonicalise_text(attribute, value, context)
    if attribute.multi_valued:
        if isinstance(value, list | tuple):
            parts = [str(item) for item in value if not _is_blank(item)]
        else:
            parts = [part for part in str(value).split(MULTI_VALUE_SEPARATOR) if part.strip()]
    else:
        if isinstance(value, list | tuple | dict):
            return None, [_issue(attribute, value, "expected a single value, got a list")]
        parts = [_scalar_text(value)]

    results: list[Any] = []
    issues: list[dict[str, str]] = []
    for part in parts:
        result, part_issues = _canonicalise_text(attribute, str(part), context)
        issues.extend(part_issues)
        if result is not None and result not in results:
            results.append(result)
    if attribute.multi_valued:
        return (results or None), issues
    return (results[0] if results else None), issues


def _canonicalise_text(
    attribute: Attribute, part: str, context: Context
) -> tuple[Any, list[dict[str, str]]]:
    """One text value: whitespace collapsed, NFKC (which leaves ASCII as it is), then
    the attribute's canonicaliser. Returns (value or None, issues)."""
    text = " ".join((part if part.isascii() else unicodedata.normalize("NFKC", part)).split())
    if len(text) > MAX_VALUE_LENGTH:
        return None, [_issue(attribute, part, f"longer than {MAX_VALUE_LENGTH} characters")]
    try:
        result = attribute.canonicalise(text, context)
    except InvalidValue as error:
        return None, [_issue(attribute, part, error.reason)]
    return (None if result in (None, "") else result), []


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _issue(attribute: Attribute, value: Any, reason: str) -> dict[str, str]:
    shown = value if isinstance(value, str) else repr(value)
    return {"attribute": attribute.name, "value": shown[:200], "reason": reason}
