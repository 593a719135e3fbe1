"""The tracking store: tables (``models``), sessions and migrations (``session``), ``audit``.

The store is the truth. Callers own transactions: functions take a ``Session`` and do not commit
unless their name says so.
"""
