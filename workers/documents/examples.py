"""Example data per kind (examples/template-data/*.yaml) for trial renders and `templates render`.

``_common.yaml`` holds values every kind shares; ``KIND.yaml`` is merged over it (nested mappings
merge, everything else replaces).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workers.errors import BadInputError

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "template-data"


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_data(path: Path) -> dict[str, Any]:
    """A YAML mapping of field values; a clear error names the file and line when it is wrong."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", exc)
        raise BadInputError(f"{path}{line}: not valid YAML: {reason}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInputError(f"{path}:1: expected a mapping of field names to values")
    return data


def example_context(kind: str, examples_dir: Path = EXAMPLES_DIR) -> dict[str, Any]:
    common = examples_dir / "_common.yaml"
    base = load_data(common) if common.exists() else {}
    own = examples_dir / f"{kind}.yaml"
    return merge(base, load_data(own)) if own.exists() else base
