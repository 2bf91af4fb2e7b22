"""The company list, derived from (seed, total contacts) so every chunk agrees on it.

Contacts are assigned to companies with a Zipf–Mandelbrot law: a handful of large accounts
hold many contacts, a long tail holds one or two (and some hold none yet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest.generator import reference
from ingest.generator.reference import COUNTRIES

B2B_SHARE = 0.7
CONTACTS_PER_COMPANY = 5.0
ZIPF_EXPONENT = 1.05
ZIPF_OFFSET = (2.0, 25.0)  # grows with the number of companies, capping the largest share

COLUMNS = (
    "companyname",
    "companywebsite",
    "companyindustry",
    "companynumber_of_employees",
    "companycountry",
    "companycity",
    "companystate",
    "companyphone",
    "companyannual_revenue",
)


@dataclass(frozen=True)
class Companies:
    frame: pl.DataFrame  # COLUMNS, one row per company, rank order
    domain: pl.Series  # mail domain of each company
    country: np.ndarray  # country index of each company
    employees: np.ndarray
    industry: np.ndarray  # index into reference.INDUSTRIES
    cdf: np.ndarray  # cumulative share of B2B contacts, by company rank

    def __len__(self) -> int:
        return self.frame.height

    def assign(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Company index for ``n`` business contacts."""
        return np.searchsorted(self.cdf, rng.random(n), side="right").clip(0, len(self) - 1)


def country_weights() -> np.ndarray:
    w = np.array([c.weight for c in COUNTRIES])
    return w / w.sum()


def build(seed: int, contacts: int) -> Companies:
    rng = np.random.default_rng([seed, 1 << 32, 1])
    m = max(1, round(contacts * B2B_SHARE / CONTACTS_PER_COMPANY))
    rank = np.arange(m)
    offset = float(np.clip(m / 500, *ZIPF_OFFSET))
    share = 1.0 / (rank + offset) ** ZIPF_EXPONENT
    cdf = np.cumsum(share / share.sum())

    # Unique names: a random injection into (prefix, root, kind), numbered past its capacity.
    a, b = len(reference.COMPANY_PREFIXES), len(reference.COMPANY_ROOTS)
    c = len(reference.COMPANY_KINDS)
    capacity = a * b * c
    code = rng.permutation(capacity)[np.arange(m) % capacity]
    repeat = np.arange(m) // capacity
    prefix, root, kind = code // (b * c), (code // c) % b, code % c

    country = rng.choice(len(COUNTRIES), size=m, p=country_weights())
    n_cities = np.array([len(k.cities) for k in COUNTRIES])
    city_start = np.concatenate([[0], np.cumsum(n_cities)[:-1]])
    city = city_start[country] + (rng.random(m) * n_cities[country]).astype(np.int64)
    cities = [row for k in COUNTRIES for row in k.cities]
    legal = [reference.LEGAL_FORMS[k.name] for k in COUNTRIES]
    legal_pick = (rng.random(m) * np.array([len(x) for x in legal])[country]).astype(np.int64)
    legal_flat = [form for forms in legal for form in forms]
    legal_start = np.concatenate([[0], np.cumsum([len(x) for x in legal])[:-1]])

    # Most companies are small (median ~40 people); the accounts at the top ranks are big.
    scale = 1 + 100 * share / share[0]
    employees = np.maximum(2, (scale * rng.lognormal(3.7, 1.4, m)).astype(np.int64))
    revenue = np.round(employees * 160_000 * rng.lognormal(0, 0.5, m), -3)
    industry = rng.choice(len(reference.INDUSTRIES), size=m)

    prefixes, roots = pl.Series(reference.COMPANY_PREFIXES), pl.Series(reference.COMPANY_ROOTS)
    stem = prefixes.gather(prefix) + roots.gather(root)
    kind_s = pl.Series(reference.COMPANY_KINDS).gather(kind)
    suffix = pl.Series(np.where(repeat > 0, " " + (repeat + 1).astype(str), ""))
    tld = pl.Series([k.tld for k in COUNTRIES]).gather(country)
    domain = stem.str.to_lowercase() + kind_s.str.to_lowercase() + suffix.str.replace(" ", "") + tld
    legal_form = pl.Series(legal_flat).gather(legal_start[country] + legal_pick)
    name = stem + " " + kind_s + suffix + " " + legal_form
    prefix_phone = pl.Series([k.phone_prefix for k in COUNTRIES]).gather(country)
    digits = pl.Series(rng.integers(100_000_000, 999_999_999, m).astype(str))
    phone = prefix_phone + " " + digits.str.slice(0, 3) + " " + digits.str.slice(3)
    frame = pl.DataFrame(
        {
            "companyname": name,
            "companywebsite": "https://www." + domain,
            "companyindustry": pl.Series(reference.INDUSTRIES).gather(industry),
            "companynumber_of_employees": employees,
            "companycountry": pl.Series([k.name for k in COUNTRIES]).gather(country),
            "companycity": pl.Series([x[0] for x in cities]).gather(city),
            "companystate": pl.Series([x[1] for x in cities]).gather(city),
            "companyphone": phone,
            "companyannual_revenue": revenue.astype(np.int64),
        }
    )
    return Companies(frame.select(COLUMNS), domain, country, employees, industry, cdf)
