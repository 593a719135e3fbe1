"""Configuration: service.yaml, rules.yaml, directory.yaml and the IRO_* variables turned into
frozen, validated objects, with file:line:field errors (settings, rules and their cross-field
checks, directory, the YAML reader, and the offsets rules are written in)."""
