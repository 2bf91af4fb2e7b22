"""Email: the welcome email for every new lead, then each list send in time order.

Vectorised over recipients, looping over the few dozen sends. A send reaches contacts that
existed before it, opted in to the newsletter and are not on the do-not-contact list yet.
Bad addresses bounce hard (and go on the list), a few deliveries bounce soft, and opens,
clicks and unsubscribes follow each contact's open propensity, hours to days after
delivery. A final pass removes whatever would fall after a contact's do-not-contact time,
so nothing reaches a contact once they unsubscribed, bounced hard or were blocked by hand.
Clicks come back as click-throughs for the web simulation to turn into visits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest.generator import reference
from ingest.generator.events import Collector, Track
from ingest.generator.population import Population
from ingest.generator.schedule import (
    ANNOUNCEMENT,
    NEWSLETTER,
    REENGAGEMENT,
    WELCOME,
    WELCOME_ID,
    Schedule,
)
from ingest.generator.site import PAGES, lookup
from ingest.generator.timeline import DAY, HOUR, MINUTE, NEVER, SECOND, lognormal_ms

# kind → (open propensity factor, click share of openers, unsubscribe share of openers)
RATES = {
    WELCOME: (1.8, 0.22, 0.004),
    NEWSLETTER: (1.0, 0.14, 0.008),
    ANNOUNCEMENT: (1.1, 0.18, 0.006),
    REENGAGEMENT: (0.5, 0.12, 0.03),
}
SOFT_BOUNCE_RATE = 0.015
DECAY_RATE = 0.007  # chance per send that a working address has died since (job change)
REOPEN_RATE = 0.2
SEND_SPREAD = 45 * MINUTE  # a list send takes this long to leave the queue
UTM = "?utm_source=newsletter&utm_medium=email&utm_campaign="
_LINK_WEIGHTS = np.array([0.4, 0.25, 0.2, 0.15])


DNC_CHANNELS = ("email", "sms")
DNC_REASONS = ("unsubscribed", "bounced", "manual")
EMAIL_CHANNEL, SMS_CHANNEL = 0, 1
UNSUBSCRIBED, BOUNCED, MANUAL = 0, 1, 2


@dataclass
class ClickThroughs:
    """Clicked links: each becomes a web session of the contact."""

    contact: np.ndarray
    ts: np.ndarray
    page: np.ndarray
    campaign: np.ndarray  # index into ``aliases``
    aliases: list[str]


@dataclass
class MailResult:
    tracks: list[Track]
    clicks: ClickThroughs


def simulate(rng: np.random.Generator, pop: Population, schedule: Schedule) -> MailResult:
    out = Collector()
    dnc = pop.manual_dnc.copy()
    last_open = np.full(pop.n, -NEVER, dtype=np.int64)
    aliases = ["welcome"] + [send.alias for send in schedule.emails]

    def block(contact: np.ndarray, ts: np.ndarray, reason: int) -> None:
        k = contact.size
        out.add("Do Not Contact Changed", contact=contact, ts=ts,
                channel=np.full(k, EMAIL_CHANNEL), reason=np.full(k, reason))  # fmt: skip
        dnc[contact] = np.minimum(dnc[contact], ts)

    def deliver(idx, sent, email_id, kind, alias, links):
        opens_factor, click_rate, unsub_rate = RATES[kind]
        k = idx.size
        email = np.full(k, email_id)
        out.add("Email Sent", contact=idx, ts=sent, email_id=email)
        hard = pop.bad_address[idx] | (rng.random(k) < DECAY_RATE)
        bounced = hard | (rng.random(k) < SOFT_BOUNCE_RATE)
        bounce_ts = sent + rng.integers(2 * SECOND, 90 * SECOND, k)
        b = np.flatnonzero(bounced)
        reason = rng.integers(0, 3, b.size)
        out.add("Email Bounced", contact=idx[b], ts=bounce_ts[b], email_id=email[b],
                hard=hard[b], reason=reason)  # fmt: skip
        h = np.flatnonzero(hard)
        block(idx[h], bounce_ts[h], BOUNCED)

        d = np.flatnonzero(~bounced)
        got, delivered = idx[d], sent[d] + rng.integers(SECOND, 30 * SECOND, d.size)
        out.add("Email Delivered", contact=got, ts=delivered, email_id=email[d])
        o = np.flatnonzero(rng.random(d.size) < np.minimum(pop.open_rate[got] * opens_factor, 0.95))
        opener = got[o]
        opened = delivered[o] + lognormal_ms(rng, 2.5 * HOUR, 1.3, o.size)
        out.add("Email Opened", contact=opener, ts=opened, email_id=email[o])
        again = np.flatnonzero(rng.random(o.size) < REOPEN_RATE)
        reopened = opened[again] + lognormal_ms(rng, 5 * HOUR, 1.2, again.size)
        out.add("Email Opened", contact=opener[again], ts=reopened, email_id=email[again])
        last_open[opener] = np.maximum(last_open[opener], opened)

        c = np.flatnonzero(rng.random(o.size) < click_rate)
        weights = _LINK_WEIGHTS[: len(links)] / _LINK_WEIGHTS[: len(links)].sum()
        page = np.asarray(links)[rng.choice(len(links), size=c.size, p=weights)]
        clicked = opened[c] + lognormal_ms(rng, 40 * SECOND, 0.8, c.size) + SECOND
        out.add("Email Link Clicked", contact=opener[c], ts=clicked, email_id=email[c],
                page=page, campaign=np.full(c.size, alias))  # fmt: skip
        u = np.flatnonzero(rng.random(o.size) < unsub_rate)
        left = opened[u] + rng.integers(20 * SECOND, 10 * MINUTE, u.size)
        out.add("Email Unsubscribed", contact=opener[u], ts=left, email_id=email[u])
        block(opener[u], left, UNSUBSCRIBED)

    new = np.flatnonzero(pop.new_lead & (dnc > pop.date_added))
    sent = pop.date_added[new] + rng.integers(MINUTE, 5 * MINUTE, new.size)
    deliver(new, sent, WELCOME_ID, WELCOME, 0, schedule.welcome_links)

    for number, send in enumerate(schedule.emails, start=1):
        eligible = (pop.date_added < send.send_ms) & pop.newsletter_optin & (dnc > send.send_ms)
        if send.kind == REENGAGEMENT:
            quiet = (last_open < send.send_ms - 45 * DAY) & (
                pop.date_added < send.send_ms - 60 * DAY
            )
            eligible &= quiet
        idx = np.flatnonzero(eligible)
        sent = send.send_ms + rng.integers(0, SEND_SPREAD, idx.size)
        deliver(idx, sent, send.email_id, send.kind, number, send.links)

    return _finish(out, dnc, pop, aliases)


def _finish(out: Collector, dnc: np.ndarray, pop: Population, aliases: list[str]) -> MailResult:
    """Drop everything after each contact's do-not-contact time and shape the tracks."""
    tracks: list[Track] = []
    clicks = ClickThroughs(*(np.zeros(0, np.int64) for _ in range(4)), aliases)
    for event in out.names():
        cols = out.columns(event)
        keep = cols["ts"] <= dnc[cols["contact"]]
        cols = {k: v[keep] for k, v in cols.items()}
        contact, ts = cols["contact"], cols["ts"]
        if event == "Email Bounced":
            props = pl.DataFrame(
                {
                    "email_id": cols["email_id"],
                    "bounce_type": np.where(cols["hard"], "hard", "soft"),
                    "reason": np.where(
                        cols["hard"],
                        np.asarray(reference.HARD_BOUNCE_REASONS)[cols["reason"]],
                        np.asarray(reference.SOFT_BOUNCE_REASONS)[cols["reason"]],
                    ),
                }
            )
        elif event == "Do Not Contact Changed":
            props = dnc_properties(cols["channel"], cols["reason"])
        elif event == "Email Link Clicked":
            link = (
                lookup(PAGES, "url").gather(cols["page"])
                + UTM
                + pl.Series(aliases).gather(cols["campaign"])
            )
            props = pl.DataFrame({"email_id": cols["email_id"], "link_url": link})
            clicks = ClickThroughs(contact, ts, cols["page"], cols["campaign"], aliases)
        else:
            props = pl.DataFrame({"email_id": cols["email_id"]})
        tracks.append(Track(event, ts, props, contact=contact, user_id=True))
    return MailResult(tracks, clicks)


def dnc_properties(channel: np.ndarray, reason: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "channel": pl.Series(DNC_CHANNELS).gather(channel),
            "reason": pl.Series(DNC_REASONS).gather(reason),
        }
    )
