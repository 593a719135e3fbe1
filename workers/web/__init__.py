"""`iro web`: server-rendered pages for business support, IROs and managers over the services.

``create_app`` (workers.web.app) builds the application; pages call the same service functions as
the CLI. Nothing here runs at import.
"""
