from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS
from matching.explaining import ExplainError, explain, resolve


class Command(BaseCommand):
    help = (
        "Explain the match between two records: each attribute's level and weight, the "
        "probability and the decision. A and B are global IDs or SYSTEM:KEY."
    )

    def add_arguments(self, parser):
        parser.add_argument("a", help="global ID or SYSTEM:KEY")
        parser.add_argument("b", help="global ID or SYSTEM:KEY")
        parser.add_argument(
            "--domain", help=f"one of: {', '.join(DOMAINS)} (when a key is in several)"
        )

    def handle(self, *args, **options):
        try:
            a = resolve(options["a"], options["domain"])
            b = resolve(options["b"], options["domain"])
            self.stdout.write(explain(a, b))
        except ExplainError as error:
            raise CommandError(str(error)) from None
