"""Money going back to spectators (DOMAIN §2 refunds, §1 the refund page's choices).

- :mod:`.quotes`: what refunding some tickets would give back, before anything is done (the
  fee policy, each ticket's share of what was paid, the means).
- :mod:`.refunds`: refunds exactly once, by card through Stripe (claim, then call; resume by
  looking first) or offline to a checked IBAN; their states, follow-up and retries.
- :mod:`.customer_money`: credit (avoir) and donations instead of a refund, on the buyer's
  customer record; using credit.
"""
