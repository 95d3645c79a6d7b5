"""Steward overrides: a value for one attribute that wins until it is removed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..domains import get_domain
from ..domains.base import Context, _canonicalise
from ..models import AttributeOverride, GoldenRecord
from ._clusters import apply_survivorship, live_members, lock_golden_records, overrides_of
from ._journal import Change
from .errors import OverrideError


def set_attribute_override(
    *,
    golden: GoldenRecord,
    attribute: str,
    value: Any,
    reason: str,
    acting_user=None,
    actor_label: str = "",
) -> GoldenRecord:
    """Make ``value`` the golden value of ``attribute`` whatever the sources say.

    The value is validated like a source value; an invalid value is refused.
    """
    domain = get_domain(golden.domain)
    try:
        spec = domain.attribute(attribute)
    except KeyError:
        raise OverrideError(f"{domain.name} has no attribute '{attribute}'") from None
    if not (reason or "").strip():
        raise OverrideError("an override needs a reason")
    country = golden.values.get("country") if attribute != "country" else None
    canonical, issues = _canonicalise(spec, value, Context(country=country))
    if issues:
        raise OverrideError(f"{attribute}: {issues[0]['reason']} ({issues[0]['value']!r})")
    if canonical is None:
        raise OverrideError(f"{attribute}: an override needs a value (remove it instead)")
    return _change_override(
        golden, attribute, canonical, reason.strip(), acting_user, actor_label, remove=False
    )


def remove_attribute_override(
    *,
    golden: GoldenRecord,
    attribute: str,
    reason: str = "",
    acting_user=None,
    actor_label: str = "",
) -> GoldenRecord:
    """Hand ``attribute`` back to survivorship."""
    if not AttributeOverride.objects.filter(golden_record=golden, attribute=attribute).exists():
        raise OverrideError(f"{golden.global_id} has no override of '{attribute}'")
    return _change_override(golden, attribute, None, reason, acting_user, actor_label, remove=True)


def _change_override(golden, attribute, value, reason, acting_user, actor_label, *, remove):
    with transaction.atomic():
        golden = lock_golden_records([golden.pk])[golden.pk]
        if not golden.is_active:
            raise OverrideError(f"{golden.global_id} is retired")
        members = live_members([golden.pk]).get(golden.pk, [])
        change = Change(
            action="override", acting_user=acting_user, actor_label=actor_label, reason=reason
        )
        change.remember(golden, members)
        if remove:
            AttributeOverride.objects.filter(golden_record=golden, attribute=attribute).delete()
        else:
            AttributeOverride.objects.update_or_create(
                golden_record=golden,
                attribute=attribute,
                defaults={
                    "value": value,
                    "reason": reason,
                    "created_by": acting_user if getattr(acting_user, "pk", None) else None,
                },
            )
        apply_survivorship(golden, members, overrides_of([golden.pk]).get(golden.pk))
        change.finish({golden.pk: (golden, members)})
    return golden
