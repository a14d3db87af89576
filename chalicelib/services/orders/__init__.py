"""Orders (DOMAIN §2): placed, paid, listed, mailed, cancelled, exported.

- :mod:`.orders`: placing box-office sales, options and reservations (places and seats
  taken in one transaction), reading, buyer edits, marking paid, payments.
- :mod:`.status`: an order's status derived from its tickets and payment, and what staff may
  do in each (pure).
- :mod:`.details`: an order as staff read it.
- :mod:`.listing`: the listing entries that serve every filter and search, and the Queries.
- :mod:`.follow_up`: an open option's or reservation's held lines, their day counters, and the
  schedule's due actions (reminders, releases, expiring checkouts), with the rule that a locked
  line is never released; :mod:`.derived` bundles them with the listing entries for every write
  of an order.
- :mod:`.checkout`: card payment through a Stripe PaymentIntent (the shop, the card reader, an
  option confirmed by card), and the expiry of an unpaid checkout.
- :mod:`.cancellations`: cancelling tickets (final, felt at once everywhere).
- :mod:`.settlements`: writing a change of tickets and of their money atomically (what
  refunds, credit and donations build on).
- :mod:`.mails`: the confirmation and the team notifications.
- :mod:`.ticket_links`: the spectator's signed link to their tickets.
- :mod:`.selection`, :mod:`.bulk`, :mod:`.export`: bulk actions over selected or matching
  orders, as jobs (resend confirmations; the CSV export for Excel in French).
"""
