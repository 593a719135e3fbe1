"""What happens when a review is held: timescales, the write-up clocks and the next review.

``timescale`` and ``clock`` and ``held`` are pure (dates in, dates out); ``service`` applies them to
the store; ``scan`` is the scheduler's periodic job for the write-up reminders and overdue notices.
"""
