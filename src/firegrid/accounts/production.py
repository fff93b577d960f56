"""Refuse to run in production with a default or demo secret."""

from __future__ import annotations

from firegrid.accounts.errors import InsecureConfiguration
from firegrid.core.settings import DEFAULT_SECRET, Settings

MIN_SECRET_LENGTH = 32

# Secrets that appear in the repository, its docs or its demo: never acceptable in production.
KNOWN_DEMO_SECRETS = frozenset(
    {
        DEFAULT_SECRET,
        "change-me",
        "changeme",
        "secret",
        "firegrid",
        "firegrid-demo",
        "firegrid-demo-secret",
        "firegrid-test-secret",
        "test-secret",
    }
)


def production_problems(settings: Settings) -> list[str]:
    """What makes ``settings`` unfit for production (empty outside production)."""
    if not settings.is_production:
        return []
    problems: list[str] = []
    secret = settings.secret_key.get_secret_value()
    if secret == DEFAULT_SECRET or secret.strip().lower() in KNOWN_DEMO_SECRETS:
        problems.append(
            "FIREGRID_SECRET_KEY is the default or a published demo secret; set a random one, "
            'e.g. `python -c "import secrets; print(secrets.token_urlsafe(48))"`'
        )
    elif len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            f"FIREGRID_SECRET_KEY is {len(secret)} characters; use at least {MIN_SECRET_LENGTH} "
            "random characters"
        )
    return problems


def check_production_settings(settings: Settings) -> None:
    """Raise :class:`InsecureConfiguration` when production runs with an unsafe secret."""
    problems = production_problems(settings)
    if problems:
        raise InsecureConfiguration("refusing to start in production: " + "; ".join(problems))
