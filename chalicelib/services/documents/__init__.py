"""Printable order documents and what they carry.

- :mod:`.documents`: the ticket (with its check-in QR code), the receipt and the invoice, as
  self-contained HTML pages in French or English; the spectator's tickets page.
- :mod:`.invoices`: invoice figures per VAT rate, and the gapless invoice numbers.
- :mod:`.checkin`: the signed value a ticket's QR code carries, and the check at the door.
"""
