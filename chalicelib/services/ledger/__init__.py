"""The money ledger and the sales figures it feeds.

- :mod:`.ledger`: one ledger entry per money fact, written in the caller's transaction
  with the daily metric rows it moves (sharded); :func:`~.ledger.scope_figures` is the one
  rule turning an entry into figures.
- :mod:`.metrics`: the figures staff read (per performance, show, season, tenant, over a
  period), and the reconciliation of a period against the ledger and Stripe.
"""
