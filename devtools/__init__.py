"""Development and test tooling: the local engines, the dev stack, token minting, demo data.

Never packaged into the Lambda (Chalice ships only ``app.py``, ``chalicelib`` and ``vendor``).
"""
