"""Cross-cutting pieces every domain uses: clock, permissions, audit, errors, pagination, i18n."""
