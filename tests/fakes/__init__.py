"""Real-protocol peers for the tests: an SMTP server, an EWS SOAP endpoint, a Graph endpoint."""
