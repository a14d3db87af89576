"""The customer record (DOMAIN §5, the field's "fiche client"): one contact seen whole, its
details, the facts the system filled apart from staff's criteria, its bookings, its credit and
donations, and its change history, each from the feature that owns it (contacts, orders, money,
the audit trail). It sits above those packages: nothing below it imports it.

- :mod:`.record`: the record's sections, read together.
- :mod:`.merge`: two records of one customer made one (a job, safe to run again).
- :mod:`.privacy`: everything held on a person (right of access), and erasing them (a job).
- :mod:`.segments`: staff's saved rules over the record, who meets them, their members as a file.
"""
