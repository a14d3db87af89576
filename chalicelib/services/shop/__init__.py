"""The public shop (spectators, no login): the cart, and the geographic limits a sale must pass.

- :mod:`.carts`: adding a performance with its tariff and quantity (or seats), changing,
  removing, the total, then the card checkout; places held from the moment they are in the cart
  until it is paid, emptied or its hold ends; bounded per cart and per client address.
- :mod:`.geo_limits`: per performance, the countries or postcode prefixes whose buyers may not
  buy it, and the performance's unknown-location policy (staff create, list, change and delete
  them, audited); and :func:`~.geo_limits.check_location`, the check the cart runs when a
  buyer adds the performance (and again at checkout), which locates the connection's IP
  address (:mod:`chalicelib.adapters.geoip`) and refuses with the point of sale's message.

The rules (unknown addresses, missing postcodes, whole countries) are in ``docs/shop.md``.
"""
