import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create (or reset) a data steward login for the admin and print it. The password "
        "comes from MDM_STEWARD_PASSWORD, or is generated."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="steward")

    def handle(self, *args, **options):
        password = os.environ.get("MDM_STEWARD_PASSWORD") or secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Steward login: {user.username} / {password}")
