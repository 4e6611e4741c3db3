from datetime import datetime, timezone

import pytest

from runtime.cron import Cron, CronError


def at(*a):
    return datetime(*a, tzinfo=timezone.utc)


def test_cron_next():
    assert Cron("*/15 * * * *").next_after(at(2024, 1, 1, 10, 7)) == at(2024, 1, 1, 10, 15)
    assert Cron("0 3 * * mon").next_after(at(2024, 1, 1, 3, 0)) == at(2024, 1, 8, 3, 0)
    assert Cron("30 0 0 1 * *").next_after(at(2024, 1, 31)) == at(2024, 2, 1, 0, 0, 30)
    with pytest.raises(CronError):
        Cron("61 * * * *")
