"""Files given to `iro import 903` → tables: CSV by their header's columns, XML (EXPSSDA903) by
its elements. Each file is size-checked before it is read."""

from __future__ import annotations

from pathlib import Path

from workers.errors import BadInputError
from workers.ssda903.tables import Table, read_table


def read_files(paths: list[Path], max_bytes: int) -> list[Table]:
    from workers.ssda903.xmlfile import read_xml

    tables: list[Table] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise BadInputError(f"{path}: {size} bytes is larger than a 903 table can be "
                                    f"({max_bytes}); is it the right file?")
            data = path.read_bytes()
        except OSError as exc:
            raise BadInputError(f"{path}: cannot read the file ({exc.strerror})") from None
        if path.suffix.lower() == ".xml" or data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
            found = read_xml(data, str(path))
        else:
            found = [read_table(data, str(path))]
        for table in found:
            if table.name in seen:
                raise BadInputError(f"{path}: a second {table.name} table (the first is "
                                    f"{seen[table.name]}); give each table once")
            seen[table.name] = str(path)
        tables += found
    return tables
