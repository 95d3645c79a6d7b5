"""The registry of domains. A new domain is one module here plus one line below."""

from __future__ import annotations

from .base import (
    Attribute,
    Domain,
    IdentityRule,
    InvalidValue,
    RecordRejected,
    Sensitivity,
    ValidationResult,
)
from .customer import DOMAIN as CUSTOMER
from .material import DOMAIN as MATERIAL
from .supplier import DOMAIN as SUPPLIER

DOMAINS: dict[str, Domain] = {domain.name: domain for domain in (CUSTOMER, MATERIAL, SUPPLIER)}


class UnknownDomain(LookupError):
    pass


def get_domain(name: str) -> Domain:
    try:
        return DOMAINS[name]
    except KeyError:
        raise UnknownDomain(
            f"unknown domain '{name}' (choose one of: {', '.join(DOMAINS)})"
        ) from None


def domain_for_prefix(prefix: str) -> Domain | None:
    for domain in DOMAINS.values():
        if domain.id_prefix == prefix:
            return domain
    return None


def domain_choices() -> list[tuple[str, str]]:
    return [(domain.name, domain.label) for domain in DOMAINS.values()]


__all__ = [
    "DOMAINS",
    "Attribute",
    "Domain",
    "IdentityRule",
    "InvalidValue",
    "RecordRejected",
    "Sensitivity",
    "UnknownDomain",
    "ValidationResult",
    "domain_choices",
    "domain_for_prefix",
    "get_domain",
]
