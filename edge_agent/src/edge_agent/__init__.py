"""The venue's card-printing agent: takes its site's print jobs from SQS, prints them on the
site's card printers, and reports each result and each printer's state back to the app.

The contract with the app is docs/card-printing-protocol.md; this package imports nothing
from the app (it runs on a venue's PC, not in Lambda)."""

AGENT_VERSION = "1.0.0"
