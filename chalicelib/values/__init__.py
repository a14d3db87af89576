"""Pure value rules shared by schemas and services, with no I/O: bank accounts (IBAN), French
company ids (SIRET, VAT), mail addresses, cents arithmetic, text folding for search, and
amounts and dates as people read them."""
