import json

from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS, UnknownDomain, get_domain
from golden.global_ids import GlobalIdError
from golden.lookup import find_by_xref, resolve_global_id, xrefs_of
from golden.policy import access_for_role_option
from golden.services import NotFound


class Command(BaseCommand):
    help = (
        "Show a golden record with every cross-reference: "
        "'lookup GLOBAL_ID' or 'lookup SYSTEM KEY --domain D'."
    )

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="a global ID, or a source system code")
        parser.add_argument("key", nargs="?", help="the source key (with a system code)")
        parser.add_argument("--domain", help=f"one of: {', '.join(DOMAINS)} (with SYSTEM KEY)")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument(
            "--role", help="show only the values this role may read (default: every value)"
        )

    def handle(self, *args, **options):
        try:
            if options["key"] is None:
                resolution = resolve_global_id(options["identifier"])
            else:
                if not options["domain"]:
                    raise CommandError("lookup SYSTEM KEY needs --domain")
                resolution = find_by_xref(
                    options["identifier"].upper(), options["domain"], options["key"]
                )
        except (GlobalIdError, NotFound, UnknownDomain) as error:
            raise CommandError(str(error)) from None

        golden = resolution.golden
        try:
            access = access_for_role_option(options["role"], golden.domain)
        except ValueError as error:
            raise CommandError(str(error)) from None
        values = golden.values if access is None else access.redact(golden.values)
        xrefs = xrefs_of(golden)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "requested": resolution.requested,
                        "global_id": golden.global_id,
                        "domain": golden.domain,
                        "status": golden.status,
                        "redirect_chain": resolution.chain if resolution.redirected else [],
                        "values": values,
                        "xrefs": [
                            {"system": xref.system.code, "source_key": xref.source_key}
                            for xref in xrefs
                        ],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        if resolution.redirected:
            self.stdout.write(
                f"{resolution.requested} was merged: " + " -> ".join(resolution.chain)
            )
        self.stdout.write(
            f"{golden.global_id}  {golden.domain}  {golden.status}  v{golden.version}"
        )
        if access is None:
            self.stdout.write(f"  {golden.display_name}")
        else:
            self.stdout.write(f"  {get_domain(golden.domain).display_name(values)}")
        for name, value in values.items():
            shown = "; ".join(value) if isinstance(value, list) else value
            self.stdout.write(f"    {name}: {shown}")
        self.stdout.write(f"  cross-references ({len(xrefs)}):")
        for xref in xrefs:
            self.stdout.write(f"    {xref.system.code}:{xref.source_key}")
