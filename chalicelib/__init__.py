"""The ticketing back office: everything the Lambda functions run besides ``app.py``."""
