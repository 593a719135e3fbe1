"""The IRO manager's quality assurance (annual report 2013-14 §9.2-9.3): chairing observations,
record audits against the agreed standards (config/audit.yaml), and their counts in the report."""
