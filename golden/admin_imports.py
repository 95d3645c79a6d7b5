"""Admin for imports: import jobs and mapping profiles."""
