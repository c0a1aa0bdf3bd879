#!/usr/bin/env bash
# Run the whole system on a seeded demo tenant: web (port 8000), Celery worker and beat. Ctrl-C stops all.
# A worker or beat that exits is restarted (scripts/supervise.sh); the demo ends when the web server does.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
. .venv/bin/activate
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-helpdesk.settings.local}
export DEMO_PASSWORD=${DEMO_PASSWORD:-$(python -c 'import secrets; print(secrets.token_urlsafe(9))')}

python manage.py setup_databases
python manage.py collectstatic --noinput -v 0
python manage.py provision_demo --complaints "${DEMO_COMPLAINTS:-3000}" --months "${DEMO_MONTHS:-12}"
# Fills read models added since the demo was first seeded (and proves the demo's figures consistent).
python manage.py rebuild_projections --schema demo

. scripts/supervise.sh
trap stop_all INT TERM EXIT
restart_forever worker celery -A helpdesk worker --loglevel INFO --concurrency 2
restart_forever beat celery -A helpdesk beat --loglevel WARNING --schedule var/celerybeat-schedule
# One metrics directory for all gunicorn workers, emptied at each start (helpdesk/metrics.py).
export PROMETHEUS_MULTIPROC_DIR="$PWD/var/prometheus"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# This machine only, unless HELPDESK_BIND says otherwise (e.g. HELPDESK_BIND=0.0.0.0:8000 behind a firewall).
export HELPDESK_BIND=${HELPDESK_BIND:-127.0.0.1:8000}
gunicorn helpdesk.wsgi:application -c helpdesk/gunicorn.conf.py --access-logfile - &
web=$!
pids+=("$web")

cat <<MSG

  Helpdesk is running: http://demo.localhost:8000/  (dashboard: /dashboard/, API docs: /api/docs/)
  Users: admin, manager, agent    Password: ${DEMO_PASSWORD}
  Tenant provisioning admin: http://localhost:8000/admin/  (create a superuser with manage.py createsuperuser)
  Ctrl-C stops everything.

MSG
wait "$web"
