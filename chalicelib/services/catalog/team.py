"""Team notification rules as staff set them (the sending is in :mod:`~chalicelib.services.orders.mails`)."""
from __future__ import annotations

from chalicelib.errors import FieldError, InvalidInput
from chalicelib.models.catalog import Tariff
from chalicelib.models.team import TeamNotificationRule
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.records import create_record, get_record, list_records, require_reference, update_record


def _as_attributes(fields: dict) -> dict:
    values = dict(fields)
    if "addresses" in values:
        values["addresses"] = set(values["addresses"])
    if "tariff_ids" in values:
        values["tariff_ids"] = set(values["tariff_ids"]) or None
    return values


def _rules(actor: Actor, rule: TeamNotificationRule, before: dict | None) -> None:
    for tariff_id in sorted(rule.tariff_ids or ()):
        require_reference(actor, Tariff, tariff_id, "tariff_ids")
    if not rule.all_tariffs and not rule.tariff_ids:
        raise InvalidInput("A rule watches some ticket types, or all.",
                           errors=[FieldError("tariff_ids", "name ticket types, or set all_tariffs")])


def create_rule(actor: Actor, fields: dict) -> TeamNotificationRule:
    return create_record(actor, TeamNotificationRule, _as_attributes(fields), rules=_rules)


def update_rule(actor: Actor, rule_id: str, changes: dict) -> TeamNotificationRule:
    return update_record(actor, TeamNotificationRule, rule_id, _as_attributes(changes), rules=_rules)


def get_rule(actor: Actor, rule_id: str) -> TeamNotificationRule:
    return get_record(actor, TeamNotificationRule, rule_id)


def list_rules(actor: Actor, *, limit: int, cursor: str | None):
    return list_records(actor, TeamNotificationRule, limit=limit, cursor=cursor)
