"""Building blocks for scripts/build_templates.py: page layout, letterhead, tables, text."""
