"""What is sold, where and when, and who sells it.

- :mod:`.catalog`: venues, seasons, product families, products (shows, packages,
  subscriptions), performances, tariffs, quotas (contingents) with their places taken and
  given back atomically, seat categories, seats and sales channels, with the rules that tie
  them together.
- :mod:`.organisation`: the organisation profile (the seller on invoices and mails).
- :mod:`.team`: the team notification rules (which staff are mailed on new orders).
"""
