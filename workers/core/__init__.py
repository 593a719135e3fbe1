"""The pure core: the clock every "today" comes from, working-day arithmetic, and the planning of
statutory review dates, mail-outs and write-up deadlines. No I/O: nothing here imports SQLAlchemy,
dramatiq, httpx or reads a file (tests/test_layout.py keeps it so)."""
