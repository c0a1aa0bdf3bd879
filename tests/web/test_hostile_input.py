"""Odd and hostile input on the HTML pages: a page with a message (400), never a 500."""

import pytest

from tests.api.test_hostile_input import PERIODS


@pytest.mark.parametrize("start,end,bad_fields", PERIODS[:2])
@pytest.mark.parametrize("csv", ["", "daily", "agents"])
def test_dashboard_and_csv_period_outside_the_supported_years_is_a_400(client_for, alpha, start, end, bad_fields, csv):
    response = client_for(alpha, alpha.carol).get(f"/dashboard/?period=custom&start={start}&end={end}&csv={csv}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Dates must be between 1970-01-01 and 2999-12-31." in response.content.decode()
