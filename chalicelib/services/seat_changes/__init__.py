"""Seat changes (DOMAIN §4, "Seat change for a subscription"; the field's "Modification de la
place d'un abonnement"): staff move a ticket to another seat, for one performance of an order
or for every future performance of a subscription in one action, saying whether the buyer or
the institution asked. It sits above orders, money and subscriptions (it refunds a price
difference through the money package's refunds); nothing imports it.

- :mod:`.common`: what both kinds share: the change record and its idempotency, the rules a new
  seat must meet, the price difference (charged, refunded, owed with the order, or waived), the
  money records, and the buyer's mail with the updated tickets.
- :mod:`.ticket`: one performance, in one transaction.
- :mod:`.subscription`: every future performance of a subscription, all or nothing, in as many
  writes as it takes (claim every new seat, switch the tickets, settle), resumed or rolled back
  by the next attempt of the same change.

``docs/seat-changes.md`` states the rules.
"""
