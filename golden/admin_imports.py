"""Admin for imports: import jobs and mapping profiles."""

from __future__ import annotations

import yaml
from django import forms
from django.contrib import admin

from .domains import get_domain
from .importing.mapping import MappingError, load_profile_text, parse_mapping
from .models import MappingProfile

PROFILE_HELP = (
    "YAML or JSON: <code>key</code> (the source column of the key) and "
    "<code>attributes</code> (attribute: column or rule), e.g.<br><code>key: Kundennr<br>"
    "attributes:<br>&nbsp;&nbsp;first_name: Vorname<br>&nbsp;&nbsp;birth_date: "
    "{column: Geb.datum, date_format: '%d.%m.%Y'}</code><br>Checked against the domain on "
    "save; the name and description above are the profile's (a <code>name</code> or "
    "<code>description</code> in the text is not kept). See docs/mapping.md."
)


def profile_text(spec: dict) -> str:
    """A stored spec as the YAML shown for editing."""
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=100)


class MappingProfileForm(forms.ModelForm):
    """Edits the spec as YAML or JSON text, validated by the profile parser on save."""

    spec_text = forms.CharField(
        label="profile",
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "style": "font-family: monospace"}),
        help_text=PROFILE_HELP,
    )

    class Meta:
        model = MappingProfile
        fields = ["system", "domain", "name", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.spec:
            self.fields["spec_text"].initial = profile_text(self.instance.spec)

    def clean(self):
        cleaned = super().clean()
        text, domain = cleaned.get("spec_text"), cleaned.get("domain")
        if not text or not domain:
            return cleaned
        try:
            mapping = parse_mapping(load_profile_text(text), get_domain(domain))
        except MappingError as error:
            self.add_error("spec_text", str(error))
            return cleaned
        self.instance.spec = mapping.to_json()
        return cleaned


@admin.register(MappingProfile)
class MappingProfileAdmin(admin.ModelAdmin):
    form = MappingProfileForm
    list_display = ["system", "domain", "name", "updated_at"]
    list_filter = ["domain", "system"]
    list_select_related = ["system"]
    search_fields = ["name", "system__code"]
    fields = ["system", "domain", "name", "description", "spec_text", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]
