"""The council's today: London's date, whatever zone the server's clock is set to.

A server on UTC is an hour behind London all summer; between midnight and 1 am BST its
``date.today()`` is yesterday, and a step recorded then would be back-dated by a day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london_today() -> dt.date:
    return dt.datetime.now(LONDON).date()
