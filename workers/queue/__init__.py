"""The machinery that moves a dispatch from the store to a transport, exactly once.

    scheduler ──(due ids)──▶ Redis ──▶ actor ──▶ dispatcher ──▶ composer ──▶ transport
       │ scans, reminders,                 │ claims the row,       │ builds the     │ SMTP, EWS,
       │ reconciler (lost/stuck            │ rate slot, journal,   │ letter (PDF)   │ Graph,
       ▼ messages)                         ▼ marks sent/failed     ▼                ▼ outbox
                           the store (PostgreSQL / SQLite) is the truth

``scheduler`` runs the periodic jobs (``loops``), ``broker``/``actors`` carry ids through Redis
(``ledger`` and ``recovery`` find lost or stuck messages), ``dispatching`` claims and sends one
dispatch through the composer ``compose`` registers, recording it in the ``send_journal`` so a
crash or an outage never sends twice; ``once`` is `iro run --once`, ``retries`` re-queues failures,
``outage`` logs a failing dependency once, ``assembly`` wires every composer and job at start-up.
"""
