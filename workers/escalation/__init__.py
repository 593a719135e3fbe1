"""Escalations (dispute resolution): the IRO's formal challenge, moving up stages until closed.

``machine`` is the pure state machine (no I/O); ``recipients`` works out who is told at each stage;
``service`` applies transitions to the store and plans the notice dispatches; ``timers`` is the
scheduler's periodic scan.
"""
