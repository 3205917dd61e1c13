"""The hub's configuration file (`warroom serve --config FILE`, or `WARROOM_CONFIG`): the mail
server, the update cadence, the retry policy of deliveries, and who is notified of what.

Read once at start, with `tomllib`. Anything wrong with it (a syntax error, a key or section
this code does not know, a bad value, a mail server or hook nothing listens at) is one
`ConfigError` whose sentence names the file, the line and the reason, and the hub does not
start: a war room that would silently tell no one is worse than one that refuses to start.
"""

from __future__ import annotations

import re
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from warroom.core.cadence import DEFAULT_CADENCE, DEFAULT_INTERVALS, Cadence
from warroom.core.domain import Severity
from warroom.core.recipients import Notify, parse_address, parse_hook, parse_notify_audience

REACH_TIMEOUT = 3.0
"""Seconds a start waits for the mail server or a hook to accept a connection."""

_SECTIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "smtp": frozenset(
            {"host", "port", "sender", "username", "password", "starttls", "tls", "timeout"}
        ),
        "cadence": frozenset({*(s.value for s in Severity), "response"}),
        "delivery": frozenset({"attempts", "backoff", "max_backoff", "timeout"}),
        "notify": frozenset({"audience", "email", "webhook"}),
        "memory": frozenset({"shelve_after"}),
    }
)

SHELVE_AFTER = 600.0
"""Seconds a resolved incident stays without an event before the hub shelves it: keeps its
header alone in memory, and reads its whole state back from its snapshot when needed."""

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*[\"']?([A-Za-z0-9_-]+)[\"']?\s*=")


class ConfigError(Exception):
    """A configuration the hub will not start with; the message is one sentence naming the
    file, the line and the reason."""


@dataclass(frozen=True)
class Smtp:
    """The mail server deliveries go through."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    """Upgrade the connection with STARTTLS before logging in."""
    tls: bool = False
    """Speak TLS from the first byte (SMTPS, usually port 465)."""
    timeout: float = 10.0


@dataclass(frozen=True)
class Retry:
    """How a failed delivery is tried again: `backoff` after the first failure, doubling up to
    `max_backoff`, until `attempts` attempts failed; each attempt may take `timeout`."""

    attempts: int = 8
    backoff: float = 2.0
    max_backoff: float = 300.0
    timeout: float = 10.0

    def delay(self, failed: int) -> float:
        """Seconds before the attempt that follows `failed` failed attempts."""
        return float(min(self.backoff * 2.0 ** max(failed - 1, 0), self.max_backoff))


@dataclass(frozen=True)
class Config:
    """What the configuration file says (and where each thing was said, for later refusals)."""

    path: Path
    smtp: Smtp | None = None
    cadence: Cadence = DEFAULT_CADENCE
    retry: Retry = field(default_factory=Retry)
    notify: tuple[Notify, ...] = ()
    hooks_at: Mapping[str, int] = field(default_factory=dict)
    """The line each webhook URL was given on."""
    smtp_at: int = 0
    """The line of `[smtp]`'s host (or of the section)."""
    shelve_after: float | None = SHELVE_AFTER
    """Seconds a resolved incident stays quiet before it is shelved (None: never)."""

    def where(self, line: int) -> str:
        """`FILE, line N`, as every sentence about this file starts."""
        return f"{self.path}, line {line}"


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `1h`, `1h30m` as a duration.

    Raises:
        ValueError: for anything else, or a zero duration.
    """
    found = _DURATION.match(text.strip())
    if not text.strip() or found is None:
        raise ValueError(f"bad duration {text!r}: expected a number with s, m or h (90s, 15m, 1h)")
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    duration = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if not duration:
        raise ValueError(f"bad duration {text!r}: it must be longer than nothing")
    return duration


class _Lines:
    """Where each section and key of the file is, to name the line of a bad value."""

    def __init__(self, text: str) -> None:
        self.sections: dict[tuple[str, int], int] = {}
        self.keys: dict[tuple[str, int, str], int] = {}
        section, index = "", 0
        counts: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header is not None:
                section = header.group(2).strip().strip("\"'")
                index = counts.get(section, 0)
                counts[section] = index + 1
                self.sections.setdefault((section, index), number)
                continue
            key = _KEY.match(line)
            if key is not None:
                self.keys.setdefault((section, index, key.group(1)), number)

    def of(self, section: str, key: str | None = None, index: int = 0) -> int:
        """The line of `key` in the `index`th `section` (of the section if the key is absent)."""
        if key is not None and (section, index, key) in self.keys:
            return self.keys[(section, index, key)]
        return self.sections.get((section, index), 1)


def load(path: Path) -> Config:
    """Read and check the configuration file at `path` (nothing is contacted yet: `reach`).

    Raises:
        ConfigError: naming the file, the line and the reason.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"cannot read the configuration {path}: {reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", message)
        line = found.group(1) if found and found.group(1) else str(len(text.splitlines()) or 1)
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        raise ConfigError(f"{path}, line {line}: not valid TOML: {reason.lower()}") from None
    return _Reader(path, _Lines(text)).read(data)


class _Reader:
    def __init__(self, path: Path, lines: _Lines) -> None:
        self.path = path
        self.lines = lines

    def fail(self, line: int, reason: str) -> ConfigError:
        return ConfigError(f"{self.path}, line {line}: {reason}")

    def read(self, data: dict[str, Any]) -> Config:
        for name, value in data.items():
            if name not in _SECTIONS:
                line = self.lines.of(name) if (name, 0) in self.lines.sections else None
                line = line or self.lines.of("", name)
                known = ", ".join(f"[{s}]" for s in _SECTIONS if s != "notify")
                raise self.fail(
                    line, f"unknown section or key {name!r} (expected {known} or [[notify]])"
                )
            tables = value if name == "notify" else [value]
            if not isinstance(value, list if name == "notify" else dict) or not all(
                isinstance(table, dict) for table in tables
            ):
                shape = "[[notify]] tables" if name == "notify" else f"a [{name}] table"
                raise self.fail(self.lines.of(name), f"{name!r} must be {shape}")
            for index, table in enumerate(tables):
                for key in table:
                    if key not in _SECTIONS[name]:
                        expected = ", ".join(sorted(_SECTIONS[name]))
                        label = "[[notify]]" if name == "notify" else f"[{name}]"
                        raise self.fail(
                            self.lines.of(name, key, index),
                            f"unknown key {key!r} in {label} (expected one of {expected})",
                        )
        smtp = self.smtp(data["smtp"]) if "smtp" in data else None
        notify, hooks_at = self.notify(data.get("notify", []))
        if smtp is None:
            for index, entry in enumerate(notify):
                if entry.emails:
                    line = self.lines.of("notify", "email", index)
                    raise self.fail(line, "email recipients need an [smtp] section to send through")
        return Config(
            path=self.path,
            smtp=smtp,
            cadence=self.cadence(data.get("cadence", {})),
            retry=self.retry(data.get("delivery", {})),
            notify=notify,
            hooks_at=hooks_at,
            smtp_at=self.lines.of("smtp", "host"),
            shelve_after=self.shelve_after(data.get("memory", {})),
        )

    def shelve_after(self, table: dict[str, Any]) -> float | None:
        if "shelve_after" not in table:
            return SHELVE_AFTER
        value = table["shelve_after"]
        if isinstance(value, str) and value.strip().lower() == "never":
            return None
        return self._duration("memory", table, "shelve_after").total_seconds()

    def _string(self, section: str, table: dict[str, Any], key: str, index: int = 0) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                self.lines.of(section, key, index), f"[{section}] {key} must be a non-empty string"
            )
        return value.strip()

    def _duration(self, section: str, table: dict[str, Any], key: str) -> timedelta:
        value = table[key]
        line = self.lines.of(section, key)
        if not isinstance(value, str):
            raise self.fail(line, f'[{section}] {key} must be a duration in quotes, like "15m"')
        try:
            return parse_duration(value)
        except ValueError as error:
            raise self.fail(line, f"[{section}] {key}: {error}") from None

    def smtp(self, table: dict[str, Any]) -> Smtp:
        host = self._string("smtp", table, "host")
        port = table.get("port", 25)
        if type(port) is not int or not 0 < port < 65536:
            raise self.fail(self.lines.of("smtp", "port"), "[smtp] port must be 1 to 65535")
        sender = self._string("smtp", table, "sender")
        try:
            parse_address(sender)
        except ValueError as error:
            raise self.fail(self.lines.of("smtp", "sender"), f"[smtp] sender: {error}") from None
        flags = {}
        for key in ("starttls", "tls"):
            value = table.get(key, False)
            if not isinstance(value, bool):
                raise self.fail(self.lines.of("smtp", key), f"[smtp] {key} must be true or false")
            flags[key] = value
        if flags["starttls"] and flags["tls"]:
            line = self.lines.of("smtp", "tls")
            raise self.fail(line, "[smtp] starttls and tls exclude each other: choose one")
        credentials = [
            self._string("smtp", table, key) if key in table else None
            for key in ("username", "password")
        ]
        if (credentials[0] is None) != (credentials[1] is None):
            line = self.lines.of("smtp", "username" if credentials[0] is None else "password")
            raise self.fail(line, "[smtp] username and password go together")
        timeout = (
            self._duration("smtp", table, "timeout").total_seconds() if "timeout" in table else 10.0
        )
        return Smtp(
            host=host,
            port=port,
            sender=sender,
            username=credentials[0],
            password=credentials[1],
            starttls=flags["starttls"],
            tls=flags["tls"],
            timeout=timeout,
        )

    def cadence(self, table: dict[str, Any]) -> Cadence:
        if not table:
            return DEFAULT_CADENCE
        intervals: dict[Severity, timedelta | None] = dict(DEFAULT_INTERVALS)
        for severity in Severity:
            if severity.value not in table:
                continue
            value = table[severity.value]
            if isinstance(value, str) and value.strip().lower() == "none":
                intervals[severity] = None
            else:
                intervals[severity] = self._duration("cadence", table, severity.value)
        response = (
            self._duration("cadence", table, "response")
            if "response" in table
            else DEFAULT_CADENCE.response_target
        )
        return Cadence(intervals=MappingProxyType(intervals), response_target=response)

    def retry(self, table: dict[str, Any]) -> Retry:
        attempts = table.get("attempts", Retry.attempts)
        if type(attempts) is not int or not 1 <= attempts <= 100:
            line = self.lines.of("delivery", "attempts")
            raise self.fail(line, "[delivery] attempts must be a whole number from 1 to 100")
        seconds = {
            key: self._duration("delivery", table, key).total_seconds()
            for key in ("backoff", "max_backoff", "timeout")
            if key in table
        }
        return Retry(attempts=attempts, **seconds)

    def notify(self, tables: list[dict[str, Any]]) -> tuple[tuple[Notify, ...], dict[str, int]]:
        entries: list[Notify] = []
        hooks_at: dict[str, int] = {}
        for index, table in enumerate(tables):
            line = self.lines.of("notify", "audience", index)
            if "audience" not in table:
                raise self.fail(line, "a [[notify]] entry needs an audience (a group, or 'all')")
            audience = self._string("notify", table, "audience", index)
            try:
                audience = parse_notify_audience(audience)
            except ValueError as error:
                raise self.fail(line, f"[[notify]] audience: {error}") from None
            emails = self._checked(table, "email", index, parse_address)
            hooks = self._checked(table, "webhook", index, parse_hook)
            if not emails and not hooks:
                raise self.fail(
                    self.lines.of("notify", None, index),
                    "a [[notify]] entry needs an email or a webhook to notify",
                )
            for hook in hooks:
                hooks_at.setdefault(hook, self.lines.of("notify", "webhook", index))
            entries.append(Notify(audience, emails, hooks))
        return tuple(entries), hooks_at

    def _checked(
        self, table: dict[str, Any], key: str, index: int, check: Callable[[str], str]
    ) -> tuple[str, ...]:
        value = table.get(key, [])
        items = [value] if isinstance(value, str) else value
        line = self.lines.of("notify", key, index)
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise self.fail(line, f"[[notify]] {key} must be a string or a list of strings")
        checked: list[str] = []
        for item in items:
            try:
                checked.append(check(item))
            except ValueError as error:
                raise self.fail(line, f"[[notify]] {key}: {error}") from None
        return tuple(dict.fromkeys(checked))


def reach(config: Config, timeout: float = REACH_TIMEOUT) -> None:
    """Check that the mail server and every hook accept a TCP connection.

    Raises:
        ConfigError: for the first one nothing listens at, naming its line.
    """
    targets: list[tuple[str, int, int, str]] = []
    if config.smtp is not None:
        smtp = config.smtp
        targets.append((smtp.host, smtp.port, config.smtp_at, "the mail server ([smtp])"))
    for hook, line in config.hooks_at.items():
        parts = urlsplit(hook)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        targets.append((parts.hostname or "", port, line, f"the webhook {hook}"))
    for host, port, line, what in targets:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except OSError as error:
            reason = error.strerror or ("no answer" if isinstance(error, TimeoutError) else "")
            reason = (reason or type(error).__name__).lower()
            raise ConfigError(
                f"{config.where(line)}: nothing is listening at {host}:{port} for {what} ({reason})"
            ) from None
