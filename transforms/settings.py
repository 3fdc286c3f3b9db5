"""Every setting the job reads from its environment, in one place.

Processor secrets are secret types (never printed in a repr, a log line or an error);
nothing here is written to the warehouse. Read afresh on each call, so a process (or a test
through monkeypatch.setenv) that changes the environment is seen at once.
"""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """STRIPE_API_KEY, STRIPE_API_BASE, ACH_ORIGIN_ROUTING, ACH_COMPANY_ID, ACH_COMPANY_NAME,
    BILLING_DUCKDB_MEMORY_LIMIT (names as in the README)."""

    model_config = SettingsConfigDict(extra="ignore")

    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None  # another Stripe server (a local fake in tests)
    ach_origin_routing: str = ""
    ach_company_id: str = ""
    ach_company_name: str = ""
    billing_duckdb_memory_limit: str | None = None  # e.g. 2GB


def current() -> Settings:
    return Settings()
