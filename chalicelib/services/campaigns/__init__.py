"""Postponing or cancelling a performance (DOMAIN §1): the campaign, its affected
customers, the notices, the refund page and the delivery diagnosis.

- :mod:`.campaigns`: the campaign (the performance postponed or cancelled, the refund
  deadline, the choices offered) and the job gathering its affected customers.
- :mod:`.affected_customers`: listing them as staff see them, notifying (a rate-limited job),
  reset, resend, the refund link, acting for a customer.
- :mod:`.refund_page`: what the refund page shows and what a choice does.
- :mod:`.refund_links`: the signed links of the refund page (the spectator's, staff's grant,
  the form's anti-forgery value).
- :mod:`.delivery_diagnosis` and :mod:`.delivery_statistics`: are the silent customers
  isolated cases or is a mail provider dropping our mails (the statistics are pure).
"""
