from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS, UnknownDomain, get_domain
from matching import services
from matching.train import DEFAULT_RANDOM_PAIRS, DEFAULT_SAMPLE, train


class Command(BaseCommand):
    help = (
        "Estimate the matching parameters of a domain from its records (EM, u from random "
        "pairs, steward decisions as known pairs) and store them as a new version."
    )

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True, help=f"one of: {', '.join(DOMAINS)}")
        parser.add_argument(
            "--sample", type=int, default=DEFAULT_SAMPLE, help="records to train on at most"
        )
        parser.add_argument("--random-pairs", type=int, default=DEFAULT_RANDOM_PAIRS)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--dry-run", action="store_true", help="print the estimates without storing them"
        )

    def handle(self, *args, **options):
        try:
            domain = get_domain(options["domain"])
            result = train(
                domain,
                sample=options["sample"],
                random_pairs=options["random_pairs"],
                seed=options["seed"],
                store=not options["dry_run"],
            )
        except (UnknownDomain, ValueError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(result.report)
        if result.stored is not None:
            self.stdout.write(
                f"stored as {domain.name} parameters version {result.stored.version}; "
                "matching uses them from now on"
            )
        else:
            current = services.current_model(domain)
            self.stdout.write(f"dry run: nothing stored (in use: {current.parameters.source})")
