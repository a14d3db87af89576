"""The delivery diagnosis of a campaign: are the silent customers isolated cases, or is a mail
provider dropping our mails? (DOMAIN §1; the statistics are in
:mod:`chalicelib.services.campaigns.delivery_statistics`.)

It reads the campaign's customers once (its partition) and, for each, what became of its
last notice (notifications read by key, a hundred at a time), then tallies:

- per state, and overall: notified, delivered, bounced, complained, read, chose, silent;
- per recipient domain: sent, delivered, bounced, read, chose, reaction rate, with the
  domain's exact test against the rest of the campaign and its Wilson interval;

and gives the verdict with the suggested action. A customer *reacted* when they opened their
page or made a choice; customers never notified are left out of every rate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.adapters import clock
from chalicelib.models.campaigns import CUSTOMER_STATES, AffectedCustomer
from chalicelib.models.mail import Notification
from chalicelib.services.campaigns import delivery_statistics as statistics
from chalicelib.services.campaigns.campaigns import get_campaign
from chalicelib.services.shared.actors import Actor

REACTED = ("mail_read", "made_choices")
BOUNCED = ("bounced_transient", "bounced_permanent", "failed", "rejected", "suppressed")
BATCH = 100


@dataclass
class DomainRow:
    domain: str
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    complained: int = 0
    read: int = 0
    chose: int = 0

    @property
    def reacted(self) -> int:
        return self.read + self.chose

    @property
    def reaction_rate(self) -> float:
        return self.reacted / self.sent if self.sent else 0.0


@dataclass
class Diagnosis:
    campaign_id: str
    days_since_notification: float | None
    counts: dict[str, int]
    totals: dict[str, int]
    reaction_rate: float
    domains: list[dict] = field(default_factory=list)
    verdict: dict = field(default_factory=dict)
    method: str = ""


METHOD = (
    "A customer reacted if they opened their refund page (not a link scanner) or made a choice; customers not "
    "notified yet are left out. For each recipient domain, the exact binomial test asks how likely so few "
    "reactions would be if that domain behaved like all the other domains together (one-sided: only a low rate "
    "is suspicious). Testing many domains at once makes a low p-value likely somewhere by chance, so the p-values "
    "are adjusted (Benjamini-Hochberg; q-value) and a domain is suspected when q < 1% and its 95% Wilson interval "
    "lies well below the others' rate. Domains too small to ever reach that level are shown but not tested. Some "
    "customers never react on purpose (they leave the amount to the organiser), which is why the rate is compared "
    "with the rest of this campaign and not with 100%.")


def _notices(tenant_id: str, customers: list[AffectedCustomer]) -> dict[str, Notification]:
    found: dict[str, Notification] = {}
    keys = [(tenant_id, customer.notification_id) for customer in customers if customer.notification_id]
    for start in range(0, len(keys), BATCH):
        found.update({notice.id: notice for notice in Notification.batch_get(keys[start:start + BATCH])})
    return found


def _tally(customers: list[AffectedCustomer], notices: dict[str, Notification]) -> dict[str, DomainRow]:
    rows: dict[str, DomainRow] = {}
    for customer in customers:
        tried = customer.state != "not_notified" or customer.notification_id  # a suppressed notice counts
        if not tried or not customer.email_domain:
            continue
        row = rows.setdefault(customer.email_domain, DomainRow(customer.email_domain))
        row.sent += 1
        notice = notices.get(customer.notification_id or "")
        status = notice.status if notice else "sent"
        row.delivered += status in ("delivered", "complained")  # a complaint comes from a delivered mail
        row.bounced += status in BOUNCED
        row.complained += status == "complained"
        row.read += customer.state == "mail_read"
        row.chose += customer.state == "made_choices"
    return rows


def diagnose(actor: Actor, campaign_id: str, *, override: bool = False) -> Diagnosis:
    get_campaign(actor, campaign_id)
    customers = list(AffectedCustomer.query(AffectedCustomer.key_of(actor.tenant_id, campaign_id)))
    counts = dict.fromkeys(CUSTOMER_STATES, 0)
    for customer in customers:
        counts[customer.state] += 1
    rows = _tally(customers, _notices(actor.tenant_id, customers))
    sent = sum(row.sent for row in rows.values())
    reacted = sum(row.reacted for row in rows.values())
    first_notice = min((c.notified_at for c in customers if c.notified_at), default=None)
    days = (clock.now() - first_notice).total_seconds() / 86_400 if first_notice else None
    totals = {"notified": sent, "reacted": reacted, "silent": sent - reacted,
              "delivered": sum(r.delivered for r in rows.values()), "bounced": sum(r.bounced for r in rows.values()),
              "complained": sum(r.complained for r in rows.values())}
    result = Diagnosis(campaign_id=campaign_id, days_since_notification=round(days, 2) if days is not None else None,
                       counts=counts, totals=totals, reaction_rate=reacted / sent if sent else 0.0, method=METHOD)
    if not sent:
        result.verdict = {"outcome": "too_early", "action": "Notify the customers first.",
                          "explanation": "No customer of this campaign was notified yet."}
        return result
    tests = statistics.domain_tests({domain: statistics.DomainCounts(row.sent, row.reacted)
                                     for domain, row in rows.items()})
    by_domain = {test.domain: test for test in tests}
    result.domains = [{**vars(rows[test.domain]), "reacted": rows[test.domain].reacted,
                       "reaction_rate": rows[test.domain].reaction_rate, "test": by_domain[test.domain].as_dict()}
                      for test in tests]
    verdict = statistics.verdict(days or 0.0, statistics.CampaignTotals(
        recipients=sent, reacted=reacted, bounced=totals["bounced"], complained=totals["complained"]), tests,
        override=override)
    result.verdict = verdict.as_dict()
    return result
