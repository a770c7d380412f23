import os

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa247.settings")

application = get_wsgi_application()

# gunicorn does not run system checks the way manage.py does; refuse to serve
# when a check finds an error (e.g. no webhook signing secret with DEBUG off).
_errors = [message for message in checks.run_checks(include_deployment_checks=False) if message.is_serious()]
if _errors:
    raise ImproperlyConfigured("System checks failed:\n" + "\n".join(str(message) for message in _errors))
