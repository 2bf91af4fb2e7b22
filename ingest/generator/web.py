"""Website behaviour: sessions, page views, identification, forms and on-site widgets.

Three kinds of session, all vectorised over the chunk:

* browsing: every person visits at a lognormal, heavy-tailed rate (anonymous visitors at
  least once), at local times that follow their activity profile, arriving by a channel
  (direct, search, paid search, social, referral; the paid and social ones carry UTM);
* conversion: each new lead's signup visit, ending on a page with a form that they submit
  at their ``date_added``, followed by ``identify`` and possibly a gated download;
* click-through: each email link click opens a session on the linked page, and the tracked
  link identifies the device.

A session is a landing page plus a geometric number of further pages a minute or so apart.
Page views only ever carry the anonymousId; identification comes from ``identify`` calls
and form submissions. Known contacts sometimes identify a device on its first visit, may
submit forms again, download assets, see focus items and, once identified, dynamic content.
Nothing but anonymous page views happens for a contact before their ``date_added``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest.generator.email import ClickThroughs
from ingest.generator.events import Identifies, PageHits, Track
from ingest.generator.population import Population
from ingest.generator.reference import CHANNELS
from ingest.generator.site import ASSETS, DYNAMIC_CONTENT, PAGES, SiteTables, lookup
from ingest.generator.timeline import NEVER, SECOND, Seasonality, Window, lognormal_ms

CONTACT_VISITS_PER_DAY = 0.009
VISITOR_VISITS_PER_DAY = 0.0025
PAGES_P = 0.42  # geometric parameter of pages per session (mean 1 / p)
FIRST_VISIT_IDENTIFY = 0.35  # chance a known contact's device identifies on its first visit
DOWNLOAD_RATE = {"anonymous": 0.02, "contact": 0.05}  # per session

_CHANNEL = {name: i for i, (name, *_rest) in enumerate(CHANNELS)}
_ORGANIC = np.array([c[1] for c in CHANNELS])
# How new leads arrive at the visit they sign up in (channel index → probability).
_CONVERSION = {
    _CHANNEL[name]: share
    for name, share in (
        ("direct", 0.2), ("organic", 0.3), ("cpc", 0.2), ("linkedin", 0.12), ("facebook", 0.08),
        ("referral", 0.1),
    )
}  # fmt: skip
BROWSE, CONVERSION, CLICK = 0, 1, 2


@dataclass
class WebResult:
    pages: PageHits
    identifies: Identifies
    tracks: list[Track]


@dataclass
class _Sessions:
    person: np.ndarray
    device: np.ndarray
    start: np.ndarray
    channel: np.ndarray
    landing: np.ndarray  # page id of the first page
    kind: np.ndarray  # BROWSE / CONVERSION / CLICK
    campaign: np.ndarray  # row of the campaign table, -1 without UTM
    target: np.ndarray  # conversions: time of the last page view

    def __len__(self) -> int:
        return len(self.person)


@dataclass
class _Views:
    """Page views, in session order."""

    ts: np.ndarray
    page: np.ndarray
    device: np.ndarray
    person: np.ndarray
    session: np.ndarray
    first: np.ndarray  # per session: index of its first view
    last: np.ndarray  # per session: index of its last view


PAGE_URLS = lookup(PAGES, "url")
ASSET_URLS = lookup(ASSETS, "url")
DC_SLOTS = lookup(DYNAMIC_CONTENT, "slot")
DC_VARIANTS = lookup(DYNAMIC_CONTENT, "variant")


def campaign_table(aliases: list[str]) -> tuple[pl.DataFrame, np.ndarray, int]:
    """Every (source, medium, name); first row of each channel's names; first email row."""
    rows, offsets = [], np.zeros(len(CHANNELS), dtype=np.int64)
    for c, (_name, _share, source, medium, names, _refs) in enumerate(CHANNELS):
        offsets[c] = len(rows)
        rows += [(source, medium, name) for name in names]
    email = len(rows)
    rows += [("newsletter", "email", alias) for alias in aliases]
    return pl.DataFrame(rows, schema=["source", "medium", "name"], orient="row"), offsets, email


def simulate(
    rng: np.random.Generator,
    pop: Population,
    window: Window,
    season: Seasonality,
    site: SiteTables,
    clicks: ClickThroughs,
) -> WebResult:
    campaigns, channel_offset, email_offset = campaign_table(clicks.aliases)
    s = _sessions(rng, pop, window, season, site, clicks, channel_offset, email_offset)
    v = _page_views(rng, s, pop, site)
    hits = _page_hits(rng, s, v, campaigns)

    is_contact = v.person < pop.n
    added = np.where(is_contact, pop.date_added[np.minimum(v.person, pop.n - 1)], -NEVER)
    exists = is_contact & (v.ts >= added)  # a contact who exists at this page view
    form = _form_submissions(rng, s, v, pop, site, exists)
    identifies = _identifies(rng, s, pop, window, form)
    identified = np.full(len(pop.anonymous_id), NEVER, dtype=np.int64)
    inside = window.contains(identifies.ts)
    np.minimum.at(identified, identifies.device[inside], identifies.ts[inside])

    def known(contact: np.ndarray, device: np.ndarray, ts: np.ndarray) -> np.ndarray:
        return (contact >= 0) & (ts >= identified[device])

    tracks = [form, _downloads(rng, s, v, pop, site, form, known)]
    contact = np.where(is_contact, v.person, -1)
    tracks += _focus_items(rng, v, site, ~is_contact | exists, contact, known)
    tracks.append(_dynamic_content(rng, v, pop, site, known(contact, v.device, v.ts)))
    return WebResult(hits, identifies, tracks)


def _sessions(rng, pop, window, season, site, clicks, channel_offset, email_offset) -> _Sessions:
    n = pop.n
    # Browsing: Poisson counts around each person's lognormal rate; visitors came at least once.
    per_day = np.where(np.arange(pop.persons) < n, CONTACT_VISITS_PER_DAY, VISITOR_VISITS_PER_DAY)
    count = rng.poisson(per_day * pop.engagement * window.days)
    count[n:] += 1
    person = np.repeat(np.arange(pop.persons), count)
    profile = pop.profile[person]
    profile = np.where(rng.random(person.size) < 0.2, 1 - profile, profile)
    start = season.sample(rng, pop.zone[person], profile)
    device = pop.device_start[person] + _device_rank(rng, pop.device_count[person])
    channel = rng.choice(len(CHANNELS), size=person.size, p=_ORGANIC / _ORGANIC.sum())
    keep = window.contains(start)
    person, start, device, channel = person[keep], start[keep], device[keep], channel[keep]

    # Conversions: the new lead's signup visit on their first device.
    leads = np.flatnonzero(pop.new_lead)
    conv_channel = rng.choice(list(_CONVERSION), size=leads.size, p=list(_CONVERSION.values()))
    target = pop.date_added[leads] - rng.integers(20 * SECOND, 150 * SECOND, leads.size)

    # Click-throughs: a visit seconds after each email link click.
    clicked = clicks.contact
    click_device = pop.device_start[clicked] + _device_rank(rng, pop.device_count[clicked])
    click_start = clicks.ts + rng.integers(SECOND, 6 * SECOND, clicked.size)

    kind = np.repeat([BROWSE, CONVERSION, CLICK], [person.size, leads.size, clicked.size])
    channel = np.concatenate([channel, conv_channel, np.full(clicked.size, _CHANNEL["email"])])
    landing = np.empty(channel.size, dtype=np.int64)
    for c in range(len(CHANNELS)):
        rows = np.flatnonzero(channel == c)
        pick = rng.choice(len(site.page_ids), size=rows.size, p=site.landing[c])
        landing[rows] = site.page_ids[pick]
    landing[kind == CLICK] = clicks.page
    names = np.array([len(ch[4]) for ch in CHANNELS])[channel]
    name = (rng.random(channel.size) * np.maximum(names, 1)).astype(np.int64)
    campaign = np.where(names > 0, channel_offset[channel] + name, -1)
    campaign[kind == CLICK] = email_offset + clicks.campaign
    return _Sessions(
        person=np.concatenate([person, leads, clicked]),
        device=np.concatenate([device, pop.device_start[leads], click_device]),
        start=np.concatenate([start, np.zeros(leads.size, np.int64), click_start]),
        channel=channel,
        landing=landing,
        kind=kind,
        campaign=campaign,
        target=np.concatenate([np.zeros(person.size, np.int64), target, 0 * click_start]),
    )


def _page_views(rng: np.random.Generator, s: _Sessions, pop: Population, site) -> _Views:
    """A landing page plus a geometric number of further pages, a minute or so apart."""
    n_pages = rng.geometric(PAGES_P, len(s))
    total = int(n_pages.sum())
    session = np.repeat(np.arange(len(s)), n_pages)
    first = np.cumsum(n_pages) - n_pages
    last = first + n_pages - 1
    position = np.arange(total) - first[session]
    gap = np.where(position == 0, 0, 8 * SECOND + lognormal_ms(rng, 45 * SECOND, 1.0, total))
    offset = np.cumsum(gap)
    offset -= offset[first][session]
    conv = np.flatnonzero(s.kind == CONVERSION)
    s.start[conv] = s.target[conv] - offset[last[conv]]  # end on the signup page on time
    page = site.page_ids[rng.choice(len(site.page_ids), size=total, p=site.browse)]
    page[first] = s.landing
    page[last[conv]] = pop.first_page[s.person[conv]]
    return _Views(
        ts=s.start[session] + offset,
        page=page,
        device=s.device[session],
        person=s.person[session],
        session=session,
        first=first,
        last=last,
    )


def _page_hits(rng, s: _Sessions, v: _Views, campaigns: pl.DataFrame) -> PageHits:
    """URLs (the landing page keeps its UTM query) and referrers (the previous page)."""
    referrers = [refs for *_rest, refs in CHANNELS]
    ref_flat = pl.Series([r for refs in referrers for r in refs])
    ref_size = np.array([len(r) for r in referrers])[s.channel]
    ref_start = np.concatenate([[0], np.cumsum([len(r) for r in referrers])[:-1]])[s.channel]
    session_ref = ref_start + (rng.random(len(s)) * ref_size).astype(np.int64)
    query = campaigns.select(
        "?utm_source=" + pl.col("source") + "&utm_medium=" + pl.col("medium")
        + "&utm_campaign=" + pl.col("name")
    ).to_series()  # fmt: skip
    landing = np.zeros(len(v.ts), dtype=bool)
    landing[v.first] = True
    campaign = np.where(landing, s.campaign[v.session], -1)
    frame = pl.DataFrame(
        {
            "base": PAGE_URLS.gather(v.page),
            "query": query.gather(np.maximum(campaign, 0)),
            "utm": campaign >= 0,
            "landing": landing,
            "ref": ref_flat.gather(session_ref[v.session]),
        }
    )
    url = pl.when("utm").then(pl.col("base") + pl.col("query")).otherwise("base")
    frame = frame.select(url=url, landing="landing", ref="ref").select(
        "url", referrer=pl.when("landing").then("ref").otherwise(pl.col("url").shift(1))
    )
    return PageHits(v.ts, v.device, v.page, frame["url"], frame["referrer"], campaign, campaigns)


def _form_submissions(rng, s: _Sessions, v: _Views, pop, site, exists) -> Track:
    """Each new lead's signup, plus known contacts submitting forms on pages they view."""
    conv = np.flatnonzero(s.kind == CONVERSION)
    lead = s.person[conv]
    hosted = site.page_form[v.page]
    again = np.flatnonzero(exists & (hosted > 0))
    again = again[rng.random(again.size) < site.form_repeat[hosted[again]]]
    ts = np.concatenate(
        [
            pop.date_added[lead] + rng.integers(0, 400, lead.size),
            v.ts[again] + rng.integers(20 * SECOND, 120 * SECOND, again.size),
        ]
    )
    contact = np.concatenate([lead, v.person[again]])
    form = np.concatenate([pop.first_form[lead], hosted[again]])
    page = np.concatenate([pop.first_page[lead], v.page[again]])
    fields = pl.DataFrame(
        {
            "email": pop.email.gather(contact),
            "firstname": pop.firstname.gather(contact),
            "lastname": pop.lastname.gather(contact),
            "company": pop.company.gather(contact),
        }
    ).to_struct("fields")
    properties = pl.DataFrame({"form_id": form, "page_id": page}).hstack([fields])
    device = np.concatenate([s.device[conv], v.device[again]])
    return Track("Form Submitted", ts, properties, device, contact, known=np.ones(ts.size, bool))


def _identifies(rng, s: _Sessions, pop: Population, window: Window, form: Track) -> Identifies:
    """After each form submission, on arrival from an email link, and on some first visits."""
    parts = [(form.device, form.contact, form.ts + rng.integers(100, 500, len(form)))]
    click = np.flatnonzero(s.kind == CLICK)
    parts.append(
        (s.device[click], s.person[click], s.start[click] + rng.integers(300, 1500, click.size))
    )

    # A known contact's device, on its first visit in the window after the contact exists
    # (the device a new lead signed up on is identified already).
    visit = np.flatnonzero((s.kind == BROWSE) & (s.person < pop.n) & (s.start >= window.start_ms))
    who = s.person[visit]
    visit = visit[s.start[visit] >= pop.date_added[who]]
    who = s.person[visit]
    visit = visit[~(pop.new_lead[who] & (s.device[visit] == pop.device_start[who]))]
    visit = visit[np.lexsort((s.start[visit], s.device[visit]))]
    first = np.ones(visit.size, dtype=bool)
    first[1:] = s.device[visit][1:] != s.device[visit][:-1]
    visit = visit[first]
    visit = visit[rng.random(visit.size) < FIRST_VISIT_IDENTIFY]
    parts.append(
        (s.device[visit], s.person[visit], s.start[visit] + rng.integers(500, 2000, visit.size))
    )

    device, contact, ts = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Identifies(ts, device, contact)


def _downloads(rng, s: _Sessions, v: _Views, pop, site, form: Track, known) -> Track:
    """Gated assets right after their form, and ungated ones at the end of a few sessions."""
    gated = np.flatnonzero(site.form_asset[form.properties["form_id"].to_numpy()] > 0)
    gated_ts = form.ts[gated] + rng.integers(2 * SECOND, 6 * SECOND, gated.size)
    gated_asset = site.form_asset[form.properties["form_id"].to_numpy()[gated]]

    contact = s.person < pop.n
    rate = np.where(contact, DOWNLOAD_RATE["contact"], DOWNLOAD_RATE["anonymous"])
    dl = np.flatnonzero(rng.random(len(s)) < rate)
    dl_ts = v.ts[v.last[dl]] + rng.integers(5 * SECOND, 60 * SECOND, dl.size)
    added = pop.date_added[np.minimum(s.person[dl], pop.n - 1)]
    ok = ~contact[dl] | (dl_ts >= added)  # contacts only once they exist
    dl, dl_ts = dl[ok], dl_ts[ok]
    pick = rng.choice(len(site.asset_ids), size=dl.size, p=site.asset_weights)

    ts = np.concatenate([gated_ts, dl_ts])
    asset = np.concatenate([gated_asset, site.asset_ids[pick]])
    device = np.concatenate([form.device[gated], s.device[dl]])
    person = np.concatenate([form.contact[gated], np.where(contact[dl], s.person[dl], -1)])
    properties = pl.DataFrame({"asset_id": asset, "url": ASSET_URLS.gather(asset)})
    return Track(
        "Asset Downloaded", ts, properties, device, person, known=known(person, device, ts)
    )


def _focus_items(rng, v: _Views, site, eligible, contact, known) -> list[Track]:
    """Focus items shown on some views of their pages, clicked now and then."""
    focus = site.page_focus[v.page]
    seen = np.flatnonzero(eligible & (focus > 0))
    seen = seen[rng.random(seen.size) < site.focus_view[focus[seen]]]
    seen_ts = v.ts[seen] + rng.integers(2 * SECOND, 15 * SECOND, seen.size)
    c = np.flatnonzero(rng.random(seen.size) < site.focus_click[focus[seen]])
    click_ts = seen_ts[c] + rng.integers(2 * SECOND, 20 * SECOND, c.size)
    tracks = []
    for event, rows, ts in (
        ("Focus Item Viewed", seen, seen_ts),
        ("Focus Item Clicked", seen[c], click_ts),
    ):
        properties = pl.DataFrame({"focus_id": focus[rows], "url": PAGE_URLS.gather(v.page[rows])})
        device, person = v.device[rows], contact[rows]
        tracks.append(Track(event, ts, properties, device, person, known=known(person, device, ts)))
    return tracks


def _dynamic_content(rng, v: _Views, pop, site, identified: np.ndarray) -> Track:
    """Identified contacts see the slot variant their segment gets (customers, big accounts)."""
    slot = site.page_slot[v.page]
    rows = np.flatnonzero(identified & (slot > 0))
    who = v.person[rows]
    hero = np.where(pop.customer[who], 1, 2)
    pricing = np.where(pop.large_account[who], 3, 4)
    content = np.where(slot[rows] == 1, hero, pricing)
    properties = pl.DataFrame(
        {
            "dynamic_content_id": content,
            "slot": DC_SLOTS.gather(content),
            "variant": DC_VARIANTS.gather(content),
        }
    )
    ts = v.ts[rows] + rng.integers(150, 900, rows.size)
    return Track(
        "Dynamic Content Viewed",
        ts,
        properties,
        v.device[rows],
        who,
        known=np.ones(rows.size, bool),
    )


def _device_rank(rng: np.random.Generator, count: np.ndarray) -> np.ndarray:
    """Mostly the first device, sometimes the second or third (when the person has them)."""
    u = rng.random(count.size)
    return np.minimum(np.where(u < 0.65, 0, np.where(u < 0.9, 1, 2)), count - 1)
