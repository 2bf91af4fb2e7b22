"""SMS campaigns: sent to contacts with a mobile number who opted in to SMS.

About 95% are delivered and the rest fail; a few recipients reply STOP, which puts them on
the SMS do-not-contact list for later campaigns.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ingest.generator import reference
from ingest.generator.email import SMS_CHANNEL, UNSUBSCRIBED, dnc_properties
from ingest.generator.events import Collector, Track
from ingest.generator.population import Population
from ingest.generator.schedule import Schedule
from ingest.generator.timeline import HOUR, MINUTE, NEVER, SECOND

FAILURE_RATE = 0.05
STOP_RATE = 0.015


def simulate(rng: np.random.Generator, pop: Population, schedule: Schedule) -> list[Track]:
    out = Collector()
    dnc = np.full(pop.n, NEVER, dtype=np.int64)
    for send in schedule.sms:
        reachable = pop.sms_optin & (pop.date_added < send.send_ms) & (dnc > send.send_ms)
        idx = np.flatnonzero(reachable)
        k = idx.size
        sent = send.send_ms + rng.integers(0, 20 * MINUTE, k)
        sms = np.full(k, send.sms_id)
        out.add("SMS Sent", contact=idx, ts=sent, sms_id=sms)
        failed = rng.random(k) < FAILURE_RATE
        f, d = np.flatnonzero(failed), np.flatnonzero(~failed)
        failed_ts = sent[f] + rng.integers(5 * SECOND, 60 * SECOND, f.size)
        reason = rng.integers(0, len(reference.SMS_FAILURE_REASONS), f.size)
        out.add("SMS Failed", contact=idx[f], ts=failed_ts, sms_id=sms[f], reason=reason)
        delivered = sent[d] + rng.integers(2 * SECOND, 30 * SECOND, d.size)
        out.add("SMS Delivered", contact=idx[d], ts=delivered, sms_id=sms[d])
        s = np.flatnonzero(rng.random(d.size) < STOP_RATE)
        stop = delivered[s] + rng.integers(MINUTE, 3 * HOUR, s.size)
        out.add("Do Not Contact Changed", contact=idx[d][s], ts=stop)
        dnc[idx[d][s]] = np.minimum(dnc[idx[d][s]], stop)

    tracks = []
    for event in out.names():
        cols = out.columns(event)
        if event == "Do Not Contact Changed":
            k = cols["ts"].size
            props = dnc_properties(np.full(k, SMS_CHANNEL), np.full(k, UNSUBSCRIBED))
        elif event == "SMS Failed":
            reasons = pl.Series(reference.SMS_FAILURE_REASONS).gather(cols["reason"])
            props = pl.DataFrame({"sms_id": cols["sms_id"], "reason": reasons})
        else:
            props = pl.DataFrame({"sms_id": cols["sms_id"]})
        tracks.append(Track(event, cols["ts"], props, contact=cols["contact"], user_id=True))
    return tracks
