"""Demo data for ``make dev``: one theatre in Lyon with a season, shows, and 200 contacts.

The tenant ``theatre-lyon`` (the one the printed dev token names) gets two halls of the
"Théâtre des Traboules" (Europe/Paris), a season around today, product families, five
shows with dated performances at 20:00 Paris time, three tariffs each, two quotas per
performance, a subscription, two sales channels, seat categories, 200 contacts with French
names, e-mails, phones and Lyon addresses, and a follow-up policy with a few options to watch
it work: one whose deadline passed (released by the first sweep, five minutes after start),
one expiring soon (reminded then, unless it is night in Lyon), one locked, a reservation.

Every write goes through the services, exactly as the API's handlers call them (input
validated by the request schemas first), so the demo data obeys the same rules and leaves
the same audit trail as data typed by staff. The generator is seeded, so every fresh
local stack gets the same people.

Seeding runs once per local database: it is skipped when the demo tenant already has a
venue. The venue is written first, so a seeding run cut short leaves a partial demo; start
over with ``python -m devtools.dev --reset``.
"""
from __future__ import annotations

import random
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEMO_TENANT = "theatre-lyon"
ZONE = ZoneInfo("Europe/Paris")
CONTACT_COUNT = 200

SHOWS = [  # name, family, hall, performances, full price in cents
    ("Cyrano de Bergerac", "Théâtre", "grande", 4, 3400),
    ("Le Misanthrope", "Théâtre", "grande", 3, 3000),
    ("La Voix humaine", "Théâtre", "studio", 3, 2200),
    ("Les Quatre Saisons", "Musique", "grande", 2, 3800),
    ("Boléro et autres danses", "Danse", "grande", 2, 3600),
]
HALL_CAPACITY = {"grande": 450, "studio": 120}
FIRST_NAMES = ["Camille", "Léa", "Manon", "Chloé", "Inès", "Zoé", "Élodie", "Margaux", "Océane", "Anaïs",
               "Lucas", "Hugo", "Théo", "Louis", "Mathéo", "Jules", "Gabriel", "Raphaël", "Étienne", "Noël",
               "Hélène", "Françoise", "Cécile", "Agnès", "Benoît", "François", "Jérôme", "Loïc", "Gaël", "Aurélien"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
              "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Faure",
              "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu"]
FEMININE = {"Camille", "Léa", "Manon", "Chloé", "Inès", "Zoé", "Élodie", "Margaux", "Océane", "Anaïs", "Hélène",
            "Françoise", "Cécile", "Agnès"}
STREETS = ["rue de la République", "rue Mercière", "quai Saint-Antoine", "montée de la Grande-Côte",
           "rue Victor-Hugo", "cours Franklin-Roosevelt", "rue Paul-Bert", "place des Terreaux",
           "rue de Brest", "avenue Jean-Jaurès", "rue Saint-Jean", "boulevard des Belges"]


def seed_demo_if_missing() -> bool:
    """Seed the demo tenant unless it already has a venue; ``True`` if it seeded now."""
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shared.actors import Actor

    actor = Actor.system(DEMO_TENANT, "demo-seed")
    if catalog.venues.list(actor, limit=1, cursor=None).items:
        return False
    seed_demo(actor)
    return True


def seed_demo(actor, today: date | None = None) -> None:
    from chalicelib.adapters import clock

    today = today or clock.now().astimezone(ZONE).date()
    halls = _venues(actor)
    _seat_categories(actor, halls["grande"])
    _sales_channels(actor)
    season = _season(actor, today)
    families = _families(actor)
    offered = [_show(actor, show, season.id, families, halls, first_day=today + timedelta(days=7 + 9 * index))
               for index, show in enumerate(SHOWS)]
    _subscription(actor, season.id, families["Théâtre"], offered)
    _contacts(actor, random.Random(2024))
    _follow_up(actor)


def _create(create, schema, fields: dict):
    """Validate like the API does, then call the service as its handler would."""
    return create(schema.model_validate(fields).model_dump())


def _venues(actor) -> dict:
    from chalicelib.schemas.catalog import VenueIn
    from chalicelib.services.catalog import catalog

    common = {"address": "4 montée des Traboules", "city": "Lyon", "country": "FR", "timezone": "Europe/Paris"}
    return {
        "grande": _create(lambda f: catalog.venues.create(actor, f), VenueIn,
                          {"name": "Théâtre des Traboules — Grande salle", **common}),
        "studio": _create(lambda f: catalog.venues.create(actor, f), VenueIn,
                          {"name": "Théâtre des Traboules — Studio", **common}),
    }


def _seat_categories(actor, venue) -> None:
    from chalicelib.schemas.catalog import SeatCategoryIn
    from chalicelib.services.catalog import catalog

    for name, color in (("Catégorie 1", "#B22222"), ("Catégorie 2", "#1E6FB2"), ("Strapontins", "#888888")):
        _create(lambda f: catalog.seat_categories.create(actor, f), SeatCategoryIn,
                {"venue_id": venue.id, "name": name, "color": color})


def _sales_channels(actor) -> None:
    from chalicelib.schemas.catalog import SalesChannelIn
    from chalicelib.services.catalog import catalog

    for name, kind in (("Guichet du théâtre", "box_office"), ("Billetterie en ligne", "web"),
                       ("Office de tourisme de Lyon", "partner")):
        _create(lambda f: catalog.sales_channels.create(actor, f), SalesChannelIn, {"name": name, "kind": kind})


def _season(actor, today: date):
    from chalicelib.schemas.catalog import SeasonIn
    from chalicelib.services.catalog import catalog

    # A theatre season runs from September to June; the demo one contains today.
    first_year = today.year if today.month >= 8 else today.year - 1
    starts_on, ends_on = date(first_year, 9, 1), date(first_year + 1, 6, 30)
    if not starts_on <= today + timedelta(days=60) <= ends_on:  # summer: make room for the shows
        starts_on, ends_on = today, today + timedelta(days=300)
    return _create(lambda f: catalog.seasons.create(actor, f), SeasonIn,
                   {"name": f"Saison {starts_on.year}-{ends_on.year}", "starts_on": starts_on, "ends_on": ends_on})


def _families(actor) -> dict:
    from chalicelib.schemas.catalog import ProductFamilyIn
    from chalicelib.services.catalog import catalog

    return {name: _create(lambda f: catalog.product_families.create(actor, f), ProductFamilyIn, {"name": name}).id
            for name in ("Théâtre", "Musique", "Danse")}


def _evening(day: date) -> datetime:
    return datetime.combine(day, time(20, 0), tzinfo=ZONE)


def _show(actor, show: tuple, season_id: str, families: dict, halls: dict, first_day: date) -> dict:
    """The show, its tariffs, performances and quotas; its first performance's "Vente" quota, as a
    subscription offers it."""
    from chalicelib.schemas.catalog import PerformanceIn, ProductIn, QuotaIn, TariffIn
    from chalicelib.services.catalog import catalog

    name, family, hall, performances, full_price = show
    product = _create(lambda f: catalog.products.create(actor, f), ProductIn,
                      {"kind": "show", "name": name, "family_id": families[family], "season_id": season_id})
    for tariff, price in (("Plein tarif", full_price), ("Tarif réduit", full_price * 7 // 10),
                          ("Moins de 26 ans", 1200)):
        _create(lambda f: catalog.tariffs.create(actor, f), TariffIn,
                {"product_id": product.id, "name": tariff, "price_cents": price, "currency": "EUR"})
    venue = halls[hall]
    for number in range(performances):
        performance = _create(lambda f: catalog.create_performance(actor, f), PerformanceIn,
                              {"product_id": product.id, "venue_id": venue.id,
                               "starts_at": _evening(first_day + timedelta(days=number))})
        invitations = 20
        quotas = [_create(lambda f: catalog.quotas.create(actor, f), QuotaIn,
                          {"performance_id": performance.id, "name": quota, "capacity": capacity})
                  for quota, capacity in (("Vente", HALL_CAPACITY[hall] - invitations), ("Invitations", invitations))]
        if number == 0:
            offered = {"performance_id": performance.id, "quota_id": quotas[0].id}
    return offered


def _subscription(actor, season_id: str, family_id: str, offered: list[dict]) -> None:
    """The season's subscription: four of the shows' first performances, a new RFID card (the
    local stack's simulated printer prints it) or the other modes, at once or in 3 instalments."""
    from chalicelib.schemas.catalog import ProductIn, TariffIn
    from chalicelib.schemas.subscriptions import TermsIn
    from chalicelib.services.catalog import catalog
    from chalicelib.services.subscriptions import terms

    product = _create(lambda f: catalog.products.create(actor, f), ProductIn,
                      {"kind": "subscription", "name": "Abonnement 4 spectacles", "family_id": family_id,
                       "season_id": season_id, "tacit_renewal": True,
                       "description": "Quatre spectacles au choix dans la saison, renouvelé chaque année."})
    for tariff, price in (("Abonnement plein", 10800), ("Abonnement réduit", 7600)):
        _create(lambda f: catalog.tariffs.create(actor, f), TariffIn,
                {"product_id": product.id, "name": tariff, "price_cents": price, "currency": "EUR"})
    _create(lambda f: terms.set_terms(actor, product.id, f), TermsIn, {
        "performances": offered, "choose": min(4, len(offered)),
        "delivery_modes": ["new_card", "reload_card", "print_at_home", "box_office"],
        "payment_plans": [{"id": "once", "label": "Comptant", "instalments": 1},
                          {"id": "3x", "label": "En 3 fois", "instalments": 3, "day_of_month": 5}]})


def _ascii(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return bare.lower().replace(" ", "-")


def demo_contact(rng: random.Random, index: int) -> dict:
    """One plausible Lyon spectator (fields as the contacts API takes them)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    language = "en" if index % 17 == 0 else "fr"
    return {
        "title": "Mme" if first in FEMININE else "M.",
        "first_name": first,
        "last_name": last,
        "language": language,
        "emails": [{"address": f"{_ascii(first)}.{_ascii(last)}{index}@example.org",
                    "newsletter_consent": rng.random() < 0.6}],
        "phones": [{"number": _mobile(rng), "kind": "mobile"}],
        "addresses": [{"kind": "home", "line1": f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
                       "postcode": f"6900{rng.randrange(1, 10)}", "city": "Lyon", "country": "FR"}],
        "criteria": {"Abonné fidèle": "oui"} if rng.random() < 0.15 else {},
    }


def _mobile(rng: random.Random) -> str:
    """A French mobile number written as people do, in a range that is actually assigned."""
    from chalicelib.values.phones import e164

    while True:
        number = f"+33 {rng.choice('67')} " + " ".join(f"{rng.randrange(100):02d}" for _ in range(4))
        try:
            e164(number)
            return number
        except ValueError:
            continue


def _contacts(actor, rng: random.Random) -> None:
    from chalicelib.schemas.contacts import ContactIn
    from chalicelib.services.contacts import contacts

    people = [demo_contact(rng, index) for index in range(1, CONTACT_COUNT + 1)]
    # Each contact is its own audited transaction; a few in parallel keep `make dev` start-up short.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda fields: _create(lambda f: contacts.create_contact(actor, f), ContactIn, fields), people))


def _follow_up(actor) -> None:
    """The venue's follow-up policy (remind 3 days before the deadline, release 1 day after it) and
    options of the first performance held by the first contacts (see the module's docstring)."""
    from chalicelib.adapters import clock
    from chalicelib.schemas.options import PolicyIn
    from chalicelib.schemas.orders import OrderIn
    from chalicelib.services.catalog import catalog
    from chalicelib.services.contacts import contacts
    from chalicelib.services.options import marks, schedule
    from chalicelib.services.orders import orders

    schedule.save_policy(actor, PolicyIn.model_validate({"remind_days_before": 3, "release_days_after": 1})
                         .model_dump(), retime=False)  # no option yet: nothing to re-time
    performance = catalog.list_performances(actor, limit=1, cursor=None).items[0]
    tariff = catalog.tariffs.list(actor, limit=1, cursor=None, product_id=performance.product_id).items[0]
    quota = next(quota for quota in catalog.quotas.list(actor, limit=5, cursor=None, performance_id=performance.id)
                 .items if quota.name == "Vente")
    people = contacts.list_contacts(actor, name_prefix=None, limit=4, cursor=None).items
    now = clock.now()
    made = []
    for person, kind, deadline, places in zip(people, ("option", "option", "option", "reservation"),
                                              (now - timedelta(days=2), now + timedelta(days=2),
                                               now - timedelta(days=2), now + timedelta(days=12)), (2, 1, 4, 3)):
        draft = OrderIn.model_validate({
            "kind": kind, "payment_type": "cheque", "deadline": deadline.isoformat(),
            "buyer": {"contact_id": person.id, "first_name": person.first_name, "last_name": person.last_name,
                      "email": person.emails[0].address, "language": person.language},
            "lines": [{"performance_id": performance.id, "tariff_id": tariff.id, "quota_id": quota.id}] * places})
        made.append(orders.place_order(actor, draft.model_dump())[0])
    marks.lock(actor, [f"{made[2].id}-001"], "Groupe scolaire : le chèque arrive")
