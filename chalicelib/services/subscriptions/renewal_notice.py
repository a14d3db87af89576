"""The tacit-renewal notice (Code de la consommation, article L215-1).

A tacitly renewed subscription's payer must be told, **no earlier than three months and no
later than one month** before the date after which they can no longer refuse the renewal (the
product's ``refusal_deadline``, set with its terms), that it will be renewed, that date stated
prominently, and how to stop it. Without that notice the payer may leave the renewed
subscription at any time: the renewal run records it (``may_leave_anytime``).

**Filing**: setting a tacit product's refusal deadline files a
:class:`~chalicelib.models.subscriptions.RenewalNoticeDue` under the day its window opens (on
the venue's clock, from :func:`~chalicelib.values.payment_plans.notice_window`, daylight
saving changes included); a new deadline files anew and forgets the old one.

**Sending** (:func:`sweep`, with the hourly collector's schedule): the filed days from a
remembered first one up to today (never a Scan); for each product whose window is open now,
**one job** a day (its id derived from the product and the day) walks the product's
subscriptions and tells each payer once per order: one mail (``renewal_notice``) naming the
holders, idempotent on the product and the order, then each subscription marked
``renewal_notice_at`` (a crash between the two: the next run's mail is the same one, not a
second). A window that closed is forgotten; the subscriptions it missed stay unmarked.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.adapters import clock, ids
from chalicelib.config import settings
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Performance, Product, Venue
from chalicelib.models.contacts import Contact
from chalicelib.models.options import SweepMark
from chalicelib.models.subscriptions import RenewalNoticeDue, Subscription, SubscriptionTerms
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job, start_once
from chalicelib.services.mail import sending as mail
from chalicelib.services.options.notices import box_office
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.records import by_ids, get_record
from chalicelib.values.formatting import date_text
from chalicelib.values.payment_plans import notice_window

NOTIFY = "subscriptions.renewal_notices"
SWEEP = "renewal-notices"
SCHEDULE_SUBJECT = "renewal-notice"
MAX_DAYS_PER_SWEEP = 400


def file_notice(tenant_id: str, product: Product, terms: SubscriptionTerms, previous: date | None) -> None:
    """File (or re-file) the product's notice window; forget the one of ``previous`` deadline."""
    zone = settings.default_timezone
    if previous is not None and previous != terms.refusal_deadline:
        _entry(tenant_id, product.id, previous, zone).delete()
    if product.tacit_renewal and terms.refusal_deadline is not None:
        _entry(tenant_id, product.id, terms.refusal_deadline, zone).save()


def _entry(tenant_id: str, product_id: str, deadline: date, zone: str) -> RenewalNoticeDue:
    window = notice_window(deadline, zone)
    from zoneinfo import ZoneInfo

    opening_day = window.opens_at.astimezone(ZoneInfo(zone)).date()
    return RenewalNoticeDue(due_day=opening_day.isoformat(), due_key=tenant_key(tenant_id, product_id),
                            tenant_id=tenant_id, product_id=product_id, opens_at=window.opens_at,
                            closes_at=window.closes_at)


@dataclass
class NoticeSweep:
    days: list[str]
    started: list[str]
    closed: int  # windows that closed and were forgotten


def sweep(moment: datetime | None = None) -> NoticeSweep:
    """Start a job for each product whose notice window is open now (module docstring)."""
    now = moment or clock.now()
    today = now.astimezone(timezone.utc).date() + timedelta(days=1)  # a local day may be ahead of UTC's
    mark = _mark()
    start = date.fromisoformat(mark.from_day) if mark else today
    span = min(max((today - start).days, 0), MAX_DAYS_PER_SWEEP)
    days = [date.fromordinal(start.toordinal() + n).isoformat() for n in range(span + 1)]
    report = NoticeSweep(days=days, started=[], closed=0)
    first_pending = None
    for day in days:
        for entry in RenewalNoticeDue.query(day, consistent_read=True):
            if entry.closes_at <= now:
                entry.delete()
                report.closed += 1
                continue
            first_pending = first_pending or day
            if entry.opens_at <= now:
                started = _start(entry, now)
                if started:
                    report.started.append(started)
    SweepMark(sweep=SWEEP, from_day=first_pending or today.isoformat(), swept_at=now).save()
    return report


def _start(entry: RenewalNoticeDue, now: datetime) -> str | None:
    actor = Actor.system(entry.tenant_id, SCHEDULE_SUBJECT)
    return start_once(lambda job_id: start_job(actor, NOTIFY, {"product_id": entry.product_id}, job_id=job_id),
                      ids.derived_id(now.replace(hour=0, minute=0, second=0, microsecond=0), entry.tenant_id,
                                     entry.product_id, NOTIFY),
                      what="renewal notices", tenant_id=entry.tenant_id).job_id


def _mark() -> SweepMark | None:
    try:
        return SweepMark.get(SWEEP, consistent_read=True)
    except DoesNotExist:
        return None


@job_kind(NOTIFY, max_items=200)
def notify(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """The product's tacit subscriptions not told yet, a source order at a time."""
    product = get_record(actor, Product, params["product_id"])
    terms = SubscriptionTerms.get(actor.tenant_id, product.id, consistent_read=True)
    key = tenant_key(actor.tenant_id, product.id)
    query = Subscription.by_product.query(key, limit=budget.items_left,
                                          last_evaluated_key=(cursor or {}).get("after"))
    done = skipped = 0
    after = (cursor or {}).get("after")
    for entry in query:
        if not budget.take():
            break
        after = {"product_key": {"S": key}, "id": {"S": entry.id}, "tenant_id": {"S": actor.tenant_id}}
        subscription = Subscription.get(actor.tenant_id, entry.id, consistent_read=True)
        if not subscription.tacit or subscription.state == "cancelled" or subscription.renewal_notice_at:
            skipped += 1
            continue
        done += tell(actor, product, terms, subscription)
    more = query.last_evaluated_key is not None or budget.items_left == 0
    return ChunkResult(cursor={"after": after} if more else None, done=done, skipped=skipped)


def tell(actor: Actor, product: Product, terms: SubscriptionTerms, subscription: Subscription) -> int:
    """Tell the payer of ``subscription``'s order (one mail for the order's holders) and mark
    those subscriptions; how many were marked."""
    siblings = [sub for sub in _order_subscriptions(actor, subscription)
                if sub.tacit and sub.state != "cancelled" and not sub.renewal_notice_at]
    people = by_ids(actor, Contact, {subscription.payer_contact_id} | {sub.holder_contact_id for sub in siblings})
    payer = people.get(subscription.payer_contact_id)
    if payer is not None and payer.emails and not payer.closed:
        _send(actor, product, terms, subscription, payer, [people.get(sub.holder_contact_id) for sub in siblings])
    marked = 0
    for sub in siblings:
        try:
            sub.update(actions=[Subscription.renewal_notice_at.set(clock.now())],
                       condition=Subscription.renewal_notice_at.does_not_exist())
            marked += 1
        except UpdateError:
            pass  # marked meanwhile by another run
    return marked


def _order_subscriptions(actor: Actor, subscription: Subscription) -> list[Subscription]:
    found = [(actor.tenant_id, entry.id) for entry in
             Subscription.by_payer.query(tenant_key(actor.tenant_id, subscription.payer_contact_id))]
    return [sub for sub in Subscription.batch_get(found, consistent_read=True)
            if sub.order_id == subscription.order_id and sub.product_id == subscription.product_id]


def _send(actor: Actor, product: Product, terms: SubscriptionTerms, subscription: Subscription, payer: Contact,
          holders: list[Contact | None]) -> None:
    language = payer.language or "fr"
    performance = get_record(actor, Performance, subscription.performance_ids[0])
    venue = get_record(actor, Venue, performance.venue_id)
    deadline = terms.refusal_deadline
    names = ", ".join(" ".join(part for part in (holder.first_name, holder.last_name) if part)
                      for holder in holders if holder is not None)
    mail.send_mail(actor, mail.MailRequest(
        template="renewal_notice", language=language, recipient=payer.emails[0].address,
        concerns_type="subscription", concerns_id=subscription.id, sender_name=venue.name, contact_id=payer.id,
        idempotency_key=f"renewal-notice:{product.id}:{subscription.order_id}:{deadline.isoformat()}",
        context={"first_name": payer.first_name or "", "venue_name": venue.name, "subscription_name": product.name,
                 "holder_names": names, "refusal_deadline": date_text(deadline, None, language),
                 "next_season": f"{deadline.year}-{deadline.year + 1}", "box_office": box_office(actor, venue),
                 "price": ""}))
