"""Mapping profiles: how the columns of a source file become a domain's attributes.

A profile names the file column (or columns) of the source key and, per attribute,
where its value comes from and how it is transformed::

    name: erp-kunden
    key: Kundennr
    attributes:
      first_name: Vorname
      last_name: {column: Nachname}
      birth_date: {column: Geb.datum, date_format: "%d.%m.%Y"}
      country: {column: Land, map: {Deutschland: DE, Österreich: AT}, ignore_case: true}
      kind: {constant: person}

Every value rule has exactly one source (``column``, ``concat``, ``split`` or
``constant``) and then, in this order, ``trim`` (on unless ``trim: false``), ``map``
(with ``default`` and ``ignore_case``), ``upper`` or ``lower``, and ``date_format``.
Columns the profile does not mention are ignored. The full format is in
``docs/mapping.md``.

:func:`parse_mapping` validates a profile against a domain and compiles it to a
:class:`MappingSpec`; a profile that is wrong raises :class:`MappingError` with one
line naming the attribute and the problem. :meth:`MappingSpec.apply` turns one row
into the source key and the payload. It is pure Python without database access (it
runs in the import's helper process). A value a transform cannot handle (a date not
in the format) is passed on as it was for an optional attribute, so that the
domain's validation records it as a data-quality issue; for a required attribute
or the key it rejects the row with :class:`MappingRowError`.

:func:`resolve_mapping`, :func:`read_mapping_file` and :func:`store_mapping` load
profiles from files and keep them per source system and domain in
:class:`golden.models.MappingProfile`, reusable by name.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..domains import Domain
from ..domains.base import Context, InvalidValue

#: Keys of a profile.
PROFILE_KEYS = ("name", "description", "domain", "key", "attributes")
#: Where a value comes from: exactly one of these per rule.
SOURCES = ("column", "concat", "split", "constant")
#: Every key of a value rule.
RULE_KEYS = (
    *SOURCES,
    "separator",
    "index",
    "maxsplit",
    "trim",
    "map",
    "default",
    "ignore_case",
    "upper",
    "lower",
    "date_format",
)
#: The keys a rule for the source key may use.
KEY_RULE_KEYS = (
    "column",
    "concat",
    "split",
    "separator",
    "index",
    "maxsplit",
    "trim",
    "upper",
    "lower",
)
#: File suffixes read as profiles by :func:`resolve_mapping`.
PROFILE_SUFFIXES = (".yaml", ".yml", ".json")
MAX_NAME_LENGTH = 100
#: Longest value quoted in a row error.
MAX_SHOWN = 200


class MappingError(ValueError):
    """The profile cannot be used; the message is one line and names the problem."""


class MappingRowError(ValueError):
    """One row cannot be mapped: ``column``, ``value`` and ``reason`` for the errors file."""

    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.value = value
        self.reason = reason


class _Unusable(Exception):
    """A transform cannot handle a value; ``value`` is what it was given."""

    def __init__(self, column: str, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = value
        self.reason = reason


@dataclass(frozen=True)
class ValueRule:
    """How one value (an attribute or the key) is made from a row."""

    source: str  # one of SOURCES
    columns: tuple[str, ...] = ()
    separator: str | None = None  # concat: between parts (" "); split: None splits on whitespace
    index: int = 0
    maxsplit: int = -1  # split: at most this many splits (-1: no limit)
    constant: str = ""
    trim: bool = True
    #: The value map as written (for to_json) and as looked up (folded keys with ignore_case).
    table: tuple[tuple[str, str], ...] | None = None
    lookup: Mapping[str, str] | None = field(default=None, compare=False, repr=False)
    has_default: bool = False
    default: str = ""
    ignore_case: bool = False
    case: str = ""  # "upper", "lower" or ""
    date_formats: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The source column(s), as named in row errors."""
        return "+".join(self.columns)

    def value(self, row: Mapping[str, Any]) -> str:
        """The value for ``row``; raises _Unusable when a transform cannot handle it."""
        if self.source == "constant":
            return self.constant
        text = self._extract(row)
        if self.lookup is not None:
            text = self._mapped(text)
        if self.case == "upper":
            text = text.upper()
        elif self.case == "lower":
            text = text.lower()
        if self.date_formats and text:
            text = self._date(text)
        return text

    def _extract(self, row: Mapping[str, Any]) -> str:
        if self.source == "column":
            return self._cell(row, self.columns[0])
        if self.source == "concat":
            parts = [self._cell(row, column) for column in self.columns]
            return (self.separator or "").join(part for part in parts if part)
        whole = _text(row.get(self.columns[0]), self.columns[0])
        parts = whole.split(self.separator, self.maxsplit)
        try:
            part = parts[self.index]
        except IndexError:
            return ""
        return part.strip() if self.trim else part

    def _cell(self, row: Mapping[str, Any], column: str) -> str:
        text = _text(row.get(column), column)
        return text.strip() if self.trim else text

    def _mapped(self, text: str) -> str:
        assert self.lookup is not None
        probe = text.casefold() if self.ignore_case else text
        if probe in self.lookup:
            return self.lookup[probe]
        if self.has_default and text:
            return self.default
        return text  # not in the map: passed on unchanged for validation to judge

    def _date(self, text: str) -> str:
        for pattern in self.date_formats:
            try:
                return dt.datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        if _is_iso_date(text):  # as date cells of a workbook are read
            return text
        formats = " or ".join(self.date_formats)
        raise _Unusable(self.label, text, f"not a date in the format {formats}")

    def to_json(self) -> str | dict[str, Any]:
        if self.source == "constant":
            return {"constant": self.constant}
        plain = (
            self.source == "column"
            and self.trim
            and self.table is None
            and not self.case
            and not self.date_formats
        )
        if plain:
            return self.columns[0]
        data: dict[str, Any] = {}
        if self.source == "column":
            data["column"] = self.columns[0]
        elif self.source == "concat":
            data["concat"] = list(self.columns)
            if self.separator != " ":
                data["separator"] = self.separator
        else:
            data["split"] = self.columns[0]
            if self.separator is not None:
                data["separator"] = self.separator
            data["index"] = self.index
            if self.maxsplit >= 0:
                data["maxsplit"] = self.maxsplit
        if not self.trim:
            data["trim"] = False
        if self.table is not None:
            data["map"] = dict(self.table)
            if self.has_default:
                data["default"] = self.default
            if self.ignore_case:
                data["ignore_case"] = True
        if self.case:
            data[self.case] = True
        if self.date_formats:
            formats = self.date_formats
            data["date_format"] = formats[0] if len(formats) == 1 else list(formats)
        return data


def _is_iso_date(text: str) -> bool:
    if len(text) != 10:
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class MappingSpec:
    """A validated profile for one domain; see the module docstring."""

    domain_name: str
    key: ValueRule
    attributes: tuple[tuple[str, ValueRule], ...]
    #: Attributes the domain requires: a value their transforms cannot handle rejects the row.
    required: frozenset[str] = frozenset()
    name: str = field(default="", compare=False)
    description: str = field(default="", compare=False)
    #: The file the profile was read from, if any.
    origin: str = field(default="", compare=False)

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The file columns the profile reads, the key's first."""
        columns: dict[str, None] = dict.fromkeys(self.key.columns)
        for _, rule in self.attributes:
            columns.update(dict.fromkeys(rule.columns))
        return tuple(columns)

    @property
    def key_column(self) -> str:
        """The (first) source column of the key: it marks the header row of a sheet and
        names the column of a missing key in the errors file."""
        return self.key.columns[0]

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.attributes)

    def apply(self, row: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """(source key, payload of attribute → value) for one row of source column →
        cell. Raises MappingRowError for a key or required attribute that cannot be
        made; an optional value a transform cannot handle is passed on as it was."""
        try:
            key = self.key.value(row)
            if len(self.key.columns) > 1 and not all(
                _text(row.get(column), column).strip() for column in self.key.columns
            ):
                key = ""  # a key made of columns needs every one of them
        except _Unusable as unusable:
            raise MappingRowError(
                unusable.column, _shown(unusable.value), f"source key: {unusable.reason}"
            ) from None
        payload: dict[str, Any] = {}
        for name, rule in self.attributes:
            try:
                payload[name] = rule.value(row)
            except _Unusable as unusable:
                if name in self.required:
                    raise MappingRowError(
                        unusable.column, _shown(unusable.value), f"{name}: {unusable.reason}"
                    ) from None
                payload[name] = unusable.value
        return key, payload

    def to_json(self) -> dict[str, Any]:
        """The profile as a plain dict (key and attributes), as stored in the database."""
        return {
            "key": self.key.to_json(),
            "attributes": {name: rule.to_json() for name, rule in self.attributes},
        }

    @classmethod
    def from_json(
        cls, data: Any, domain: Domain, *, name: str = "", description: str = ""
    ) -> MappingSpec:
        """Validate and compile ``data`` (a stored spec or a whole profile)."""
        return parse_mapping(data, domain, name=name, description=description)


def parse_mapping(
    data: Any, domain: Domain, *, name: str = "", description: str = "", origin: str = ""
) -> MappingSpec:
    """Validate a profile (as loaded from YAML or JSON) against ``domain`` and compile it.

    ``name`` and ``description`` apply when the profile itself gives none. Raises
    MappingError with one line naming what is wrong.
    """
    if not isinstance(data, dict):
        raise MappingError(
            f"a mapping profile is a mapping with 'key' and 'attributes', not {_kind(data)}"
        )
    for top in data:
        if top not in PROFILE_KEYS:
            raise MappingError(f"unknown key {_quoted(top)}{_known(top, PROFILE_KEYS)}")
    declared = data.get("domain")
    if declared is not None and declared != domain.name:
        raise MappingError(f"the profile is for domain {_quoted(declared)}, not '{domain.name}'")
    name = _name(data.get("name", name) or name)
    description = data.get("description", description) or ""
    if not isinstance(description, str):
        raise MappingError("'description' must be text")
    if "key" not in data:
        raise MappingError("missing 'key': the column (or concat of columns) of the source key")
    key = _rule(data["key"], "key", KEY_RULE_KEYS)
    attributes = data.get("attributes")
    if not isinstance(attributes, dict) or not attributes:
        raise MappingError(
            "'attributes' must map attribute names to columns or rules, e.g. "
            "{first_name: Vorname}" + ("" if attributes is None else f"; got {_kind(attributes)}")
        )
    known = domain.attribute_names
    rules: list[tuple[str, ValueRule]] = []
    for attribute, spec in attributes.items():
        if attribute not in known:
            raise MappingError(
                f"attribute {_quoted(attribute)}: not a {domain.name} attribute"
                f"{_known(attribute, known)}"
            )
        where = f"attribute '{attribute}'"
        rule = _rule(spec, where, RULE_KEYS)
        if rule.source == "constant":
            _check_constant(domain, attribute, rule.constant, where)
        rules.append((attribute, rule))
    rules.sort(key=lambda item: known.index(item[0]))  # the domain's order, not the file's
    required = frozenset(a.name for a in domain.attributes if a.required and a.name in attributes)
    return MappingSpec(
        domain_name=domain.name,
        key=key,
        attributes=tuple(rules),
        required=required,
        name=name,
        description=description.strip(),
        origin=origin,
    )


def _rule(spec: Any, where: str, allowed: tuple[str, ...]) -> ValueRule:
    if isinstance(spec, str):
        return ValueRule("column", (_column(spec, where, "column"),))
    if not isinstance(spec, dict):
        raise MappingError(
            f"{where}: expected a column name or a rule such as {{column: ...}}, got {_kind(spec)}"
        )
    for key in spec:
        if key not in RULE_KEYS:
            raise MappingError(f"{where}: unknown key {_quoted(key)}{_known(key, RULE_KEYS)}")
        if key not in allowed:
            raise MappingError(
                f"{where}: '{key}' is not allowed here (allowed: {', '.join(allowed)})"
            )
    sources = [key for key in SOURCES if key in spec]
    if not sources:
        if "map" in spec:
            raise MappingError(f"{where}: 'map' needs a column, concat or split to map from")
        raise MappingError(f"{where}: needs one of {', '.join(k for k in SOURCES if k in allowed)}")
    if len(sources) > 1:
        raise MappingError(f"{where}: has both '{sources[0]}' and '{sources[1]}'; give one")
    source = sources[0]
    if source == "constant":
        others = [key for key in spec if key != "constant"]
        if others:
            raise MappingError(
                f"{where}: a constant takes no other keys (found: {', '.join(others)})"
            )
        return ValueRule("constant", constant=_scalar(spec["constant"], where, "constant"))

    if source == "column":
        columns: tuple[str, ...] = (_column(spec["column"], where, "column"),)
    elif source == "split":
        columns = (_column(spec["split"], where, "split"),)
    else:
        parts = spec["concat"]
        if not isinstance(parts, list) or not parts:
            raise MappingError(f"{where}: 'concat' must be a list of columns, e.g. [Vorname, Name]")
        columns = tuple(_column(part, where, "concat") for part in parts)
    separator = " " if source == "concat" else None
    if "separator" in spec:
        if source == "column":
            raise MappingError(f"{where}: 'separator' goes with concat or split, not column")
        separator = spec["separator"]
        if not isinstance(separator, str) or (source == "split" and not separator):
            raise MappingError(f"{where}: 'separator' must be {_text_kind(source)}")
    for option in ("index", "maxsplit"):
        if option in spec and source != "split":
            raise MappingError(f"{where}: '{option}' goes with split")
    index = spec.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise MappingError(
            f"{where}: 'index' must be a whole number (0 is the first part, -1 the last)"
        )
    maxsplit = spec.get("maxsplit", -1)
    if "maxsplit" in spec and (
        not isinstance(maxsplit, int) or isinstance(maxsplit, bool) or maxsplit < 1
    ):
        raise MappingError(f"{where}: 'maxsplit' must be a whole number of at least 1")
    trim = _flag(spec, "trim", where, default=True)
    upper = _flag(spec, "upper", where)
    lower = _flag(spec, "lower", where)
    if upper and lower:
        raise MappingError(f"{where}: 'upper' and 'lower' exclude each other")
    table, lookup, has_default, default, ignore_case = _value_map(spec, where)
    return ValueRule(
        source,
        columns,
        separator=separator,
        index=index,
        maxsplit=maxsplit,
        trim=trim,
        table=table,
        lookup=lookup,
        has_default=has_default,
        default=default,
        ignore_case=ignore_case,
        case="upper" if upper else "lower" if lower else "",
        date_formats=_date_formats(spec.get("date_format"), where),
    )


def _value_map(spec: dict, where: str):
    for option in ("default", "ignore_case"):
        if option in spec and "map" not in spec:
            raise MappingError(f"{where}: '{option}' goes with 'map'")
    if "map" not in spec:
        return None, None, False, "", False
    table = spec["map"]
    if not isinstance(table, dict) or not table:
        raise MappingError(f"{where}: 'map' must map source values to values, e.g. {{M: male}}")
    ignore_case = _flag(spec, "ignore_case", where)
    entries: list[tuple[str, str]] = []
    lookup: dict[str, str] = {}
    for raw, target in table.items():
        if isinstance(raw, bool) or raw is None:
            raise MappingError(
                f"{where}: map key {raw!r} is not text; quote it (YAML reads "
                "yes, no, on, off, true, false and ~ as other types)"
            )
        if not isinstance(raw, str | int | float):
            raise MappingError(f"{where}: map key {raw!r} must be text")
        text = _scalar_text(raw)
        value = _scalar(target, where, f"map value of {text!r}", allow_null=True)
        probe = text.casefold() if ignore_case else text
        if probe in lookup:
            raise MappingError(f"{where}: map key {text!r} is given twice (ignore_case is on)")
        lookup[probe] = value
        entries.append((text, value))
    has_default = "default" in spec
    default = _scalar(spec["default"], where, "default", allow_null=True) if has_default else ""
    # Sorted: a profile read back from the database (PostgreSQL's jsonb keeps no key
    # order) is the same profile.
    return tuple(sorted(entries)), lookup, has_default, default, ignore_case


def _date_formats(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    patterns = value if isinstance(value, list) else [value]
    if not patterns:
        raise MappingError(f"{where}: 'date_format' must be a format such as '%d.%m.%Y'")
    sample = dt.date(2001, 2, 3)
    for pattern in patterns:
        if not isinstance(pattern, str) or "%" not in pattern:
            raise MappingError(
                f"{where}: date_format {pattern!r} is not a format such as '%d.%m.%Y'"
            )
        try:
            parsed = dt.datetime.strptime(sample.strftime(pattern), pattern).date()
        except ValueError as error:
            raise MappingError(f"{where}: date_format {pattern!r}: {error}") from None
        if parsed != sample:
            raise MappingError(
                f"{where}: date_format {pattern!r} must hold day, month and year (e.g. %d.%m.%Y)"
            )
    return tuple(patterns)


def _check_constant(domain: Domain, attribute: str, constant: str, where: str) -> None:
    try:
        domain.attribute(attribute).canonicalise(constant, Context())
    except InvalidValue as error:
        raise MappingError(
            f"{where}: constant {constant!r} is not a valid value: {error.reason}"
        ) from None


def _column(value: Any, where: str, key: str) -> str:
    from .files import REPORT_COLUMNS

    if isinstance(value, int | float) and not isinstance(value, bool):
        value = _scalar_text(value)
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{where}: '{key}' must name a column, got {_kind(value)}")
    column = value.strip()
    if column.lower() in REPORT_COLUMNS:
        raise MappingError(f"{where}: column '{column}' is reserved for errors files")
    return column


def _flag(spec: dict, key: str, where: str, *, default: bool = False) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise MappingError(f"{where}: '{key}' must be true or false, not {value!r}")
    return value


def _scalar(value: Any, where: str, what: str, *, allow_null: bool = False) -> str:
    if value is None and allow_null:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(f"{where}: {what} must be text or a number, not {_kind(value)}")
    return _scalar_text(value)


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise MappingError(f"'name' must be text, not {_kind(value)}")
    name = value.strip()
    if len(name) > MAX_NAME_LENGTH or "\n" in name:
        raise MappingError(f"'name' must be one line of at most {MAX_NAME_LENGTH} characters")
    return name


def _text(value: Any, column: str) -> str:
    """A cell as text; a JSON list or object cannot be transformed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return _scalar_text(value)
    raise _Unusable(column, value, f"expected text or a number, got {_kind(value)}")


def _scalar_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:MAX_SHOWN]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{value!r}".lower()
    return repr(value)


def _quoted(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _text_kind(source: str) -> str:
    return "non-empty text" if source == "split" else "text"


def _known(word: Any, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(word), known, n=1) if isinstance(word, str) else []
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{hint} (known: {', '.join(known)})"


# --- profiles in files and in the database -------------------------------------------


def read_mapping_file(path: str | os.PathLike, domain: Domain) -> MappingSpec:
    """Load and validate a profile file (.yaml, .yml or .json). Its name is the
    profile's ``name:``, else the file name without suffix."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise MappingError(f"{path}: cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path}: not UTF-8 text") from None
    data = _load_text(text, json_only=path.suffix.lower() == ".json", where=str(path))
    try:
        return parse_mapping(data, domain, name=path.stem, origin=str(path))
    except MappingError as error:
        raise MappingError(f"{path}: {error}") from None


def load_profile_text(text: str, *, where: str = "") -> Any:
    """Parse profile text written as YAML or JSON."""
    return _load_text(text, json_only=False, where=where)


def _load_text(text: str, *, json_only: bool, where: str) -> Any:
    prefix = f"{where}: " if where else ""
    if not text.strip():
        raise MappingError(f"{prefix}the profile is empty")
    if json_only or text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_unique_pairs)
        except _DuplicateKey as error:
            raise MappingError(f"{prefix}not valid JSON ({error})") from None
        except json.JSONDecodeError as error:
            if json_only:
                raise MappingError(
                    f"{prefix}not valid JSON "
                    f"(line {error.lineno}, column {error.colno}: {error.msg})"
                ) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise MappingError(f"{prefix}not valid YAML ({at}{' '.join(problem.split())})") from None


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"key {key!r} is given twice")
        result[key] = value
    return result


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load's loader, refusing a key given twice in one mapping (YAML itself
    would keep the last one silently, dropping an attribute's first rule)."""

    def construct_mapping(self, node, deep=False):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def store_mapping(mapping: MappingSpec, *, system) -> None:
    """Store ``mapping`` for ``system`` and its domain under its name, replacing the
    profile of that name (its description only when the profile gives one)."""
    from ..models import MappingProfile

    defaults: dict[str, Any] = {"spec": mapping.to_json()}
    if mapping.description:
        defaults["description"] = mapping.description
    MappingProfile.objects.update_or_create(
        system=system, domain=mapping.domain_name, name=mapping.name, defaults=defaults
    )


def resolve_mapping(value: str, *, system, domain: Domain, store: bool = True) -> MappingSpec:
    """The profile ``value`` names: a .yaml, .yml or .json file (validated and, with
    ``store``, kept for ``system`` and ``domain`` under its name), else the name of a
    profile stored for them. Raises MappingError."""
    path = Path(value)
    if path.suffix.lower() in PROFILE_SUFFIXES and path.is_file():
        mapping = read_mapping_file(path, domain)
        if store:
            store_mapping(mapping, system=system)
        return mapping
    from ..models import MappingProfile

    if system is None or system.pk is None:
        profiles = MappingProfile.objects.none()
    else:
        profiles = MappingProfile.objects.filter(system=system, domain=domain.name)
    found = profiles.filter(name=value.strip()).first()
    if found is None:
        matches = list(profiles.filter(name__iexact=value.strip())[:2])
        found = matches[0] if len(matches) == 1 else None
    if found is None:
        names = list(profiles.values_list("name", flat=True))
        code = system.code if system is not None else "the system"
        listed = f"profiles: {', '.join(names)}" if names else "it has none"
        if path.suffix.lower() in PROFILE_SUFFIXES or os.sep in value:
            raise MappingError(
                f"{value}: no such mapping file, and no stored profile of that name for "
                f"{code} {domain.name} ({listed})"
            )
        raise MappingError(
            f"no mapping profile '{value}' for {code} {domain.name} ({listed}); "
            "pass a .yaml, .yml or .json file to store one"
        )
    try:
        return MappingSpec.from_json(
            found.spec, domain, name=found.name, description=found.description
        )
    except MappingError as error:
        raise MappingError(f"stored mapping profile '{found}': {error}") from None
