"""Settings for the referral desk, read once from the environment.

Outside development and tests the desk refuses to start without explicit keys, or when any two of
them are equal: the linkage key must not be able to decrypt, and the encryption key must not be
able to forge the audit chain. In development the keys are created once in the instance folder
(which is never committed) and the desk says so.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS = ("development", "test", "production")
KEY_BYTES = 32


def _base_url(env: Mapping[str, str]) -> str:
    """Where e-mailed links point. Unset, it is the development server's own address, on the
    ``PORT`` that ``make run`` serves on (so links in the mail catcher open the desk)."""
    if env.get("BASE_URL"):
        return env["BASE_URL"].rstrip("/")
    return f"http://127.0.0.1:{env.get('PORT') or 5000}"


class ConfigError(RuntimeError):
    """The environment does not describe a desk that is safe to start."""


def _decode_key(name: str, text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{name} is not valid base64") from exc
    if len(raw) < KEY_BYTES:
        raise ConfigError(f"{name} must hold at least {KEY_BYTES} random bytes (base64)")
    return raw


def _encode_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_encryption_keys(text: str) -> tuple[str, dict[str, bytes]]:
    """Parse ``ENCRYPTION_KEYS``: ``id:base64[,id:base64...]``, the first being the active key."""
    keys: dict[str, bytes] = {}
    active = ""
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key_id, sep, material = part.partition(":")
        if not sep or not key_id.isalnum() or len(key_id) > 16:
            raise ConfigError(
                "ENCRYPTION_KEYS entries look like k1:BASE64 (an id of letters/digits)"
            )
        if key_id in keys:
            raise ConfigError(f"ENCRYPTION_KEYS names key {key_id!r} twice")
        keys[key_id] = _decode_key(f"ENCRYPTION_KEYS[{key_id}]", material)
        active = active or key_id
    if not keys:
        raise ConfigError("ENCRYPTION_KEYS is empty")
    return active, keys


def _development_keys(instance_path: Path) -> dict[str, str]:
    """Create (once) and return the development keys kept in the instance folder."""
    path = instance_path / "dev-keys.json"
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    instance_path.mkdir(parents=True, exist_ok=True)
    keys = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": "dev1:" + _encode_key(secrets.token_bytes(KEY_BYTES)),
        "LINKAGE_KEY": _encode_key(secrets.token_bytes(KEY_BYTES)),
        "AUDIT_KEY": _encode_key(secrets.token_bytes(KEY_BYTES)),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle, indent=2)
    print(f"referral desk: created development keys in {path} (never commit them)", file=sys.stderr)
    return keys


@dataclass(frozen=True)
class MailSettings:
    host: str = "127.0.0.1"
    port: int = 8025
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = "referral-desk@desk.example"
    timeout_seconds: float = 10.0


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    text = env.get(name, "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, minimum: float = 0.1) -> float:
    text = env.get(name, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, like 15 or 0.5") from exc
    if not minimum <= value <= 86400:
        raise ConfigError(f"{name} must be from {minimum} to 86400 seconds")
    return value


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    secret_key: str
    active_key_id: str
    encryption_keys: Mapping[str, bytes] = field(repr=False)
    linkage_key: bytes = field(repr=False)
    audit_key: bytes = field(repr=False)
    instance_path: Path = Path("instance")
    base_url: str = "http://127.0.0.1:5000"
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    page_size: int = 25
    mail: MailSettings = field(default_factory=MailSettings)
    sweep_seconds: int = 60
    relay_seconds: float = 15
    outbox_max_attempts: int = 5
    outbox_lease_seconds: int = 300
    trusted_proxies: int = 0
    audit_anchor_dir: Path = Path("instance/audit-anchors")
    anchor_minutes: int = 5
    report_minutes: int = 5  # how often the scheduler brings the reports' tallies up to date
    api_calls_per_minute: int = 300  # per API token; more answer 429 with Retry-After
    # Management of Police Information: an incident is due for review this many years after it
    # occurred (a reviewer may retain it to a later review date).
    retention_years: int = 6

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        environment = env.get("REFERRALS_ENV", "")
        if environment not in ENVIRONMENTS:
            raise ConfigError(
                "REFERRALS_ENV must be one of development, test, production "
                f"(got {environment!r}); `make run` sets development for you"
            )
        instance_path = Path(env.get("INSTANCE_PATH", "instance")).resolve()
        if environment == "development":
            generated = _development_keys(instance_path)
            for name, value in generated.items():
                env.setdefault(name, value)
        missing = [
            name
            for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "LINKAGE_KEY", "AUDIT_KEY")
            if not env.get(name)
        ]
        if missing:
            raise ConfigError("missing required setting(s): " + ", ".join(missing))
        secret_key = env["SECRET_KEY"]
        if len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters of random text")
        active, enc_keys = parse_encryption_keys(env["ENCRYPTION_KEYS"])
        linkage = _decode_key("LINKAGE_KEY", env["LINKAGE_KEY"])
        audit = _decode_key("AUDIT_KEY", env["AUDIT_KEY"])
        named: list[tuple[str, bytes]] = [
            ("SECRET_KEY", secret_key.encode()),
            ("LINKAGE_KEY", linkage),
            ("AUDIT_KEY", audit),
            *((f"ENCRYPTION_KEYS[{k}]", v) for k, v in enc_keys.items()),
        ]
        for i, (name_a, a) in enumerate(named):
            for name_b, b in named[i + 1 :]:
                if secrets.compare_digest(a, b):
                    raise ConfigError(f"{name_a} and {name_b} must be different keys")
        database_url = env.get("DATABASE_URL", "")
        if not database_url:
            if environment == "production":
                raise ConfigError("DATABASE_URL is required in production")
            database_url = f"sqlite:///{instance_path / 'referrals.db'}"
        return cls(
            environment=environment,
            database_url=database_url,
            secret_key=secret_key,
            active_key_id=active,
            encryption_keys=enc_keys,
            linkage_key=linkage,
            audit_key=audit,
            instance_path=instance_path,
            base_url=_base_url(env),
            session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=_int(env, "SESSION_ABSOLUTE_HOURS", 12),
            mail=MailSettings(
                host=env.get("SMTP_HOST", "127.0.0.1"),
                port=_int(env, "SMTP_PORT", 8025),
                starttls=_flag(env.get("SMTP_STARTTLS", "")),
                username=env.get("SMTP_USERNAME", ""),
                password=env.get("SMTP_PASSWORD", ""),
                sender=env.get("MAIL_FROM", "referral-desk@desk.example"),
            ),
            sweep_seconds=_int(env, "SWEEP_SECONDS", 60),
            relay_seconds=_seconds(env, "RELAY_SECONDS", 15),
            outbox_max_attempts=_int(env, "OUTBOX_MAX_ATTEMPTS", 5),
            outbox_lease_seconds=_int(env, "OUTBOX_LEASE_SECONDS", 300),
            trusted_proxies=_int(env, "TRUSTED_PROXIES", 0, minimum=0),
            audit_anchor_dir=Path(
                env.get("AUDIT_ANCHOR_DIR", "") or instance_path / "audit-anchors"
            ).resolve(),
            anchor_minutes=_int(env, "ANCHOR_MINUTES", 5),
            report_minutes=_int(env, "REPORT_MINUTES", 5),
            api_calls_per_minute=_int(env, "API_CALLS_PER_MINUTE", 300),
            retention_years=_int(env, "RETENTION_YEARS", 6),
        )


def generate_keys() -> dict[str, str]:
    """Fresh random keys in the format :meth:`Settings.from_env` reads (for ``make keys``)."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": "k1:" + _encode_key(secrets.token_bytes(KEY_BYTES)),
        "LINKAGE_KEY": _encode_key(secrets.token_bytes(KEY_BYTES)),
        "AUDIT_KEY": _encode_key(secrets.token_bytes(KEY_BYTES)),
    }


if __name__ == "__main__":  # `python config.py` prints a fresh set of production keys
    for _name, _value in generate_keys().items():
        print(f"{_name}={_value}")
