from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS
from golden.policy import access_for_role_option
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
        parser.add_argument(
            "--role", help="show only what this role may read (default: everything)"
        )

    def handle(self, *args, **options):
        try:
            a = resolve(options["a"], options["domain"])
            b = resolve(options["b"], options["domain"])
            access = access_for_role_option(options["role"], a.domain.name)
            self.stdout.write(explain(a, b, access=access))
        except (ExplainError, ValueError) as error:
            raise CommandError(str(error)) from None
