"""Mail transports (outbox, SMTP, EWS, Graph) and inbox readers, behind one small interface."""
