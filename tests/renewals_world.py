"""Two seasons of one venue for the renewal tests: last season's subscription product (sold
here), the new season's with its performances and seats, the payers and their saved means of
payment, and the moments the tests freeze the clock at (a sale in the autumn, the renewal run in
the spring). Shared by the renewal, notice, card and console tests."""
from __future__ import annotations

from datetime import date, datetime, timezone

from chalicelib.adapters import clock, payments
from chalicelib.models.jobs import Job
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.money import saved_means
from chalicelib.services.subscriptions import renewal, selling, terms
from tests.job_helpers import drive
from tests.orders_world import build_world

SOLD_AT = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
GOOD_IBAN = "DE89370400440532013000"
OPT_OUT = "Arrêt du renouvellement automatique"
RENEWED_AT = datetime(2027, 6, 1, 9, 0, tzinfo=timezone.utc)
PLANS = [{"id": "once", "label": "Comptant", "instalments": 1, "day_of_month": 5, "first_at_purchase": True},
         {"id": "3x", "label": "En 3 fois", "instalments": 3, "day_of_month": 5, "first_at_purchase": True}]


class Seasons:
    """Last season's product (sold here) and the new season's, at the same venue."""

    def __init__(self, actor, *, tacit: bool = True, modes=("new_card", "print_at_home")):
        world = build_world(actor, capacity=20)
        self.world = world
        category = catalog.seat_categories.create(actor, {"venue_id": world.venue.id, "name": "Orchestre"})
        self.seats = [catalog.create_seat(actor, {"venue_id": world.venue.id, "block": "Parterre", "row": "B",
                                                  "number": str(n), "category_id": category.id})
                      for n in range(1, 4)]
        self.source = self._product(actor, world.show.season_id, "Abonnement 26-27", tacit)
        self.source_tariff = catalog.tariffs.create(actor, {"product_id": self.source.id, "name": "Abonné",
                                                            "price_cents": 9000})
        terms.set_terms(actor, self.source.id, {
            "performances": [{"performance_id": world.evening.id, "quota_id": world.evening_quota.id}],
            "choose": None, "delivery_modes": ["new_card", "print_at_home", "box_office"], "payment_plans": PLANS})
        season = catalog.seasons.create(actor, {"name": "2027-2028", "starts_on": date(2027, 9, 1),
                                                "ends_on": date(2028, 6, 30)})
        show = catalog.products.create(actor, {"kind": "show", "name": "Phèdre", "family_id": world.show.family_id,
                                              "season_id": season.id})
        self.new_performances = [catalog.create_performance(actor, {
            "product_id": show.id, "venue_id": world.venue.id,
            "starts_at": datetime(2027, 10, day, 18, 30, tzinfo=timezone.utc)}) for day in (8, 15)]
        quotas = [catalog.quotas.create(actor, {"performance_id": performance.id, "name": "Abonnés", "capacity": 20})
                  for performance in self.new_performances]
        self.target = self._product(actor, season.id, "Abonnement 27-28", tacit)
        self.target_tariff = catalog.tariffs.create(actor, {"product_id": self.target.id, "name": "Abonné",
                                                            "price_cents": 12000})
        terms.set_terms(actor, self.target.id, {
            "performances": [{"performance_id": p.id, "quota_id": q.id} for p, q in zip(self.new_performances, quotas)],
            "choose": None, "delivery_modes": list(modes), "payment_plans": PLANS})

    @staticmethod
    def _product(actor, season_id, name, tacit):
        family = catalog.product_families.create(actor, {"name": f"Abonnements {name}"})
        return catalog.products.create(actor, {"kind": "subscription", "name": name, "family_id": family.id,
                                              "season_id": season_id, "tacit_renewal": tacit})

    def sell(self, actor, payer, *holders, means="cash", plan="once", mode="new_card", saved_means_id=None,
             seats=None):
        return selling.sell(actor, {
            "product_id": self.source.id, "tariff_id": self.source_tariff.id, "payer_contact_id": payer.id,
            "delivery_mode": mode, "plan_id": plan, "means": means, "saved_means_id": saved_means_id,
            "subscribers": [{"holder_contact_id": holder.id, **({"seats": seats} if seats else {})}
                            for holder in holders or [payer]]})

    def target_quota(self, actor, index: int) -> str:
        return terms.get_terms(actor, self.target.id).quotas[self.new_performances[index].id]

    def run(self, actor, pump, **params) -> Job:
        clock.set_clock(clock.frozen_at(RENEWED_AT))
        job = renewal.start_run(actor, {
            "source_product_id": self.source.id, "target_product_id": self.target.id,
            "delivery_modes": params.pop("delivery_modes", ["new_card", "print_at_home"]),
            "fallback_mode": params.pop("fallback_mode", "print_at_home"), "mode_replacements": None,
            "tariffs": None, "opt_out_criterion": params.pop("opt_out_criterion", None),
            "on_error": params.pop("on_error", "nothing"),
            "reservation_deadline": params.pop("reservation_deadline", datetime(2027, 7, 1, tzinfo=timezone.utc)),
            "keep_seats": True, "dry_run": False, **params})
        return drive(pump, actor.tenant_id, job.id)


def contact_named(actor, first, last="Martin", **fields):
    """A contact with an e-mail, as the renewal tests name their payers and holders."""
    return contacts.create_contact(actor, {"first_name": first, "last_name": last,
                                           "emails": [{"address": f"{first.lower()}@exemple.fr"}], **fields})


def sepa_mandate(actor, holder):
    """A signed SEPA mandate of ``holder`` (a valid test IBAN)."""
    return saved_means.start_sepa_setup(actor, holder.id, iban=GOOD_IBAN, account_holder=f"{holder.first_name} Martin",
                                        signed_on=date(2026, 9, 30))


def saved_card(actor, owner, number="4242424242424242"):
    """A card of ``owner`` saved through Stripe's setup (localstripe), ready to be charged."""
    started = saved_means.start_card_setup(actor, owner.id)
    method = payments._client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    payments._client().v1.setup_intents.confirm(started.means.setup_intent_id, params={
        "payment_method": method.id, "client_secret": started.client_secret})
    return saved_means.record_setup_outcome(actor, owner.id, started.means.id)


def renewal_of(actor, source: Subscription) -> Subscription | None:
    """The subscription ``source`` was renewed into, if any (read again)."""
    source.refresh(consistent_read=True)
    return Subscription.get(actor.tenant_id, source.renewed_into, consistent_read=True) if source.renewed_into else None


def renewals_of_three(actor):
    """Last season's subscription sold to three payers: Anne (saved card, seat B 1, picked up at
    the box office, a mode the run no longer offers), Paul (cash, no saved card: refused) and
    Léa (saved card, who asked to stop the automatic renewal)."""
    seasons = Seasons(actor)
    anne, paul = contact_named(actor, "Anne"), contact_named(actor, "Paul", "Durand")
    lea = contact_named(actor, "Léa", "Petit", criteria={OPT_OUT: "oui"})
    for paying in (anne, lea):
        saved_card(actor, paying)
    sold = {"anne": seasons.sell(actor, anne, mode="box_office",
                                 seats={seasons.world.evening.id: seasons.seats[0].id}),
            "paul": seasons.sell(actor, paul, mode="new_card"), "lea": seasons.sell(actor, lea, mode="new_card")}
    return seasons, sold
