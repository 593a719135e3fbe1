"""The annual report figures: computed in the database, formatted as tables, csv, json or docx."""
