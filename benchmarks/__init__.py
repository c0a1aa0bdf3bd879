"""The benchmark: the read-model design against the single-database way (`make bench`, `python -m benchmarks`).

    __main__   the command line            run        which scenario runs at which size
    tenant     the bench tenant, grown     processes  gunicorn and a Celery worker under the bench settings
    stats      percentiles, timing         report     the printed table
    scenarios/ one module per measured thing (read models, write isolation, lag, freshness, staff lists,
               dashboards polling, many tenants, importing, growth, two checkouts side by side)
    views, urls  the single-database summary endpoint, routed only under helpdesk.settings.bench

Not part of the application: outside benchmarks/ only helpdesk.settings.bench (its URLs) and tests name it, those
of the benchmark itself and one that holds the same unrelated open transaction as its freshness scenario.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout
