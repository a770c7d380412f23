import os

from mesa247 import embedded_postgres

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa247.settings")
# Without DATABASE_URL (a local gunicorn), the checkout's embedded PostgreSQL; before the settings read its socket.
embedded_postgres.start_unless_configured()

from django.core import checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

# gunicorn does not run system checks the way manage.py does; refuse to serve
# when a check finds an error (e.g. no webhook signing secret with DEBUG off).
_errors = [message for message in checks.run_checks(include_deployment_checks=False) if message.is_serious()]
if _errors:
    raise ImproperlyConfigured("System checks failed:\n" + "\n".join(str(message) for message in _errors))
