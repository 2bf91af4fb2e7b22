"""The people of one chunk: known contacts (CSV or events-only) and anonymous visitors.

Contacts ``[first, first + n)`` of the whole generation live in the chunk, together with
``1.5 n`` anonymous visitors who never identify. Every person has one to three devices (an
anonymous id each), a time zone consistent with their country, an activity profile (work
hours for business contacts, evenings and weekends for consumers) and a lognormal
engagement that drives how often they visit and open email.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest.generator import ids, reference
from ingest.generator.companies import B2B_SHARE, Companies, country_weights
from ingest.generator.reference import (
    COUNTRIES,
    DESKTOP_AGENT_WEIGHTS,
    DESKTOP_AGENTS,
    INDUSTRIES,
    LEAD_SOURCES,
    MOBILE_AGENT_WEIGHTS,
    MOBILE_AGENTS,
    POSITIONS,
    TAGS,
)
from ingest.generator.site import SiteTables
from ingest.generator.timeline import (
    DAY,
    HOME,
    HOUR,
    NEVER,
    SECOND,
    TIME_ZONES,
    WORK,
    Seasonality,
    Window,
    csv_series,
)

ANONYMOUS_PER_CONTACT = 1.5
EVENTS_ONLY_SHARE = 0.15  # new leads missing from the contacts export
HISTORY_DAYS = 3 * 365  # contacts before the window were added over this many days
NEWSLETTER_FORM = 1  # leads signing up through it opt in to the newsletter

CITIES = [city for country in COUNTRIES for city in country.cities]  # (city, state, zone)
_LOCALES = pl.Series([c.locale for c in COUNTRIES])
_AGENTS = pl.Series(DESKTOP_AGENTS + MOBILE_AGENTS)

CSV_COLUMNS = (
    "firstname", "lastname", "email", "company", "position", "phone", "mobile", "city", "state",
    "country", "timezone", "preferred_locale", "tags", "date_added", "lead_source", "industry",
    "newsletter_optin", "sms_optin",
)  # fmt: skip


@dataclass
class Population:
    n: int  # contacts; persons [0, n) are contacts, [n, n + m) anonymous visitors
    m: int
    # contacts
    email: pl.Series  # canonical: trimmed, lower-case
    firstname: pl.Series
    lastname: pl.Series
    company: pl.Series  # "" for consumers
    date_added: np.ndarray  # ms
    new_lead: np.ndarray  # added inside the window (through a form)
    first_form: np.ndarray  # form id of a new lead's signup (0 otherwise)
    first_page: np.ndarray  # page id it was submitted on
    in_csv: np.ndarray
    newsletter_optin: np.ndarray
    sms_optin: np.ndarray  # has a mobile and agreed to SMS
    bad_address: np.ndarray  # mail to it bounces hard
    manual_dnc: np.ndarray  # ms of a manual do-not-contact (email), NEVER if none
    open_rate: np.ndarray  # chance to open a delivered email
    customer: np.ndarray
    large_account: np.ndarray  # company with 500+ employees
    csv: pl.DataFrame  # CSV_COLUMNS rows of contacts in the export
    # persons
    zone: np.ndarray  # index into TIME_ZONES
    profile: np.ndarray  # WORK / HOME
    engagement: np.ndarray  # mean 1, heavy-tailed
    locale: pl.Series  # web locale (en-US)
    device_start: np.ndarray  # first device of each person
    device_count: np.ndarray
    # devices
    device_person: np.ndarray
    anonymous_id: pl.Series
    user_agent: pl.Series
    ip: pl.Series

    @property
    def persons(self) -> int:
        return self.n + self.m


def _mean_one(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(-0.5 * sigma * sigma, sigma, n)


def _flat(groups: list[tuple[str, ...]]) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    sizes = np.array([len(g) for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return pl.Series([x for g in groups for x in g]), starts, sizes


def _pick(rng: np.random.Generator, group: np.ndarray, starts, sizes) -> np.ndarray:
    """Uniform member of each row's group in a flattened table."""
    return starts[group] + (rng.random(len(group)) * sizes[group]).astype(np.int64)


def build(
    rng: np.random.Generator,
    first: int,
    n: int,
    window: Window,
    season: Seasonality,
    companies: Companies,
    site: SiteTables,
) -> Population:
    m = round(n * ANONYMOUS_PER_CONTACT)
    p_country = country_weights()

    # --- who they are -------------------------------------------------------------------
    b2b = rng.random(n) < B2B_SHARE
    company = np.where(b2b, companies.assign(rng, n), -1)
    at = company.clip(0)  # row of the company (meaningless for consumers)
    own_country = rng.choice(len(COUNTRIES), size=n, p=p_country)
    country = np.where(b2b & (rng.random(n) < 0.8), companies.country[at], own_country)
    person_country = np.concatenate([country, rng.choice(len(COUNTRIES), size=m, p=p_country)])
    city_size = np.array([len(c.cities) for c in COUNTRIES])
    city_start = np.concatenate([[0], np.cumsum(city_size)[:-1]])
    city = _pick(rng, person_country, city_start, city_size)
    zone = np.array([TIME_ZONES.index(tz) for _, _, tz in CITIES])[city]

    groups = list(reference.NAMES)
    group = np.array([groups.index(c.names) for c in COUNTRIES])[country]
    firsts, first_start, first_size = _flat([reference.NAMES[g][0] for g in groups])
    lasts, last_start, last_size = _flat([reference.NAMES[g][1] for g in groups])
    firstname = firsts.gather(_pick(rng, group, first_start, first_size))
    lastname = lasts.gather(_pick(rng, group, last_start, last_size))
    domains, domain_start, domain_size = _flat([c.mail_domains for c in COUNTRIES])
    consumer_domain = domains.gather(_pick(rng, country, domain_start, domain_size))
    domain = pl.Series(np.where(b2b, companies.domain.gather(at), consumer_domain))
    email = _addresses(rng, first, firstname, lastname, domain)
    company_name = pl.Series(np.where(b2b, companies.frame["companyname"].gather(at), ""))

    # --- when they arrived --------------------------------------------------------------
    events_only = rng.random(n) < EVENTS_ONLY_SHARE
    in_window_share = 1 - (HISTORY_DAYS / (HISTORY_DAYS + window.days)) ** 2
    new_lead = events_only | (rng.random(n) < in_window_share)
    profile = np.where(b2b, WORK, HOME)
    converted = season.sample(rng, zone[:n], profile)
    converted = np.where(converted < window.start_ms + 2 * HOUR, converted + DAY, converted)
    converted = np.where(converted >= window.end_ms, converted - DAY, converted)
    converted = np.clip(converted, window.start_ms + HOUR, window.end_ms - SECOND)
    age = HISTORY_DAYS * DAY * (1 - np.sqrt(rng.random(n)))  # recent years brought more
    before = window.start_ms - HOUR - age.astype(np.int64)
    date_added = np.where(new_lead, converted, before) // SECOND * SECOND

    form_choice = rng.choice(site.form_ids, size=n, p=site.form_weights)
    first_form = np.where(new_lead, form_choice, 0)
    first_page = np.zeros(n, dtype=np.int64)
    for form in site.form_ids:
        rows = np.flatnonzero(first_form == form)
        hosts, weights = site.form_pages[form], site.form_page_weights[form]
        first_page[rows] = rng.choice(hosts, size=rows.size, p=weights)

    # --- what they agreed to and how they engage ----------------------------------------
    newsletter_optin = (first_form == NEWSLETTER_FORM) | (rng.random(n) < np.where(b2b, 0.32, 0.28))
    has_phone = rng.random(n) < np.where(b2b, 0.6, 0.35)
    has_mobile = rng.random(n) < np.where(b2b, 0.45, 0.55)
    sms_optin = has_mobile & (rng.random(n) < 0.3)
    bad_address = rng.random(n) < np.where(new_lead, 0.006, 0.02)
    manual = rng.random(n) < min(0.01, 0.0015 * window.days / 90)
    active_from = np.maximum(date_added, window.start_ms)
    manual_at = active_from + (rng.random(n) * (window.end_ms - active_from)).astype(np.int64)
    manual_dnc = np.where(manual & (manual_at < window.end_ms), manual_at, NEVER)

    engagement = np.concatenate([_mean_one(rng, 1.1, n), _mean_one(rng, 0.9, m)])
    affinity = np.sqrt(engagement[:n]) * _mean_one(rng, 0.8, n)
    dormant = rng.random(n) < 0.25  # inboxes nobody reads any more
    open_rate = np.clip(0.33 * affinity * np.where(dormant, 0.1, 1.0), 0, 0.92)

    tags = {tag: rng.random(n) < np.where(b2b, p_b2b, p_b2c) for tag, p_b2b, p_b2c in TAGS}
    tags["newsletter"] = newsletter_optin & (rng.random(n) < 0.6)

    # --- devices ------------------------------------------------------------------------
    device_count = np.concatenate(
        [
            rng.choice([1, 2, 3], size=n, p=[0.55, 0.33, 0.12]),
            rng.choice([1, 2, 3], size=m, p=[0.8, 0.17, 0.03]),
        ]
    )
    device_start = np.concatenate([[0], np.cumsum(device_count)[:-1]])
    devices = int(device_count.sum())
    device_person = np.repeat(np.arange(n + m), device_count)
    rank = np.arange(devices) - device_start[device_person]
    person_profile = np.concatenate([profile, np.where(rng.random(m) < 0.3, WORK, HOME)])
    desktop_share = np.where(person_profile[device_person] == WORK, 0.85, 0.45)
    desktop = rng.random(devices) < np.where(rank == 0, desktop_share, 0.2)
    desktop_agent = rng.choice(len(DESKTOP_AGENTS), size=devices, p=DESKTOP_AGENT_WEIGHTS)
    mobile_agent = rng.choice(len(MOBILE_AGENTS), size=devices, p=MOBILE_AGENT_WEIGHTS)
    agent = np.where(desktop, desktop_agent, len(DESKTOP_AGENTS) + mobile_agent)
    anonymous_id = ids.uuid4(rng, devices)
    ip = ids.ipv4(rng, devices)
    locale = _LOCALES.gather(person_country).str.replace("_", "-")

    # --- the export ---------------------------------------------------------------------
    export = (
        pl.DataFrame(
            {
                "firstname": firstname,
                "lastname": lastname,
                "email": _blemished(rng, email),
                "company": company_name,
                "position": _some(rng, pl.Series(POSITIONS), np.where(b2b, 0.85, 0.05)),
                "phone": _only(has_phone, _phones(rng, country)),
                "mobile": _only(has_mobile, _phones(rng, country)),
                "city": pl.Series([c for c, _, _ in CITIES]).gather(city[:n]),
                "state": pl.Series([s for _, s, _ in CITIES]).gather(city[:n]),
                "country": pl.Series([c.name for c in COUNTRIES]).gather(country),
                "timezone": pl.Series([tz for _, _, tz in CITIES]).gather(city[:n]),
                "preferred_locale": _LOCALES.gather(country),
                "tags": _tag_lists(tags),
                "date_added": csv_series(date_added),
                "lead_source": _lead_sources(rng, new_lead),
                "industry": pl.Series(
                    np.where(b2b, pl.Series(INDUSTRIES).gather(companies.industry[at]), "")
                ),
                "newsletter_optin": newsletter_optin.astype(np.int8),
                "sms_optin": sms_optin.astype(np.int8),
            }
        )
        .filter(pl.Series(~events_only))
        .select(CSV_COLUMNS)
    )
    return Population(
        n=n,
        m=m,
        email=email,
        firstname=firstname,
        lastname=lastname,
        company=company_name,
        date_added=date_added,
        new_lead=new_lead,
        first_form=first_form,
        first_page=first_page,
        in_csv=~events_only,
        newsletter_optin=newsletter_optin,
        sms_optin=sms_optin,
        bad_address=bad_address,
        manual_dnc=manual_dnc,
        open_rate=open_rate,
        customer=tags["customer"],
        large_account=b2b & (companies.employees[at] >= 500),
        csv=export,
        zone=zone,
        profile=person_profile,
        engagement=engagement,
        locale=locale,
        device_start=device_start,
        device_count=device_count,
        device_person=device_person,
        anonymous_id=anonymous_id,
        user_agent=_AGENTS.gather(agent),
        ip=ip,
    )


def _addresses(rng, first: int, firstname, lastname, domain) -> pl.Series:
    """Unique addresses: folded names in one of a few styles, the global contact number."""
    number = pl.Series(np.arange(first + 1, first + len(firstname) + 1)).cast(pl.String)
    style = rng.choice(5, size=len(firstname), p=[0.5, 0.15, 0.15, 0.1, 0.1])
    f, last, num = pl.col("f"), pl.col("l"), pl.col("n")
    local = (
        pl.when(pl.col("s") == 0).then(f + "." + last + num)
        .when(pl.col("s") == 1).then(f + last + num)
        .when(pl.col("s") == 2).then(f.str.slice(0, 1) + last + num)
        .when(pl.col("s") == 3).then(f + "_" + last + num)
        .otherwise(last + "." + f + num)
    )  # fmt: skip
    folded = {
        "f": firstname.str.to_lowercase().str.replace_many(reference.ASCII_FOLD),
        "l": lastname.str.to_lowercase().str.replace_many(reference.ASCII_FOLD),
    }
    frame = pl.DataFrame({**folded, "n": number, "s": style, "d": domain})
    return frame.select(local + "@" + pl.col("d")).to_series()


def _blemished(rng: np.random.Generator, email: pl.Series) -> pl.Series:
    """About 3% of addresses leave the export with stray spaces or capitals."""
    b = pl.col("b")
    e = pl.col("e")
    trailing = pl.when(b < 0.007).then(pl.lit("  ")).otherwise(pl.lit(""))
    return (
        pl.DataFrame({"e": email, "b": rng.random(len(email))})
        .select(
            pl.when(b < 0.015).then(" " + e + trailing)
            .when(b < 0.025).then(e.str.to_titlecase())
            .when(b < 0.03).then(e.str.to_uppercase())
            .otherwise(e)
        )
        .to_series()
    )  # fmt: skip


def _phones(rng: np.random.Generator, country: np.ndarray) -> pl.Series:
    prefix = pl.Series([c.phone_prefix for c in COUNTRIES]).gather(country)
    digits = pl.Series(rng.integers(100_000_000, 999_999_999, len(country)).astype(str))
    return (
        prefix
        + " "
        + digits.str.slice(0, 3)
        + " "
        + digits.str.slice(3, 3)
        + " "
        + digits.str.slice(6)
    )


def _some(rng: np.random.Generator, choices: pl.Series, share: np.ndarray) -> pl.Series:
    """A random choice for a ``share`` of rows, empty for the others."""
    picked = choices.gather(rng.integers(0, len(choices), len(share)))
    return _only(rng.random(len(share)) < share, picked)


def _only(mask: np.ndarray, values: pl.Series) -> pl.Series:
    """``values`` where ``mask`` holds, missing elsewhere."""
    return values.zip_with(pl.Series(mask), pl.Series([None] * len(values), dtype=pl.String))


def _tag_lists(tags: dict[str, np.ndarray]) -> pl.Series:
    return (
        pl.DataFrame(tags)
        .select(
            pl.concat_list([pl.when(pl.col(t)).then(pl.lit(t)) for t in tags])
            .list.drop_nulls()
            .list.join("|")
        )
        .to_series()
    )


def _lead_sources(rng: np.random.Generator, new_lead: np.ndarray) -> pl.Series:
    """Older contacts came from anywhere; new leads came through the website."""
    names, weights = zip(*LEAD_SOURCES, strict=True)
    older = rng.choice(len(names), size=len(new_lead), p=np.asarray(weights) / sum(weights))
    web = [names.index(s) for s in ("web form", "webinar", "paid search", "social")]
    newer = rng.choice(web, size=len(new_lead), p=[0.7, 0.12, 0.1, 0.08])
    return pl.Series(names).gather(np.where(new_lead, newer, older))
