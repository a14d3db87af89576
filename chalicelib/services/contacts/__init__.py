"""The customers (contacts): their names, e-mails with consent, phones, addresses,
criteria and system-filled facts, and the rule that system facts survive staff edits.
The customer record (DOMAIN §5) grows here.

- :mod:`.contacts`: create, read, edit, list and find contacts; delivery facts noted by
  the mail pipeline.
"""
