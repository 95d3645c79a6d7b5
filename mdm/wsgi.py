import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")

application = get_wsgi_application()


def _settle() -> None:
    """Load the URL patterns (and with them every view module) now, then move all
    objects alive at start-up out of the cycle collector's way: they live as long as
    the process, and rescanning them in every full collection costs each request
    that allocates much (a batch lookup) a noticeable share of its time."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the views
    gc.collect()
    gc.freeze()


_settle()
