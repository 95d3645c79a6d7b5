from django.contrib import admin

from golden.admin import ReadOnlyAdminMixin

from .models import MatchKey


@admin.register(MatchKey)
class MatchKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["key", "domain", "source_record"]
    list_filter = ["domain"]
    search_fields = ["key"]
    list_select_related = ["source_record__system"]
