from django.core.management.base import BaseCommand, CommandError

from api.keys import ApiKeyError, create_api_key
from golden.models import SourceSystem


class Command(BaseCommand):
    help = "Create an API key for a source system and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("system", help="source system code, e.g. ERP")
        parser.add_argument("--role", help="the key's role (a group), e.g. integration")
        parser.add_argument("--expires", type=int, metavar="DAYS", help="valid for DAYS days")
        parser.add_argument("--name", default="", help="what the key is for")

    def handle(self, *args, **options):
        code = options["system"].strip().upper()
        system = SourceSystem.objects.filter(code=code).first()
        if system is None:
            raise CommandError(f"unknown source system '{code}'")
        try:
            key, plain = create_api_key(
                system, role=options["role"], expires_days=options["expires"], name=options["name"]
            )
        except ApiKeyError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(plain)
        expiry = f", expires {key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else ""
        self.stderr.write(
            f"API key {key.prefix} for {system.code} (role {key.role or 'none'}{expiry}); "
            "store it now: it cannot be shown again."
        )
