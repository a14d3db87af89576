"""Season cards on RFID printers: the cloud's side (``docs/cards.md``; the messages it shares with
the venue's agent are fixed in ``docs/card-printing-protocol.md``).

A venue registers **sites** (a place with card printers and one edge agent, each with its own
SQS FIFO print queue, :mod:`.sites`) and their **printers** (:mod:`.printers`). Printing a
card for a subscription (:mod:`.printing`) writes a **print job**, renders the card's faces as
PNG (:mod:`.faces`, Pillow, imported only when a card is rendered) into the card-images bucket,
and sends the job to the site's queue (group = the printer, deduplication id = the job). The
agent prints and answers on the results queue; :mod:`.results` checks each answer's
signature (:mod:`.protocol`: a per-site agent key derived from the app's signing secret) and
applies it in state order, idempotently. A printed card's UID is bound to the subscription
(:mod:`.binding`), refused when another card of the venue holds it; a lost card is revoked;
the renewal's "reload existing card" binds the new season's subscription to the card the
holder has. At the door a UID admits its holder through the ticket check-in
(:mod:`.checkin`). Many cards at once are a job of the jobs framework (:mod:`.mass_print`).

Nothing is imported here: the cold start pays only for what a request uses.
"""
