"""The SSDA903 children-looked-after return: read its Header, Episodes and Reviews tables into
the store (``iro import 903``) and write the REVIEWS table back (``iro export 903-reviews``).

Column lists and rule numbers follow the DfE's SSDA903 guidance; nothing here depends on the
open validators, which a council may run beside it for the full rule set.
"""
