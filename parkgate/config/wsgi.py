import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parkgate.config.settings")
application = get_wsgi_application()

from parkgate.config.startup import refuse_on_check_errors  # noqa: E402  (after Django is set up)

refuse_on_check_errors()
