"""The instalment collector: charges the instalments due, off session, by the payer's saved means
(SEPA direct debit or card), exactly once each, a SEPA debit never before its pre-notification.

**Finding what is due** (:func:`sweep`, a schedule every hour, and by hand): the collector's
due entries (:class:`~chalicelib.models.subscriptions.InstalmentDue`) are partitioned by the
day they fall due; the sweep reads the days from the first one still holding something up to
today (a mark remembers where: never a Scan) and, for each venue with something due now, starts
**one job** whose id is derived from the venue and the hour: a sweep run twice in an hour
starts nothing more.

**The SEPA pre-notification** (the SEPA rulebook: the payer is told the amount, the debit date,
the mandate's reference (RUM) and the creditor identifier (ICS) at least ``SEPA_PRENOTICE_DAYS``
calendar days before the debit; 5 by default, as the mandates agree; ``SEPA_CREDITOR_ID`` is the
ICS). A card instalment needs none. A SEPA instalment never attempted is charged only when its
pre-notification was sent at least that many days (on the venue's clock) before its debit day,
and not before that day:

- *On time, by the sweep ahead.* The same hourly sweep, once 06:00 has passed on the venue's
  clock (the hour the collector charges), also reads the due-day partitions up to
  ``SEPA_PRENOTICE_DAYS`` days ahead (Queries of the days' partitions, never a Scan) and, for
  each venue holding entries on such a day, starts **one job** whose id is derived from the
  venue and that day (:data:`PRENOTIFY`): every sweep of the day, whoever runs it, meets the same
  id and starts nothing more, so a venue's pre-notices for a day are sent by one job. The job
  walks the venue's entries of the day (a cursor, a bounded chunk) and pre-notifies each SEPA
  instalment not yet pre-notified, announcing its due day. Across venues a mark remembers the
  next day ahead to read (``sepa-prenotices``), so normally the first sweep after 06:00 reads
  one partition, the day ``SEPA_PRENOTICE_DAYS`` ahead, and the others read nothing; after an
  outage it reads the days it missed (at most ``SEPA_PRENOTICE_DAYS`` of them), and the
  instalments of those nearer days are announced for the first day the notice allows.
  A venue's run by hand reads its part of every day ahead.
- *Late, by the collector.* An instalment due and not pre-notified (sold within the notice
  period of its first instalment, e.g. the first one due the day of the sale; an outage; a
  mail that could not go) is not charged: the collector announces the first day the notice
  allows (``today + SEPA_PRENOTICE_DAYS``), sends the pre-notification, and the charge moves to
  that day. A subscription whose first instalment is due the day of the sale is thus charged
  ``SEPA_PRENOTICE_DAYS`` days after the collector's first run.
- *Safe under retries and crashes.* Announcing takes three steps: the debit date is written on
  the instalment first (``debit_on``, under the subscription's version), then the mail goes
  through the mail pipeline with the idempotency key
  ``instalment:{subscription}:{n}:prenotice:{debit_on}``, then ``prenotified_at`` (when the mail
  went) is recorded with the mail's id and the instalment's due entry moves to ``debit_on``, in
  one transaction (the entries on other days are deleted after it). A crash after the mail
  leaves the date written: the next run sends with the same key, the pipeline answers the mail
  already sent, and the record catches up (never a second mail). Only when the next run comes
  too late to honour the written date (the crash lasted past its day's notice) is a later date
  announced in a new mail. A payer without a mail address gets none; the debit still waits the
  notice period (logged, and audited on the subscription).
- A retry of a failed debit is the same instalment presented again: its date is in the failure
  mail; it is not pre-notified again.

**Collecting one instalment** (:func:`collect`), safe under retries, crashes and concurrent runs:

1. *Claim*: the instalment moves to ``processing`` with its attempt number and the attempt's
   idempotency key (``instalment:{subscription}:{n}:{attempt}``), written under the
   subscription's version: of two runs at once, one claims, the other stops.
2. *Look before charging*: Stripe is asked for the payer's charge carrying the attempt's key
   (its metadata); one found is adopted as it stands, never doubled.
3. *Charge*: a PaymentIntent confirmed off session, idempotent on the attempt's key
   (:func:`~chalicelib.services.money.saved_means.charge_means` does both steps). A new
   attempt is only ever made after Stripe stated the previous one failed.
4. *Record the outcome*: ``succeeded`` is recorded with the order's payment and the ledger in
   one transaction (:func:`~chalicelib.services.orders.orders.receive_instalment`);
   ``processing`` (a SEPA debit takes days) keeps the PaymentIntent and waits for Stripe's
   webhook (``payment_intent.succeeded`` / ``payment_intent.payment_failed``), the sweep looking
   again the next day in case the webhook is lost; ``requires_authentication`` (a card whose
   bank wants 3-D Secure) mails the payer a signed link to confirm it; ``failed`` schedules the
   next attempt by the retry policy, or after the last one puts the subscription **in arrears**
   and mails the payer and the team; ``unknown`` (Stripe did not say) stays ``processing``:
   the next sweep looks for the charge by its metadata before anything else.

A crash between two steps leaves the instalment ``processing`` with its key: the next run looks
at Stripe first, so the money moves once and the record catches up.

**Retry policy**: a failed instalment is tried again :data:`RETRY_AFTER_DAYS` days after each
failure (3, then 7: three attempts in all), as SEPA rejections are often a passing lack of
funds; ``INSTALMENT_RETRY_DAYS`` (e.g. ``3,7``) changes it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.adapters import clock, ids, payments
from chalicelib.config import settings
from chalicelib.errors import ConcurrentChange, NotFound
from chalicelib.models.base import starting_with
from chalicelib.models.options import SweepMark
from chalicelib.models.subscriptions import InstalmentDue, Subscription
from chalicelib.observability import logger
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job, start_once
from chalicelib.services.mail.send_rate import Pacer
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event
from chalicelib.values.local_time import local_day
from chalicelib.values.payment_plans import Instalment, due_at

COLLECT = "subscriptions.collect"
PRENOTIFY = "subscriptions.prenotify"
SWEEP = "instalments"
PRENOTICE_SWEEP = "sepa-prenotices"
SCHEDULE_SUBJECT = "instalment-collector"
MAX_DAYS_PER_SWEEP = 400
NO_MEANS = "no saved means of payment in use"
CLAIM_LEASE = timedelta(minutes=15)  # longer than any charge call: a claim younger than this may be charging now
RECHECK_AFTER = timedelta(days=1)  # a debit under way is looked at again at Stripe a day later


def retry_after_days() -> tuple[int, ...]:
    configured = settings.instalment_retry_days
    return tuple(int(part) for part in configured.split(",") if part.strip()) if configured else (3, 7)


def prenotice_days() -> int:
    """The least calendar days between a SEPA debit's pre-notification and the debit."""
    return max(0, int(settings.sepa_prenotice_days))


def _collection_moment(day: date) -> datetime:
    """06:00 of ``day`` on the venue's clock: when the collector charges, and when the sweep pre-notifies."""
    return due_at(Instalment(number=1, due_on=day, amount_cents=0), settings.default_timezone)


def _local_today(moment: datetime | None = None) -> date:
    return local_day(moment or clock.now(), settings.default_timezone)


# -- finding what is due ---------------------------------------------------------------------


@dataclass
class SweepReport:
    days: list[str]
    due: dict[str, int]  # venue -> instalments due now
    started: list[str]  # job ids started now (collection and pre-notices)
    ahead_days: list[str] = field(default_factory=list)  # the days ahead read for pre-notices
    ahead: dict[str, int] = field(default_factory=dict)  # venue -> instalments on those days


def sweep(moment: datetime | None = None, *, tenant_id: str | None = None) -> SweepReport:
    """Start one job per venue with instalments due now, and one per venue and day ahead to
    pre-notify SEPA debits (module docstring)."""
    now = moment or clock.now()
    today = now.astimezone(timezone.utc).date()
    mark = None if tenant_id else _mark()
    start = date.fromisoformat(mark.from_day) if mark else today - timedelta(days=62 if tenant_id else 0)
    days = [(start + timedelta(days=n)).isoformat() for n in range(min((today - start).days, MAX_DAYS_PER_SWEEP) + 1)]
    due: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    first_pending = None
    for day in days:
        entries = (InstalmentDue.query(day, starting_with(InstalmentDue.due_key, f"{tenant_id}#"), consistent_read=True)
                   if tenant_id else InstalmentDue.query(day, consistent_read=True))
        for entry in entries:
            first_pending = first_pending or day
            if entry.due_at <= now:
                counts[entry.tenant_id] = counts.get(entry.tenant_id, 0) + 1
                due.setdefault(entry.tenant_id, [])
                if day not in due[entry.tenant_id]:
                    due[entry.tenant_id].append(day)
    report = SweepReport(days=days, due=counts, started=[])
    for venue, venue_days in sorted(due.items()):
        started = _start(venue, venue_days, now)
        if started:
            report.started.append(started)
    if tenant_id is None:
        SweepMark(sweep=SWEEP, from_day=first_pending or today.isoformat(), swept_at=now).save()
    _sweep_ahead(now, tenant_id, report)
    return report


def _sweep_ahead(now: datetime, tenant_id: str | None, report: SweepReport) -> None:
    """The pre-notices' part of the sweep: the days ahead not read yet, up to the one whose
    pre-notices are due now (``SEPA_PRENOTICE_DAYS`` ahead, from 06:00), one job per venue and day."""
    notice = timedelta(days=prenotice_days())
    today = _local_today(now)
    last = today + notice - (timedelta(0) if now >= _collection_moment(today) else timedelta(days=1))
    first = today + timedelta(days=1)
    mark = None if tenant_id else _mark(PRENOTICE_SWEEP)
    if mark is not None:
        first = max(first, date.fromisoformat(mark.from_day))
    next_day = first  # the mark: the first day ahead whose jobs are not all started
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        entries = (InstalmentDue.query(day.isoformat(), starting_with(InstalmentDue.due_key, f"{tenant_id}#"),
                                       consistent_read=True)
                   if tenant_id else InstalmentDue.query(day.isoformat(), consistent_read=True))
        counts: dict[str, int] = {}
        for entry in entries:
            counts[entry.tenant_id] = counts.get(entry.tenant_id, 0) + 1
        report.ahead_days.append(day.isoformat())
        all_started = True
        for venue, count in sorted(counts.items()):
            report.ahead[venue] = report.ahead.get(venue, 0) + count
            started, failed = _start_prenotices(venue, day, day - notice)
            all_started = all_started and not failed
            if started:
                report.started.append(started)
        if all_started and next_day == day:
            next_day = day + timedelta(days=1)
    if tenant_id is None and report.ahead_days:
        SweepMark(sweep=PRENOTICE_SWEEP, from_day=next_day.isoformat(), swept_at=now).save()


def _start_prenotices(tenant_id: str, day: date, notice_day: date) -> tuple[str | None, bool]:
    """The job pre-notifying the venue's SEPA debits of ``day``, once: its id derived from the venue
    and the day. The job id if started now, and whether starting it failed."""
    actor = Actor.system(tenant_id, SCHEDULE_SUBJECT)
    started = start_once(lambda job_id: start_job(actor, PRENOTIFY, {"day": day.isoformat()}, job_id=job_id),
                         ids.derived_id(_collection_moment(notice_day), tenant_id, PRENOTIFY, day.isoformat()),
                         what="SEPA pre-notices", tenant_id=tenant_id, day=day.isoformat())
    return started.job_id, started.failed


def _start(tenant_id: str, days: list[str], now: datetime) -> str | None:
    actor = Actor.system(tenant_id, SCHEDULE_SUBJECT)
    return start_once(lambda job_id: start_job(actor, COLLECT, {"days": days, "before": now.isoformat()},
                                               job_id=job_id),
                      ids.derived_id(now.replace(minute=0, second=0, microsecond=0), tenant_id, COLLECT),
                      what="instalment collection", tenant_id=tenant_id).job_id


def _mark(sweep: str = SWEEP) -> SweepMark | None:
    try:
        return SweepMark.get(sweep, consistent_read=True)
    except DoesNotExist:
        return None


def _venue_entries(tenant_id: str, day: str, after: str | None, budget: ChunkBudget):
    """The venue's due entries of ``day`` after the key ``after``, in key order. One more than the
    budget holds is read: that entry ends the chunk with its cursor, so a busy day's partition is
    read a chunk at a time, never whole."""
    prefix = f"{tenant_id}#"
    condition = InstalmentDue.due_key > after if after else starting_with(InstalmentDue.due_key, prefix)
    for entry in InstalmentDue.query(day, condition, consistent_read=True, limit=budget.items_left + 1):
        if not entry.due_key.startswith(prefix):
            return  # past this venue's part of the day
        yield entry


@job_kind(COLLECT, max_items=100)
def collect_due(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """The venue's instalments due before ``params["before"]`` on ``params["days"]``, day by day."""
    before = datetime.fromisoformat(params["before"])
    position = cursor or {"day": 0, "after": None}
    outcomes: list[str] = []
    while position["day"] < len(params["days"]):
        day = params["days"][position["day"]]
        for entry in _venue_entries(actor.tenant_id, day, position["after"], budget):
            if not budget.take():
                return _collected(position, outcomes)
            position = {**position, "after": entry.due_key}
            if entry.due_at <= before:
                outcomes.append(collect(actor, entry.subscription_id, int(entry.number)))
        position = {"day": position["day"] + 1, "after": None}
    return _collected(None, outcomes)


def _collected(cursor: dict | None, outcomes: list[str]) -> ChunkResult:
    """The chunk's result, and its failed charges as the ``InstalmentCollectionFailures`` metric
    (0 when none) that the stack's alarm sums over the hour."""
    from chalicelib.adapters import metrics

    tally = _tally(outcomes)
    metrics.emit("InstalmentCollectionFailures", sum(outcome in ("failed", "arrears") for outcome in outcomes))
    return ChunkResult(cursor=cursor, **tally)


@job_kind(PRENOTIFY, max_items=100)
def prenotify_day(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """The venue's SEPA instalments on ``params["day"]`` not yet pre-notified: each payer is sent
    the pre-notification (module docstring); the venue's entries of the day, in key order."""
    after = (cursor or {}).get("after")
    outcomes: list[str] = []
    for entry in _venue_entries(actor.tenant_id, params["day"], after, budget):
        if not budget.take():
            return ChunkResult(cursor={"after": after}, **_tally(outcomes))
        after = entry.due_key
        outcomes.append(prenotify(actor, entry.subscription_id, int(entry.number)))
    return ChunkResult(cursor=None, **_tally(outcomes))


DONE, FAILED = ("paid", "processing", "prenotified"), ("failed", "arrears", "deferred")


def _tally(outcomes: list[str]) -> dict:
    return {"done": sum(outcome in DONE for outcome in outcomes),
            "failed": sum(outcome in FAILED for outcome in outcomes),
            "skipped": sum(outcome not in DONE + FAILED for outcome in outcomes)}


# -- collecting one instalment ---------------------------------------------------------------


def collect(actor: Actor, subscription_id: str, number: int) -> str:
    """Collect instalment ``number`` of the subscription if it is due and not settled; what
    became of it: ``paid``, ``processing``, ``awaiting_payer``, ``failed``, ``arrears``,
    ``settled`` (nothing to do), ``busy`` (another run holds it); for a SEPA debit not yet
    pre-notified: ``prenotified`` (sent now, the charge moved to the day announced), ``waiting``
    (the day announced is later) or ``deferred`` (the mail could not go: the next run tries)."""
    subscription = _subscription(actor, subscription_id)
    if subscription is None:
        return "settled"
    instalment = subscription.instalments[number - 1]
    if instalment["state"] in ("paid", "cancelled") or subscription.state == "cancelled":
        _forget_due(actor, subscription_id, number)
        return "settled"
    if instalment["state"] == "processing":
        return _follow_up(actor, subscription, number)
    if instalment["state"] == "awaiting_payer":
        return "awaiting_payer"
    if instalment["state"] == "failed" and (not instalment.get("retry_on")
                                             or date.fromisoformat(instalment["retry_on"]) > clock.now().date()):
        return "settled"  # waiting for its retry day (or in arrears): this entry is a stale one
    if needs_notice(subscription, number):
        notice, subscription = _notice(actor, subscription, number)
        if notice == "waiting":
            _drop_stale_entries(actor, subscription, number)
        if notice not in ("given", "no_means"):  # without a usable mandate the charge fails, moving no money
            return notice
        instalment = subscription.instalments[number - 1]
    key = f"instalment:{subscription.id}:{number}:{int(instalment.get('attempts') or 0) + 1}"
    if not _claim(subscription, number, key):
        return "busy"
    return _charge(actor, subscription, number, key)


# -- the SEPA pre-notification (module docstring) ---------------------------------------------


def needs_notice(subscription: Subscription, number: int) -> bool:
    """Whether instalment ``number`` must be pre-notified before it is charged: a SEPA debit
    never attempted (a retry is the same debit presented again)."""
    instalment = subscription.instalments[number - 1]
    return (subscription.means == "sepa_debit" and instalment["state"] == "scheduled"
            and not int(instalment.get("attempts") or 0))


def notice_state(instalment: dict, today: date) -> str | None:
    """``given`` (pre-notified long enough before its debit day, which has come), ``waiting``
    (pre-notified, the debit day is later), or ``None``: a pre-notification is still owed (none
    sent, or one sent too late for its date, as after ``SEPA_PRENOTICE_DAYS`` grew)."""
    debit_on, sent_at = instalment.get("debit_on"), instalment.get("prenotified_at")
    if not (debit_on and sent_at):
        return None
    debit_day = date.fromisoformat(debit_on)
    if (debit_day - _local_today(datetime.fromisoformat(sent_at))).days < prenotice_days():
        return None
    return "given" if debit_day <= today else "waiting"


def prenotify(actor: Actor, subscription_id: str, number: int) -> str:
    """Pre-notify instalment ``number`` if it is a SEPA debit not yet pre-notified (the sweep
    ahead's step): ``prenotified``, ``waiting`` (done before), ``deferred``, ``settled`` (none owed)."""
    subscription = _subscription(actor, subscription_id)
    if (subscription is None or subscription.state == "cancelled" or number > len(subscription.instalments)
            or not needs_notice(subscription, number)):
        return "settled"
    notice, _ = _notice(actor, subscription, number)
    return "settled" if notice in ("given", "no_means") else notice


def _notice(actor: Actor, subscription: Subscription, number: int) -> tuple[str, Subscription]:
    """The pre-notification of a SEPA instalment, sent if owed (module docstring), and the
    subscription as it stands: ``given`` (it may be charged now), ``waiting``, ``prenotified``,
    ``deferred`` (the mail could not go), ``no_means`` (no usable mandate: nothing to announce,
    and a charge would fail without moving money), ``settled`` (claimed meanwhile by another run)."""
    from chalicelib.services.money import saved_means
    from chalicelib.services.subscriptions import instalment_mails

    for _ in range(5):
        today = _local_today()
        instalment = subscription.instalments[number - 1]
        state = notice_state(instalment, today)
        if state is not None:
            return state, subscription
        try:
            means = saved_means.get_means(actor, subscription.payer_contact_id, subscription.saved_means_id or "")
        except NotFound:
            return "no_means", subscription
        if means.status != "active" or means.kind != "sepa_debit":
            return "no_means", subscription
        earliest = today + timedelta(days=prenotice_days())
        try:
            debit_on = instalment.get("debit_on")
            if not debit_on or instalment.get("prenotified_at") or date.fromisoformat(debit_on) < earliest:
                debit_on = _announce(actor, subscription, number, earliest)
            try:
                notification = instalment_mails.prenotify(actor, subscription, number, date.fromisoformat(debit_on),
                                                          means)
            except Exception:  # noqa: BLE001 - no notice, no debit: the next run tries again
                logger.exception("SEPA pre-notification not sent", extra={"subscription_id": subscription.id,
                                                                          "instalment": number})
                return "deferred", subscription
            _record_prenotice(actor, subscription, number, notification)
            return "prenotified", subscription
        except ConcurrentChange:
            fresh = _subscription(actor, subscription.id)
            if fresh is None or not needs_notice(fresh, number):
                return "settled", fresh or subscription
            subscription = fresh
    raise ConcurrentChange(f"Subscription {subscription.id} kept changing; the next sweep pre-notifies it.")


def _announce(actor: Actor, subscription: Subscription, number: int, earliest: date) -> str:
    """Write the debit date the pre-notification will announce (its due day, or the first day
    the notice allows), before the mail: a run after a crash announces the same date, under the
    same idempotency key."""
    instalment = subscription.instalments[number - 1]
    debit_on = max(date.fromisoformat(instalment["due_on"]), earliest).isoformat()
    instalment["debit_on"] = debit_on
    instalment.pop("prenotified_at", None)
    instalment.pop("prenotice_mail", None)
    _save(actor, subscription, "instalment-debit-date", number, {"debit_on": debit_on})
    return debit_on


def _record_prenotice(actor: Actor, subscription: Subscription, number: int, notification) -> None:
    """The pre-notification recorded on the instalment (when it went, which mail) and the charge
    moved to the day announced: its due entry on that day in the same transaction, the entries on
    other days deleted after (a crash before leaves a stale entry, which a run passes over)."""
    instalment = subscription.instalments[number - 1]
    debit_on = instalment["debit_on"]
    waiting = _due_entries(actor, subscription, number)
    sent_at = notification.timeline[0].at if notification is not None else clock.now()  # when the mail set out
    instalment.update(prenotified_at=sent_at.isoformat(), prenotice_mail=notification.id if notification else None)
    status = notification.status if notification is not None else "no address"
    if status != "sent":
        logger.warning("SEPA pre-notification not delivered", extra={"subscription_id": subscription.id,
                                                                      "instalment": number, "status": status})
    _save(actor, subscription, "instalment-prenotified", number,
          {"debit_on": debit_on, "mail": instalment["prenotice_mail"], "mail_status": status},
          also=[due_entry(actor.tenant_id, subscription.id, number, date.fromisoformat(debit_on))])
    for entry in waiting:
        if entry.due_day != debit_on:
            entry.delete()


def _drop_stale_entries(actor: Actor, subscription: Subscription, number: int) -> None:
    """The entries of a pre-notified instalment on other days than its debit day (left by a crash)."""
    debit_on = subscription.instalments[number - 1]["debit_on"]
    for entry in _due_entries(actor, subscription, number):
        if entry.due_day != debit_on:
            entry.delete()


def _subscription(actor: Actor, subscription_id: str) -> Subscription | None:
    try:
        return Subscription.get(actor.tenant_id, subscription_id, consistent_read=True)
    except DoesNotExist:
        return None


def _claim(subscription: Subscription, number: int, key: str) -> bool:
    """The instalment moves to ``processing`` under this attempt's key, on the subscription's version."""
    instalment = subscription.instalments[number - 1]
    instalment.update(state="processing", attempts=int(instalment.get("attempts") or 0) + 1, key=key,
                      claimed_at=clock.now().isoformat(), failure=None)
    instalment.pop("intent_id", None)
    subscription.updated_at = clock.now()
    try:
        subscription.save()
        return True
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False


@lru_cache(maxsize=1)
def charge_pacer() -> Pacer:
    """At most ``STRIPE_CHARGE_RATE`` charges a second across every collector running at once
    (Stripe limits the requests an account makes; a charge is three: look, create, confirm),
    shared through DynamoDB like the mail pipeline's send rate."""
    return Pacer(bucket=f"stripe-charges:{settings.stage}", rate=max(1, int(settings.stripe_charge_rate)))


def _charge(actor: Actor, subscription: Subscription, number: int, key: str) -> str:
    """The attempt ``key`` at Stripe: the payer's saved means charged off session, once per key
    (:func:`~chalicelib.services.money.saved_means.charge_means` looks for the key first)."""
    from chalicelib.services.money import saved_means

    instalment = subscription.instalments[number - 1]
    charge_pacer().wait_turn()
    try:
        outcome = saved_means.charge_means(
            actor, subscription.payer_contact_id, subscription.saved_means_id or "",
            amount_cents=int(instalment["amount_cents"]), currency=subscription.currency, charge_key=key,
            metadata={"subscription": subscription.id, "instalment": f"{subscription.id}:{number}"})
    except (saved_means.MeansNotUsable, NotFound):
        return apply_outcome(actor, subscription.id, number, payments.ChargeOutcome(
            status="failed", payment_intent_id=None, reason=NO_MEANS))
    return apply_outcome(actor, subscription.id, number, outcome)


def _follow_up(actor: Actor, subscription: Subscription, number: int) -> str:
    """An instalment left ``processing`` (a debit under way, a lost answer, a crash after the
    claim): what Stripe says of it now decides; an attempt Stripe never got is made again under
    the same key."""
    from chalicelib.services.money import saved_means

    instalment = subscription.instalments[number - 1]
    if not instalment.get("intent_id"):
        claimed_at = datetime.fromisoformat(instalment["claimed_at"]) if instalment.get("claimed_at") else None
        if claimed_at is not None and claimed_at + CLAIM_LEASE > clock.now():
            return "busy"  # another run claimed it moments ago and may be charging it now
        return _charge(actor, subscription, number, instalment["key"])
    try:
        outcome = saved_means.charge_outcome(actor, subscription.payer_contact_id, instalment["intent_id"])
    except saved_means.PaymentUnavailable:
        return "processing"  # Stripe cannot be read now: the next sweep looks again
    return apply_outcome(actor, subscription.id, number, outcome)


def apply_charge_event(subject: dict) -> str:
    """Stripe's news of an instalment's charge (``payment_intent.succeeded`` /
    ``payment_intent.payment_failed``, found by its metadata). Money Stripe took always counts;
    a failure counts only for the attempt the instalment is waiting on (a late event of an
    earlier attempt changes nothing)."""
    metadata = subject.get("metadata") or {}
    tenant_id, instalment = metadata.get("tenant_id"), metadata.get("instalment") or ""
    subscription_id, _, number = instalment.rpartition(":")
    if not tenant_id or not subscription_id or not number.isdigit():
        return "ignored"
    actor = Actor.system(tenant_id, SCHEDULE_SUBJECT)
    outcome = payments.outcome_of_intent(subject)
    subscription = _subscription(actor, subscription_id)
    if subscription is None or int(number) > len(subscription.instalments):
        return "ignored"
    waiting_on = subscription.instalments[int(number) - 1].get("key")
    if outcome.status != "succeeded" and metadata.get("charge_key") != waiting_on:
        return "earlier attempt"
    return apply_outcome(actor, subscription_id, int(number), outcome)


def apply_outcome(actor: Actor, subscription_id: str, number: int, outcome: payments.ChargeOutcome) -> str:
    """Record what Stripe said of instalment ``number``'s charge (the charge's answer, a later
    look, or its webhook: safe to apply twice and in any order; a settled instalment stays so)."""
    for _ in range(5):
        subscription = _subscription(actor, subscription_id)
        if subscription is None:
            return "settled"
        instalment = subscription.instalments[number - 1]
        if instalment["state"] in ("paid", "cancelled"):
            _forget_due(actor, subscription_id, number)
            return "settled"
        try:
            return _apply(actor, subscription, number, outcome)
        except ConcurrentChange:
            continue  # the subscription changed meanwhile: read it again
    raise ConcurrentChange(f"Subscription {subscription_id} kept changing; the next sweep applies the outcome.")


def _apply(actor: Actor, subscription: Subscription, number: int, outcome: payments.ChargeOutcome) -> str:
    instalment = subscription.instalments[number - 1]
    if outcome.payment_intent_id:
        instalment["intent_id"] = outcome.payment_intent_id
    if outcome.status == "succeeded":
        return _record_paid(actor, subscription, number)
    if outcome.status in ("processing", "unknown"):
        instalment["state"] = "processing"
        _save(actor, subscription, "instalment-processing", number)
        _recheck_later(actor, subscription, number)
        return "processing"
    if outcome.status == "requires_authentication":
        instalment["state"] = "awaiting_payer"
        _save(actor, subscription, "instalment-awaiting-payer", number)
        from chalicelib.services.subscriptions import instalment_mails

        instalment_mails.ask_authentication(actor, subscription, number)
        return "awaiting_payer"
    return _record_failure(actor, subscription, number, outcome.reason or "refused")


def _record_paid(actor: Actor, subscription: Subscription, number: int) -> str:
    instalment = subscription.instalments[number - 1]
    instalment.update(state="paid", paid_at=clock.now().isoformat(), failure=None)
    subscription.updated_at = clock.now()
    if subscription.state == "in_arrears" and all(item["state"] in ("paid", "cancelled", "scheduled")
                                                  for item in subscription.instalments):
        subscription.state = "active"
    order = orders.get_order(actor, subscription.order_id)
    orders.receive_instalment(
        actor, order, amount_cents=int(instalment["amount_cents"]),
        means="sepa" if subscription.means == "sepa_debit" else "card", reference=instalment.get("intent_id"),
        also=[subscription, audit_event(actor, "subscription", subscription.id, "instalment-paid", None,
                                        {"instalment": number, "amount_cents": int(instalment["amount_cents"]),
                                         "intent_id": instalment.get("intent_id")})])
    _forget_due(actor, subscription.id, number)
    return "paid"


def _record_failure(actor: Actor, subscription: Subscription, number: int, reason: str) -> str:
    """A failed attempt: the next one scheduled by the retry policy, or after the last, arrears."""
    instalment = subscription.instalments[number - 1]
    attempts = int(instalment.get("attempts") or 0)
    waiting = _due_entries(actor, subscription, number)  # on its due day and its last retry day
    delays = retry_after_days()
    instalment.update(state="failed", attempts=attempts, failure=reason[:200])
    retry_on = None
    if attempts <= len(delays):
        retry_on = clock.now().date() + timedelta(days=delays[attempts - 1])
        instalment["retry_on"] = retry_on.isoformat()
    else:
        instalment.pop("retry_on", None)
        subscription.state = "in_arrears"
    retry = [due_entry(actor.tenant_id, subscription.id, number, retry_on)] if retry_on is not None else []
    _save(actor, subscription, "instalment-failed", number, {"reason": reason[:200], "attempts": attempts,
                                                             "retry_on": instalment.get("retry_on")}, also=retry)
    for entry in waiting:
        if retry_on is None or entry.due_day != retry_on.isoformat():
            entry.delete()  # a crash before this leaves a stale entry, which a run passes over
    from chalicelib.services.subscriptions import instalment_mails

    instalment_mails.tell_failure(actor, subscription, number, final=retry_on is None)
    return "failed" if retry_on is not None else "arrears"


def _save(actor: Actor, subscription: Subscription, action: str, number: int, details: dict | None = None, *,
          also: list | None = None) -> None:
    """The subscription (version checked), its audit event and ``also``, in one transaction."""
    from pynamodb.exceptions import TransactWriteError
    from pynamodb.transactions import TransactWrite

    from chalicelib.models.base import connection

    subscription.updated_at = clock.now()
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(subscription)
            transaction.save(audit_event(actor, "subscription", subscription.id, action, None,
                                         {"instalment": number, **(details or {}),
                                          "state": subscription.instalments[number - 1]["state"]}))
            for item in also or ():
                transaction.save(item)
    except TransactWriteError as error:
        raise ConcurrentChange("The subscription changed meanwhile.") from error


def due_entry(tenant_id: str, subscription_id: str, number: int, day: date) -> InstalmentDue:
    """The collector's entry for instalment ``number``, to be charged on ``day`` (at the collection
    hour, on the venue's clock): written by the sale that schedules it, a pre-notice or a retry."""
    return InstalmentDue(due_day=day.isoformat(), due_key=InstalmentDue.key_of(tenant_id, subscription_id, number),
                         tenant_id=tenant_id, subscription_id=subscription_id, number=number,
                         due_at=_collection_moment(day))


def _recheck_later(actor: Actor, subscription: Subscription, number: int) -> None:
    """The due entry of a debit under way is looked at again a day later (the webhook normally
    settles it first)."""
    key = InstalmentDue.key_of(actor.tenant_id, subscription.id, number)
    for entry in _due_entries(actor, subscription, number):
        try:
            entry.update(actions=[InstalmentDue.due_at.set(clock.now() + RECHECK_AFTER)],
                         condition=InstalmentDue.due_key == key)
        except UpdateError:
            pass


def _due_entries(actor: Actor, subscription: Subscription, number: int) -> list[InstalmentDue]:
    """The due entries of an instalment: on its due day, its announced debit day and its retry day."""
    instalment = subscription.instalments[number - 1]
    key = InstalmentDue.key_of(actor.tenant_id, subscription.id, number)
    days = {instalment["due_on"], *(instalment[name] for name in ("debit_on", "retry_on") if instalment.get(name))}
    return [entry for day in sorted(days) for entry in InstalmentDue.query(day, InstalmentDue.due_key == key)]


def _forget_due(actor: Actor, subscription_id: str, number: int) -> None:
    subscription = _subscription(actor, subscription_id)
    if subscription is None:
        return
    for entry in _due_entries(actor, subscription, number):
        entry.delete()

