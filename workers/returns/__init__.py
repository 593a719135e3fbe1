"""Consultation returns (issue 5): replies matched to their form by reference code, bounces.

Modules: ``inbox`` (the message every reader gives and the reader interface), ``matching`` (pure:
a message → a return, a bounce or nothing), ``service`` (the store: record a return or a bounce,
call off that form's reminders), ``ews_inbox`` / ``graph_inbox`` (readers), ``poll`` (the
scheduler job), ``report`` (who returned what, and return rates).
"""
