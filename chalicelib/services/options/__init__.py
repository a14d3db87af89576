"""Options and reservations follow-up (DOMAIN §3): find held orders by deadline, remind their
buyers, release or keep their places, lock lines, extend deadlines; and the schedule that runs
reminders and releases (and expires abandoned shop checkouts) on each venue's policy.

- :mod:`.listing`: the follow-up list (one row per order line), its filters and exact count.
- :mod:`.marks`: release marks (release / do not release) and locks, per line, audited.
- :mod:`.release`: releasing lines (their places back on sale), its preview.
- :mod:`.reminders`: the reminder mail, once per order per round.
- :mod:`.deadlines`: extending deadlines.
- :mod:`.bulk`: the jobs that do any of these for every matching line, or for what is due.
- :mod:`.schedule`: the venue's follow-up policy and the sweep that finds what is due.

The lines themselves, their counters and the due actions are written with their order by
:mod:`chalicelib.services.orders.follow_up`: this package reads them and acts through the
order's own writes, so every rule (a locked line is never released, a payment and a release
end in exactly one of the two) is held in one place. The design is in ``docs/options.md``.
"""
