"""iro-workers: the paperwork of an Independent Reviewing Officer service, done by queue workers."""

__version__ = "0.1.0"
