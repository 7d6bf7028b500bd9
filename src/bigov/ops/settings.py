"""Workspace settings a user may read and change: each key with its meaning, its default and the
rule its value must meet. ``bigov settings show|set|export|import`` and the export / import round
trip go through here, so a value is checked the same way whichever way it arrives.

The server's signing secret is a setting too, but never shown, exported or set here.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from bigov.codes import safe_repr, strip_control
from bigov.db.settings import DEFAULTS
from bigov.errors import ConfigError, Problem, ValidationError

if TYPE_CHECKING:
    from bigov.workspace import Workspace

# ISO 4217 alphabetic codes of the currencies in use (funds, metals and test codes left out):
# a reporting currency is one money is actually kept in
ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
    MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
    RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    ZWL""".split()  # noqa: SIM905 - a block of codes reads better than a list of strings
)
TARGET_SPLIT = "target_split"
TARGET_PARTS = ("run", "grow", "transform")
TARGET_DEFAULT = "70/20/10"  # bigov.analysis.balance.DEFAULT_TARGET
HIDDEN = frozenset({"server_secret_key"})
# where this machine keeps files: not carried to another workspace by an export
LOCAL = frozenset({"metrics_store_dir"})
# changing these restates when a metric observation falls: stored aggregates need a recompute
RESTATING = frozenset({"fiscal_year_start_month", "timezone"})


class SettingRow(BaseModel):
    """One setting as ``bigov settings show`` lists it."""

    key: str
    value: str
    default: str
    changed: bool
    description: str


class SettingsChange(BaseModel):
    """What a ``set`` or an import changed, and what the user should do next."""

    changed: dict[str, str]
    unchanged: list[str]
    notes: list[str]


@dataclass(frozen=True)
class SettingSpec:
    key: str
    description: str
    check: Callable[[str], str]  # the value as stored, or ConfigError naming the rule


def _organisation(value: str) -> str:
    text = strip_control(value).strip()
    if not text or len(text) > 200:
        raise ConfigError("organisation_name must be 1 to 200 characters")
    return text


def _fiscal_month(value: str) -> str:
    if not value.strip().isdigit() or not 1 <= int(value) <= 12:
        raise ConfigError(
            f"fiscal_year_start_month must be a month number 1–12, not {safe_repr(value)}",
            hint="4 = April (FY2027 = April 2026 – March 2027)",
        )
    return str(int(value))


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or code not in ISO_4217:
        raise ConfigError(
            f"currency must be an ISO 4217 code such as GBP, EUR or USD, not {safe_repr(value)}"
        )
    return code


def _timezone(value: str) -> str:
    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError) as exc:
        import difflib

        close = difflib.get_close_matches(name, zoneinfo.available_timezones(), n=3)
        raise ConfigError(
            f"unknown time zone {safe_repr(value)}",
            hint="an IANA name such as Europe/London"
            + (f" (did you mean {', '.join(sorted(close))}?)" if close else ""),
        ) from exc
    return name


def _fraction(key: str, high: Decimal) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = Decimal(-1)
        if not number.is_finite() or not Decimal(0) <= number <= high:
            raise ConfigError(f"{key} must be a number from 0 to {high}, not {safe_repr(value)}")
        return f"{number.normalize():f}"

    return check


def _target_split(value: str) -> str:
    parts = [p.strip().rstrip("%").strip() for p in re.split(r"[/,]", value)]
    try:
        numbers = [Decimal(p) for p in parts]
    except InvalidOperation:
        numbers = []
    if (
        len(numbers) != 3
        or not all(n.is_finite() and Decimal(0) <= n <= 100 for n in numbers)
        or sum(numbers) != 100
    ):
        raise ConfigError(
            f"target_split must be run/grow/transform percentages adding up to 100, not "
            f"{safe_repr(value)}",
            hint="e.g. 70/20/10",
        )
    return "/".join(f"{n.normalize():f}" for n in numbers)


def _store_dir(value: str) -> str:
    return strip_control(value).strip()


SPECS: dict[str, SettingSpec] = {
    s.key: s
    for s in (
        SettingSpec(
            "organisation_name", "the organisation's name, on every pack and page", _organisation
        ),
        SettingSpec(
            "fiscal_year_start_month",
            "month the fiscal year starts, 1–12 (4: FY2027 = April 2026 – March 2027)",
            _fiscal_month,
        ),
        SettingSpec("currency", "reporting currency, an ISO 4217 code", _currency),
        SettingSpec(
            "timezone",
            "IANA time zone of the operational data (metrics are bucketed in it)",
            _timezone,
        ),
        SettingSpec(
            TARGET_SPLIT,
            "the board's run / grow / transform target, % adding up to 100",
            _target_split,
        ),
        SettingSpec(
            "portfolio_run_min_fraction",
            "planning rounds: least share of a business-as-usual line's budget kept, 0–1",
            _fraction("portfolio_run_min_fraction", Decimal(1)),
        ),
        SettingSpec(
            "portfolio_discount_rate",
            "planning rounds: annual discount rate for benefit NPV, 0–0.5",
            _fraction("portfolio_discount_rate", Decimal("0.5")),
        ),
        SettingSpec(
            "metrics_store_dir",
            "folder of the raw metric files (empty: beside the SQLite file); changing it "
            "moves no file",
            _store_dir,
        ),
    )
}
_DEFAULTS: dict[str, str] = {
    **DEFAULTS,
    TARGET_SPLIT: TARGET_DEFAULT,
    "portfolio_run_min_fraction": "0.9",  # bigov.portfolio.builder._DEFAULT_RUN_MIN_FRACTION
    "portfolio_discount_rate": "0.035",  # HM Treasury Green Book rate, as the builder
}


def spec(key: str) -> SettingSpec:
    """The spec of a user-facing setting.

    Raises:
        ConfigError: no such setting (the message lists them).
    """
    found = SPECS.get(key.strip().lower().replace("-", "_"))
    if found is None:
        hint = "use one of: " + ", ".join(SPECS)
        if key.startswith("target_split_"):
            hint = "set the three together: bigov settings set target_split 70/20/10"
        raise ConfigError(f"no setting {safe_repr(key)}", hint=hint)
    return found


class SettingsService:
    """Read, check and change workspace settings."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _stored(self) -> dict[str, str]:
        from sqlalchemy import select

        from bigov.db.settings import Setting

        with self.ws.session() as s:
            return {str(k): str(v) for k, v in s.execute(select(Setting.key, Setting.value))}

    def values(self) -> dict[str, str]:
        """Every user-facing setting's current value (defaults filled in)."""
        stored = self._stored()
        out: dict[str, str] = {}
        for key in SPECS:
            if key == TARGET_SPLIT:
                parts = [stored.get(f"target_split_{p}") for p in TARGET_PARTS]
                defaults = TARGET_DEFAULT.split("/")
                out[key] = "/".join(v or d for v, d in zip(parts, defaults, strict=True))
            else:
                out[key] = stored.get(key, _DEFAULTS[key])
        return out

    def show(self) -> list[SettingRow]:
        """Every user-facing setting with its default and meaning."""
        return [
            SettingRow(
                key=key,
                value=value,
                default=_DEFAULTS[key],
                changed=value != _DEFAULTS[key],
                description=SPECS[key].description,
            )
            for key, value in self.values().items()
        ]

    def check(self, changes: Mapping[str, Any], *, file: str | None = None) -> dict[str, str]:
        """The values as they would be stored, every key checked.

        Raises:
            ConfigError: the one key given (not from a file) or its value breaks its rule.
            ValidationError: some key or value breaks its rule (every problem listed).
        """
        problems: list[Problem] = []
        checked: dict[str, str] = {}
        for row, (key, raw) in enumerate(changes.items(), start=1):
            value = "" if raw is None else str(raw)
            try:
                item = spec(str(key))
                checked[item.key] = item.check(value)
            except ConfigError as err:
                if file is None and len(changes) == 1:
                    raise  # one value typed on the command line: its own one-line message
                problems.append(
                    Problem(str(err), file=file, row=row, column=str(key), value=value[:80])
                )
        if problems:
            raise ValidationError(
                f"{len(problems)} setting(s) refused; nothing was changed", problems
            )
        return checked

    def set(self, changes: Mapping[str, Any], *, file: str | None = None) -> SettingsChange:
        """Check every change, then store them all in one transaction.

        Raises:
            ValidationError: some key or value breaks its rule (nothing is changed).
        """
        from bigov.db.settings import Setting

        checked = self.check(changes, file=file)
        before = self.values()
        changed = {k: v for k, v in checked.items() if before.get(k) != v}
        with self.ws.session() as s:
            for key, value in changed.items():
                stored = (
                    dict(
                        zip(
                            (f"target_split_{p}" for p in TARGET_PARTS),
                            value.split("/"),
                            strict=True,
                        )
                    )
                    if key == TARGET_SPLIT
                    else {key: value}
                )
                for k, v in stored.items():
                    row = s.get(Setting, k)
                    if row is None:
                        s.add(Setting(key=k, value=v))
                    else:
                        row.value = v
        notes = []
        if changed.keys() & RESTATING and self._has_metrics():
            notes.append(
                "stored metrics were harmonised under the previous calendar or time zone: run "
                "`bigov metrics recompute` to restate them"
            )
        return SettingsChange(
            changed=changed, unchanged=sorted(set(checked) - set(changed)), notes=notes
        )

    def _has_metrics(self) -> bool:
        from sqlalchemy import select

        from bigov.metrics.models import MetricAggregate

        with self.ws.session() as s:
            return s.scalars(select(MetricAggregate.id).limit(1)).first() is not None

    def export(self, path: Path) -> Path:
        """Write the settings as YAML (``key: value``), for ``bigov settings import`` (the
        machine-local ones, such as the metrics folder, stay behind)."""
        import yaml

        header = (
            f"# bigov workspace settings, exported {dt.date.today().isoformat()};\n"
            "# read back with `bigov settings import FILE` (or beside a `bigov export` file,\n"
            "# which `bigov import` applies)\n"
        )
        values = {k: v for k, v in self.values().items() if k not in LOCAL}
        path.write_text(
            header + yaml.safe_dump(values, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        return path

    def read(self, path: Path) -> dict[str, str]:
        """The settings of a YAML file written by :meth:`export`, checked.

        Raises:
            ValidationError: not a mapping, or a key or value breaks its rule.
        """
        from bigov import safeload

        data = safeload.load_yaml(safeload.read_text(path, "yaml"), path.name)
        if not isinstance(data, dict):
            raise ValidationError(
                f"{path.name}: expected `key: value` lines",
                [Problem("not a mapping of settings", file=path.name)],
            )
        if any(k in HIDDEN for k in data):
            raise ValidationError(
                f"{path.name}: the server's secret cannot be imported",
                [Problem("server_secret_key is never imported", file=path.name)],
            )
        return self.check(data, file=path.name)


def sidecar(export_path: Path) -> Path:
    """Where ``bigov export`` writes the settings beside ``export_path`` (and ``bigov import``
    looks for them): ``NAME.settings.yaml``, or ``settings.yaml`` inside an export folder."""
    if export_path.is_dir() or not export_path.suffix:
        return export_path / "settings.yaml"
    return export_path.with_name(export_path.stem + ".settings.yaml")


__all__ = ["SPECS", "SettingRow", "SettingsChange", "SettingsService", "sidecar", "spec"]
