from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS, UnknownDomain, get_domain
from golden.models import GoldenRecord, SourceRecord
from matching import rematching, services
from matching.engine.scoring import Thresholds

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Re-run matching over every live record of a domain with the current parameters "
        "and report what would merge, split or enter review; without --dry-run, do it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True, help=f"one of: {', '.join(DOMAINS)}")
        parser.add_argument("--dry-run", action="store_true", help="report only; change nothing")
        parser.add_argument("--auto", type=float, help="automatic threshold to try")
        parser.add_argument("--review", type=float, help="review threshold to try")

    def handle(self, *args, **options):
        try:
            domain = get_domain(options["domain"])
        except UnknownDomain as error:
            raise CommandError(str(error)) from None
        if domain.matching is None:
            raise CommandError(f"the {domain.name} domain declares no fuzzy matching")
        thresholds = services.thresholds_for(domain)
        try:
            thresholds = Thresholds(
                auto=options["auto"] if options["auto"] is not None else thresholds.auto,
                review=options["review"] if options["review"] is not None else thresholds.review,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        model = services.current_model(domain, thresholds=thresholds)
        plan = rematching.plan(domain, model)
        self._report(plan, model, options["dry_run"])
        if options["dry_run"]:
            self.stdout.write("dry run: nothing changed")
            return
        rematching.apply(plan, model)
        self.stdout.write(
            f"done: {len(plan.merges)} merges, {len(plan.splits)} splits, "
            f"{len(plan.reviews)} review items"
        )

    def _report(self, plan, model, dry_run):
        verb = "would" if dry_run else "will"
        ids = dict(
            GoldenRecord.objects.filter(domain=plan.domain.name).values_list("pk", "global_id")
        )
        self.stdout.write(
            f"{plan.records:,} live {plan.domain.name} records; thresholds automatic "
            f"{model.thresholds.auto:g}, review {model.thresholds.review:g}; "
            f"parameters: {model.parameters.source}"
        )
        self.stdout.write(f"{verb} merge: {len(plan.merges)}")
        for goldens, _ in plan.merges[:SHOWN]:
            self.stdout.write("  " + " + ".join(ids[pk] for pk in goldens))
        self.stdout.write(f"{verb} split: {len(plan.splits)}")
        for golden, groups in plan.splits[:SHOWN]:
            parts = " | ".join(", ".join(_xref(pk) for pk in group) for group in groups)
            self.stdout.write(f"  {ids[golden]}: {parts}")
        self.stdout.write(f"{verb} enter review: {len(plan.reviews)}")
        for a, b, probability, _ in plan.reviews[:SHOWN]:
            self.stdout.write(f"  {_xref(a)} ~ {_xref(b)} ({probability:.3f})")
        if plan.kept_merged:
            self.stdout.write(f"kept as stewards merged them (not split): {len(plan.kept_merged)}")
        if plan.kept_apart:
            self.stdout.write(f"kept apart as stewards split them: {len(plan.kept_apart)}")


def _xref(pk: int) -> str:
    record = SourceRecord.objects.select_related("system").get(pk=pk)
    return f"{record.system.code}:{record.source_key}"
