"""Canonicalisers: turn one raw value into its canonical form or raise InvalidValue.

Each one leans on a library made for the job (python-stdnum, phonenumbers,
pycountry, Django's validators) rather than hand-written checks. They receive text
that is already NFKC-normalised with collapsed white space.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
import pycountry
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from stdnum import ean, get_cc_module, iban
from stdnum.cn import uscc
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import clean, isdigits

from .base import Canonicaliser, Context, InvalidValue

# Country names in common use that ISO 3166 spells differently.
COUNTRY_ALIASES = {
    "UK": "GB",
    "EL": "GR",
    "ENGLAND": "GB",
    "GREAT BRITAIN": "GB",
    "USA": "US",
    "DEUTSCHLAND": "DE",
    "ESPAÑA": "ES",
    "ITALIA": "IT",
    "NEDERLAND": "NL",
    "HOLLAND": "NL",
    "中国": "CN",
    "中华人民共和国": "CN",
}

# python-stdnum module names of personal identity numbers, per country.
NATIONAL_ID_MODULES = (
    "ssn",
    "bsn",
    "dni",
    "nie",
    "idnr",
    "nir",
    "ric",
    "pesel",
    "cpr",
    "hetu",
    "personnummer",
    "fodselsnummer",
    "cf",
    "codicefiscale",
    "egn",
    "rc",
    "oib",
    "jmbg",
    "cnp",
    "emso",
    "ik",
    "isikukood",
    "asmens",
    "pk",
    "nic",
    "cpf",
    "curp",
    "rut",
    "run",
    "aadhaar",
    "mynumber",
    "rrn",
    "nric",
)
# python-stdnum module names of business tax numbers, per country (after EU VAT).
TAX_ID_MODULES = (
    "vat", "uscc", "ein", "tin", "codicefiscale", "nif", "steuernummer", "stnr", "gst", "abn",
    "cnpj", "cpf", "rfc", "utr",
)  # fmt: skip


def text(value: str, context: Context) -> str:
    return value


def upper_code(value: str, context: Context) -> str:
    return value.upper()


def choice(options: Mapping[str, str]) -> Canonicaliser:
    """Accept the keys of ``options`` (case-insensitive) and map them to their values."""
    folded = {key.casefold(): canonical for key, canonical in options.items()}
    allowed = ", ".join(sorted(set(options.values())))

    def canonicalise(value: str, context: Context) -> str:
        try:
            return folded[value.casefold()]
        except KeyError:
            raise InvalidValue(f"must be one of {allowed}") from None

    return canonicalise


def country(value: str, context: Context) -> str:
    code = _country_code(value)
    if code is None:
        raise InvalidValue("not an ISO 3166 country code or name")
    return code


@functools.lru_cache(maxsize=4096)
def _country_code(value: str) -> str | None:
    # Few distinct spellings in any file: look each up once.
    candidate = COUNTRY_ALIASES.get(value.upper(), value)
    try:
        return pycountry.countries.lookup(candidate).alpha_2
    except LookupError:
        return None


def iso_date(value: str, context: Context) -> str:
    try:
        parsed = datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidValue("not a valid ISO date (YYYY-MM-DD)") from None
    return parsed.isoformat()


def past_date(value: str, context: Context) -> str:
    result = iso_date(value, context)
    if datetime.date.fromisoformat(result) > datetime.date.today():
        raise InvalidValue("lies in the future")
    return result


def email(value: str, context: Context) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise InvalidValue("not a valid e-mail address") from None
    return value.lower()


def phone(value: str, context: Context) -> str:
    try:
        number = phonenumbers.parse(value, context.country)
    except phonenumbers.NumberParseException as error:
        raise InvalidValue(f"not a phone number ({error._msg})") from None
    if not phonenumbers.is_valid_number(number):
        region = context.country or "international format"
        raise InvalidValue(f"not a valid phone number for {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def website(value: str, context: Context) -> str:
    candidate = value if "://" in value else f"https://{value}"
    try:
        URLValidator(schemes=["http", "https"])(candidate)
    except DjangoValidationError:
        raise InvalidValue("not a valid web address") from None
    parts = urlsplit(candidate)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def decimal(value: str, context: Context) -> str:
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise InvalidValue("not a number") from None
    if not number.is_finite() or number < 0:
        raise InvalidValue("must be a non-negative number")
    normalised = number.normalize()
    return f"{normalised:f}"


# Currency signs that name one currency. "$" and "¥" name several, so they give an
# amount without a currency.
CURRENCY_SIGNS = {"€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY"}
_MONEY = re.compile(
    r"(?P<before>[A-Za-z]{3}|[^\d\s.,+-])?\s*"
    r"(?P<amount>\d[\d.,' ]*)"
    r"\s*(?P<after>[A-Za-z]{3}|[^\d\s.,+-])?"
)


def money(value: str, context: Context) -> str:
    """An amount with an optional ISO 4217 currency: "19.99", "69.71 GBP". Accepts
    the code or a sign naming one currency before or after the amount ("£69.71",
    "69.71 gbp", "EUR 12,50", "$1,099.00"), thousands separators and a decimal comma.
    """
    match = _MONEY.fullmatch(value.strip())
    if match is None:
        raise InvalidValue("not an amount of money (e.g. 19.99 or 19.99 EUR)")
    before, after = match["before"], match["after"]
    if before and after:
        raise InvalidValue("two currencies")
    currency = ""
    sign = before or after
    if sign:
        if len(sign) == 3:
            found = pycountry.currencies.get(alpha_3=sign.upper())
            if found is None:
                raise InvalidValue(f"unknown currency {sign!r} (ISO 4217 code expected)")
            currency = found.alpha_3
        elif sign in CURRENCY_SIGNS:
            currency = CURRENCY_SIGNS[sign]
        elif sign not in "$¥":
            raise InvalidValue(f"unknown currency sign {sign!r}")
    amount = _amount(match["amount"])
    return f"{amount} {currency}" if currency else amount


def _amount(text: str) -> str:
    text = text.replace(" ", "").replace("'", "")
    comma, dot = text.rfind(","), text.rfind(".")
    if comma >= 0 and dot >= 0:
        # The later separator is the decimal one: "1,099.00", "1.099,00".
        thousands, point = (",", ".") if dot > comma else (".", ",")
        whole, _, fraction = text.rpartition(point)
        text = _ungrouped(whole, thousands) + "." + fraction
    elif comma >= 0 and (text.count(",") > 1 or len(text) - comma - 1 == 3):
        text = _ungrouped(text, ",")  # "1,099" groups thousands
    elif comma >= 0:
        text = text.replace(",", ".")  # "12,50": a decimal comma
    elif text.count(".") > 1:
        text = _ungrouped(text, ".")  # "1.234.567"
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidValue("not an amount of money") from None
    return f"{number.normalize():f}"


def _ungrouped(text: str, separator: str) -> str:
    first, *groups = text.split(separator)
    if not first or len(first) > 3 or any(len(group) != 3 for group in groups):
        raise InvalidValue(f"digits grouped wrongly by {separator!r}")
    return first + "".join(groups)


def iban_number(value: str, context: Context) -> str:
    return _stdnum(iban, value)


def gtin(value: str, context: Context) -> str:
    """GTIN-8/12/13/14, stored as GTIN-14 so UPC-A and EAN-13 forms compare equal."""
    return _stdnum(ean, value).zfill(14)


def duns(value: str, context: Context) -> str:
    # python-stdnum has no D-U-N-S module and the number carries no public check
    # digit: its shape (nine digits) is all that can be verified.
    number = clean(value, " -.")
    if not isdigits(number) or len(number) != 9:
        raise InvalidValue("a D-U-N-S number has nine digits")
    return number


def tax_id(value: str, context: Context) -> str:
    """A business or personal tax number: EU VAT (always with its country prefix), the
    Chinese unified social credit code, or a tax number module of the record's country
    in python-stdnum (e.g. an Italian codice fiscale, a US EIN).

    Numbers of countries python-stdnum does not know are kept in compact form.
    """
    number = clean(value, " -./").upper()
    if number[:2].lower() in eu_vat.MEMBER_STATES or number[:2] == "EL":
        return _stdnum(eu_vat, number)
    country_code = (context.country or "").lower()
    if country_code == "cn" or (not country_code and len(number) == 18):
        return _stdnum(uscc, number)
    modules = _country_modules(country_code, TAX_ID_MODULES)
    if country_code in eu_vat.MEMBER_STATES or country_code == "gr":
        prefix = "EL" if country_code == "gr" else country_code.upper()
        try:
            return _stdnum(eu_vat, prefix + number)
        except InvalidValue as vat_error:
            # Not a VAT number: perhaps the country's own (personal) tax number.
            for module in modules:
                if module.__name__.endswith(".vat"):
                    continue
                try:
                    return _stdnum(module, number)
                except InvalidValue:
                    continue
            raise vat_error from None
    return _first_valid(modules, number)


def national_id(value: str, context: Context) -> str:
    """A personal identity number, checked by python-stdnum for the record's country."""
    number = clean(value, " -./").upper()
    return _first_valid(
        _country_modules((context.country or "").lower(), NATIONAL_ID_MODULES), number
    )


def _first_valid(modules, number: str) -> str:
    """The number as the first module that accepts it has it; the first module's
    complaint when none does; the number itself when no module applies."""
    first_error = None
    for module in modules:
        try:
            return _stdnum(module, number)
        except InvalidValue as error:
            first_error = first_error or error
    if first_error is not None:
        raise first_error
    return number


@functools.lru_cache(maxsize=1024)
def _country_modules(country_code: str, names: tuple[str, ...]) -> tuple:
    if not country_code:
        return ()
    modules = []
    for name in names:
        module = get_cc_module(country_code, name)
        if module is not None and hasattr(module, "validate") and module not in modules:
            modules.append(module)
    return tuple(modules)


def _stdnum(module, value: str) -> str:
    try:
        number = module.validate(value)
    except StdnumError as error:
        kind = (module.__doc__ or module.__name__).strip().splitlines()[0].rstrip(".")
        raise InvalidValue(f"{error.message.rstrip('.').lower()} ({kind})") from None
    return module.compact(number) if hasattr(module, "compact") else number
