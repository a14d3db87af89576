"""Orders (DOMAIN §2): placed, paid, listed, mailed, cancelled, exported.

- :mod:`.orders`: placing box-office sales, options and reservations (places and seats
  taken in one transaction), reading, buyer edits, marking paid, payments.
- :mod:`.status`: an order's status derived from its tickets and payment, and what staff may
  do in each (pure).
- :mod:`.details`: an order as staff read it.
- :mod:`.listing`: the listing entries that serve every filter and search, and the Queries.
- :mod:`.checkout`: card payment through a Stripe PaymentIntent (the shop, the card reader).
- :mod:`.cancellations`: cancelling tickets (final, felt at once everywhere).
- :mod:`.settlements`: writing a change of tickets and of their money atomically (what
  refunds, credit and donations build on).
- :mod:`.mails`: the confirmation and the team notifications.
- :mod:`.ticket_links`: the spectator's signed link to their tickets.
- :mod:`.selection`, :mod:`.bulk`, :mod:`.export`: bulk actions over selected or matching
  orders, as jobs (resend confirmations; the CSV export for Excel in French).
"""
