"""Mail: every feature sends through here, and every delivery event comes back here.

- :mod:`.sending`: ``send_mail``, the one way to mail someone (idempotent, rate-limited,
  content-checked, recorded as a notification); resend; previews; a venue's wording.
- :mod:`.rendering`: a template, a language and a context become subject, text and HTML.
- :mod:`.content`: the content rules a notice keeps to (one link, no address, no image...).
- :mod:`.notifications`: the notification records (one per mail) and the staff listings.
- :mod:`.status`: what a mail's status is, and what an SES event says (pure).
- :mod:`.events`: SES events arriving by SNS, applied once, in any order, to the mail's
  status and to the address's standing.
- :mod:`.recipients`: the standing of each address (known to bounce, complained), which
  senders consult and events keep (the ``MailRecipient`` table).
- :mod:`.send_rate`: the sending rate, shared by every sender through DynamoDB.
"""
