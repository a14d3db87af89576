"""The public shop (spectators, no login): the cart, and the geographic limits a sale must pass.

- the cart: adding a performance with its tariff and quantity (and seats), changing, removing,
  the total, then the card checkout; places held while in the cart (built beside this package's
  geographic limits, which it calls).
- :mod:`.geo_limits`: per performance, the countries or postcode prefixes whose buyers may not
  buy it, and the performance's unknown-location policy (staff create, list, change and delete
  them, audited); and :func:`~.geo_limits.check_location`, the check the cart runs when a
  buyer adds the performance (and again at checkout), which locates the connection's IP
  address (:mod:`chalicelib.adapters.geoip`) and refuses with the point of sale's message.

The rules (unknown addresses, missing postcodes, whole countries) are in ``docs/shop.md``.
"""
