from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS, UnknownDomain, get_domain
from matching import services


class Command(BaseCommand):
    help = (
        "Rewrite the key index (identity and blocking keys) and the stored matching "
        "features of every live source record from its canonical values: after a "
        "change to a domain's identity or blocking rules."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--domain", action="append", help=f"one of: {', '.join(DOMAINS)} (default: all)"
        )

    def handle(self, *args, **options):
        try:
            domains = [get_domain(name) for name in options["domain"] or DOMAINS]
        except UnknownDomain as error:
            raise CommandError(str(error)) from None
        for domain in domains:
            count = services.rebuild_index(domain)
            self.stdout.write(f"{domain.name}: {count} source records indexed")
