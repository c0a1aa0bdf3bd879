"""The benchmark: the read-model design against the single-database way (`make bench`, `python -m benchmarks`).

    __main__   the command line            run        which scenario runs at which size
    tenant     the bench tenant, grown     processes  gunicorn and a Celery worker under the bench settings
    stats      percentiles, timing         report     the printed table
    scenarios/ one module per measured thing (read models, write isolation, lag, freshness, staff lists,
               dashboards polling, many tenants, importing)
    views, urls  the single-database summary endpoint, routed only under helpdesk.settings.bench

Not part of the application: nothing outside benchmarks/ imports it but the settings for the benchmark and the
tests of the benchmark itself.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout
