"""Field permissions: who may read or write which attribute of which domain.

One function decides, :func:`access_for`. Everything that lets a value out of the
service (API serializers, filters and ordering, the change feed, exports, the admin,
error messages) asks it once and passes every value through the :class:`Access` it
returns; every write checks :meth:`Access.hidden_write` first.

Roles are Django groups. The service ships four (:data:`ROLES`, created by a
migration): ``data_steward``, ``finance``, ``integration`` and ``auditor``. Any other
group is a role as well, without default grants, that ``FieldPolicy`` rows can give
cells to.

Defaults come from each attribute's sensitivity class (:data:`DEFAULT_GRANTS`), plus
the few cells granted beyond them (:data:`EXTRA_GRANTS`):

=================  ==============  ==============  ==========================
role               public          internal        restricted
=================  ==============  ==============  ==========================
``data_steward``   read, write     read, write     read, write
``integration``    read, write     read, write     write only
``finance``        read            read            none (supplier bank: read)
``auditor``        read            read            none
no role            read            none            none
superuser          read, write     read, write     read, write
=================  ==============  ==============  ==========================

A ``golden.models.FieldPolicy`` row ``(role, domain, attribute, can_read, can_write)``
replaces that role's default for that one cell. A user with several roles gets the
union of their cells. Public attributes are read by every caller, with or without a
role, and no row takes that away: display names are built from them (a record's name
is shown wherever the record is named: lists, links, search, error messages).

Nothing is cached between calls: :func:`access_for` reads the user's groups (one
query) and the policy rows of those groups (one query) every time. Compute an
:class:`Access` once per request and reuse it; :func:`access_for_request` does that
on the request object.

Interface::

    from golden.policy import access_for

    access = access_for(request.user, "customer")
    access.readable, access.writable      # frozensets of attribute names
    access.can_read("national_id"), access.can_write("national_id")

    # Values out: drop what the caller may not read.
    access.redact(golden.values)          # also golden.lineage (keyed by attribute),
    access.redact(record.canonical)       # source canonical values and
    access.redact(record.raw_payload)     # raw payloads (keys are attribute names)
    access.redact_issues(record.quality_issues)   # issues carry the raw value
    access.redact_snapshot(entry.before)  # journal snapshots (their "values")
    access.redact_explanation(item.explanation)   # match explanations

    # Values in, filters and ordering: name the attributes the caller may not use.
    access.hidden_write(payload)          # -> ["bank_iban"]: answer 403 naming them
    access.hidden_read(["birth_date"])    # filter/order on these: refuse the same way

Answering a hidden attribute with an error that names it is safe (names are not
secret); answering with its value, a count of records holding it, an ordering by it
or an error message quoting it is not. Filters and ordering over attributes are
allowed only on :attr:`Access.readable` names. ``hidden_write`` lists every name the
caller may not write, names that are not attributes of the domain included (check
``Domain.unknown_attributes`` first to answer those with a 400 instead). Answers of
the write services quote values too: ``UpsertResult.quality_issues`` (pass them
through ``redact_issues``) and ``UpsertResult.value``, the rejected value of
``UpsertResult.attribute`` (show it only when ``can_read(result.attribute)``).
Display names are built from public attributes only, so they are shown as stored.
Data derived from several attributes counts as their values: match keys (they hold
identifiers, names with birth dates, ...) and ``SourceRecord.payload_hash`` (an
unsalted digest: a hidden birth date is found by hashing every date) are shown only
when :attr:`Access.reads_everything`.

Match explanations are lists of ``{"comparison", "level", "description", "weight"}``.
Their descriptions are the fixed texts of the comparison levels, written from the
attribute labels when the domain is declared ("same national ID", "different
IBAN"); none quotes a value, and neither do the identifier, steward and one-to-one
items the matching service adds. For a comparison over an attribute the caller may
not read, :meth:`Access.redact_explanation` keeps the comparison, level and weight
(the score must still add up) and puts the declared text of that level in place of
the stored description, so a stored text never carries more than the declaration
says. The level itself still tells whether two hidden values agree, as the clustering
of records does anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.contrib.auth.models import Group

from .domains import DOMAINS, Attribute, Domain, Sensitivity, get_domain
from .models import FieldPolicy

DATA_STEWARD = "data_steward"
FINANCE = "finance"
INTEGRATION = "integration"
AUDITOR = "auditor"

#: The roles the service ships (Django groups, created by a migration).
ROLES: tuple[str, ...] = (DATA_STEWARD, FINANCE, INTEGRATION, AUDITOR)


class Grant(NamedTuple):
    """One cell of the matrix: may the role read, may it write."""

    read: bool = False
    write: bool = False

    def __or__(self, other: Grant) -> Grant:
        return Grant(self.read or other.read, self.write or other.write)


NOTHING = Grant()
READ = Grant(read=True)
WRITE = Grant(write=True)
READ_WRITE = Grant(read=True, write=True)

_OPEN = {DATA_STEWARD: READ_WRITE, INTEGRATION: READ_WRITE, FINANCE: READ, AUDITOR: READ}

#: Sensitivity class → role → grant. A role not listed gets nothing.
DEFAULT_GRANTS: Mapping[Sensitivity, Mapping[str, Grant]] = {
    Sensitivity.PUBLIC: _OPEN,
    Sensitivity.INTERNAL: _OPEN,
    # A system registers its records with these values but never reads them back.
    Sensitivity.RESTRICTED: {DATA_STEWARD: READ_WRITE, INTEGRATION: WRITE},
}

#: Cells granted beyond the sensitivity defaults: (role, domain, attribute) → grant.
EXTRA_GRANTS: Mapping[tuple[str, str, str], Grant] = {
    (FINANCE, "supplier", "bank_iban"): READ,
    (FINANCE, "supplier", "bank_account_holder"): READ,
}

#: Read by every caller, with or without a role; no policy row takes it away.
READ_BY_EVERYONE: frozenset[Sensitivity] = frozenset({Sensitivity.PUBLIC})


@dataclass(frozen=True)
class Access:
    """What one caller may read and write in one domain. Compute once, reuse."""

    domain: str
    readable: frozenset[str]
    writable: frozenset[str]

    def can_read(self, name: str) -> bool:
        return name in self.readable

    def can_write(self, name: str) -> bool:
        return name in self.writable

    @property
    def reads_everything(self) -> bool:
        """Whether every attribute of the domain is readable (derived data such as
        match keys mixes several attributes and is shown only then)."""
        return self.readable >= frozenset(get_domain(self.domain).attribute_names)

    def redact(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """``values`` (attribute name → anything) without the unreadable keys: golden
        values and lineage, canonical values, raw payloads."""
        return {name: value for name, value in (values or {}).items() if name in self.readable}

    def redact_issues(self, issues: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
        """Data-quality issues without those of unreadable attributes (an issue holds
        the raw value it is about)."""
        return [dict(issue) for issue in issues or () if issue.get("attribute") in self.readable]

    def redact_snapshot(self, snapshot: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """A journal snapshot (``before``/``after``) with only readable values."""
        if snapshot is None:
            return None
        result = dict(snapshot)
        for part in ("values", "lineage"):
            if isinstance(result.get(part), Mapping):
                result[part] = self.redact(result[part])
        return result

    def redact_explanation(
        self, explanation: Iterable[Mapping[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """A match explanation in which comparisons over unreadable attributes keep
        their comparison, level and weight and show the declared text of the level."""
        domain = get_domain(self.domain)
        reads = _comparison_attributes(domain)
        texts = _level_texts(domain)
        result = []
        for item in explanation or ():
            item = dict(item)
            comparison = item.get("comparison")
            if not reads.get(comparison, frozenset()) <= self.readable:
                level = item.get("level")
                item["description"] = texts.get((comparison, level), str(level or ""))
            result.append(item)
        return result

    def hidden_read(self, names: Iterable[str]) -> list[str]:
        """The names in ``names`` the caller may not read (in order, once each)."""
        return _unique(name for name in names if name not in self.readable)

    def hidden_write(self, names: Iterable[str]) -> list[str]:
        """The names a write tried that the caller may not write (in order, once each);
        ``names`` may be the payload itself."""
        return _unique(name for name in names if name not in self.writable)


def access_for(user, domain: str) -> Access:
    """What ``user`` may read and write in ``domain`` (two queries)."""
    return _accesses(user, [get_domain(domain)])[domain]


def access_by_domain(user) -> dict[str, Access]:
    """:func:`access_for` of every domain, with the same two queries."""
    return _accesses(user, list(DOMAINS.values()))


def access_for_request(request, domain: str) -> Access:
    """:func:`access_for` of ``request.user``, computed once per request."""
    if request is None:
        return access_for(None, domain)
    user = getattr(request, "user", None)
    key = (getattr(user, "pk", None), getattr(user, "is_superuser", False))
    cached = getattr(request, "_field_access", None)
    if cached is None or cached[0] != key:
        cached = (key, access_by_domain(user))
        request._field_access = cached
    return cached[1][get_domain(domain).name]


def access_for_roles(roles: Iterable[str], domain: str, *, superuser: bool = False) -> Access:
    """What a member of exactly the groups named ``roles`` may do (two queries)."""
    declared = get_domain(domain)
    if superuser:
        return _everything(declared)
    groups = list(Group.objects.filter(name__in=list(roles)).values_list("pk", "name"))
    return _from_groups(groups, [declared])[domain]


def access_for_role_option(role: str | None, domain: str) -> Access | None:
    """For commands with ``--role ROLE``: what ``role`` may read in ``domain``, or
    None without the option (the operator sees everything). Raises ValueError naming
    the known roles when no such group exists."""
    if role is None:
        return None
    if not Group.objects.filter(name=role).exists():
        known = ", ".join(Group.objects.order_by("name").values_list("name", flat=True))
        raise ValueError(f"unknown role '{role}' (known: {known or 'none'})")
    return access_for_roles([role], domain)


def _accesses(user, domains: list[Domain]) -> dict[str, Access]:
    signed_in = getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)
    if not signed_in:
        return {domain.name: _compute(domain, [], {}) for domain in domains}
    if user.is_superuser:
        return {domain.name: _everything(domain) for domain in domains}
    groups = list(user.groups.values_list("pk", "name"))
    return _from_groups(groups, domains)


def _from_groups(groups: list[tuple[int, str]], domains: list[Domain]) -> dict[str, Access]:
    overrides: dict[tuple[str, str, str], Grant] = {}
    if groups:
        names = dict(groups)
        rows = FieldPolicy.objects.filter(
            role_id__in=list(names), domain__in=[domain.name for domain in domains]
        ).values_list("role_id", "domain", "attribute", "can_read", "can_write")
        for role_id, domain, attribute, can_read, can_write in rows:
            overrides[(names[role_id], domain, attribute)] = Grant(can_read, can_write)
    roles = sorted({name for _, name in groups})
    return {domain.name: _compute(domain, roles, overrides) for domain in domains}


def _compute(
    domain: Domain, roles: list[str], overrides: Mapping[tuple[str, str, str], Grant]
) -> Access:
    readable: set[str] = set()
    writable: set[str] = set()
    for attribute in domain.attributes:
        name = attribute.name
        grant = READ if attribute.sensitivity in READ_BY_EVERYONE else NOTHING
        for role in roles:
            cell = overrides.get((role, domain.name, name))
            if cell is None:
                cell = _default(role, domain.name, attribute)
            grant = grant | cell
        if grant.read:
            readable.add(name)
        if grant.write:
            writable.add(name)
    return Access(domain.name, frozenset(readable), frozenset(writable))


def default_grant(role: str, domain: str, attribute: str) -> Grant:
    """The cell of ``role`` for ``attribute`` of ``domain`` without policy rows."""
    return _default(role, domain, get_domain(domain).attribute(attribute))


def _default(role: str, domain: str, attribute: Attribute) -> Grant:
    grant = DEFAULT_GRANTS.get(attribute.sensitivity, {}).get(role, NOTHING)
    return grant | EXTRA_GRANTS.get((role, domain, attribute.name), NOTHING)


def _everything(domain: Domain) -> Access:
    names = frozenset(domain.attribute_names)
    return Access(domain.name, names, names)


def _comparison_attributes(domain: Domain) -> dict[str, frozenset[str]]:
    """Comparison name → the attributes it reads. An identifier item names its
    attribute; the steward and one-to-one items read none."""
    reads = {name: frozenset({name}) for name in domain.attribute_names}
    if domain.matching is not None:
        for comparison in domain.matching.comparisons:
            reads[comparison.name] = frozenset(comparison.attributes)
    return reads


def _level_texts(domain: Domain) -> dict[tuple[str, str], str]:
    texts: dict[tuple[str, str], str] = {}
    if domain.matching is not None:
        for comparison in domain.matching.comparisons:
            for level in comparison.levels:
                texts[(comparison.name, level.name)] = level.description
    return texts


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
