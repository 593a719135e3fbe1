"""Review mail-outs (issue 5): who gets which letter and form, checked, then queued all at once.

Modules: ``codes`` (form reference codes), ``plan`` (pure: participants → letters and reminders),
``preflight`` (pure checks before anything goes), ``documents`` (rendering a letter pack),
``service`` (the store: one transaction, unique keys), ``compose`` (the email composers),
``printing`` (the daily print batch) and ``jobs`` (the scheduler's mail-out and reminder scans).
"""
