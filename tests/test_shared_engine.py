"""One DocumentEngine per templates folder per process, whoever asks for it."""

from __future__ import annotations

import os
from pathlib import Path

from workers.documents.engine import DocumentEngine, shared_engine

ROOT = Path(__file__).resolve().parent.parent


def test_the_same_folder_gives_the_same_engine_however_it_is_named(tmp_path: Path) -> None:
    engine = shared_engine(ROOT / "templates_docx")
    assert isinstance(engine, DocumentEngine)
    assert shared_engine(str(ROOT / "templates_docx")) is engine
    assert shared_engine(ROOT / "templates_docx" / ".." / "templates_docx") is engine
    here = Path.cwd()
    try:
        os.chdir(ROOT)
        assert shared_engine("templates_docx") is engine
    finally:
        os.chdir(here)
    assert shared_engine(tmp_path) is not engine


def test_the_shared_engine_renders_and_keeps_its_compiled_templates() -> None:
    from workers.documents.examples import example_context

    engine = shared_engine(ROOT / "templates_docx")
    first = engine.render("invitation", example_context("invitation"))
    assert first[:2] == b"PK"  # a .docx is a zip archive
    path = engine.template_path("invitation")
    assert engine.compiled(path) is shared_engine(ROOT / "templates_docx").compiled(path)
