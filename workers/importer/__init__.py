"""Import of children, reviews and participants from a case-management CSV export.

``format`` names the columns, ``values`` parses single fields, ``rows`` turns a whole file into an
``ImportPlan`` (pure, every error collected), and ``upsert`` writes a plan into the store.
The format is documented in docs/csv-format.md.
"""
