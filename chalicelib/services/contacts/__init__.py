"""The customers (contacts): their names, e-mails with consent, phones, addresses,
criteria and system-filled facts, and the rule that system facts survive staff edits.
The customer record (DOMAIN §5) grows here.

- :mod:`.contacts`: create, read, edit, list contacts (each write carrying its search-index
  entries); delivery facts noted by the mail pipeline.
- :mod:`.search`: find anyone by anything in their record (the token index and its Queries).
- :mod:`.reindex`: the job that indexes a venue's contacts written before the index.
"""
