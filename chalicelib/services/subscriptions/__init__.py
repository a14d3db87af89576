"""Season subscriptions (DOMAIN §4): what a subscription product offers, selling subscriptions
(one payer, one or several holders, one order), and reading them. It sits above the catalog,
contacts, orders and money packages; nothing below it imports it.

- :mod:`.terms`: a product's subscription terms (performances and quotas, choice, delivery
  modes, payment plans).
- :mod:`.selling`: a sale of subscriptions, with the instalments the collector owes.
- :mod:`.subscriptions`: one subscription, and the lists staff follow them by.
"""
