"""The website being tracked: pages, forms, assets, focus items and dynamic content slots.

Static definitions plus numpy lookup tables the web simulation samples from (which page a
channel lands on, where visitors browse next, which form a page hosts, …). Ids are the
catalog ids written to ``landing/catalogs``; index 0 of every lookup is unused so that an
id indexes its row directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest.generator.reference import CHANNELS, SITE


@dataclass(frozen=True)
class Page:
    id: int
    title: str
    path: str
    kind: str
    category: str
    weight: float  # how often visitors browse to it
    form: int = 0  # id of the form it hosts
    focus: int = 0  # id of the focus item shown on it
    slot: str = ""  # dynamic content slot on it
    language: str = "en"
    published: bool = True

    @property
    def alias(self) -> str:
        return self.path.strip("/").replace("/", "-") or "home"

    @property
    def url(self) -> str:
        return SITE + self.path


@dataclass(frozen=True)
class Form:
    id: int
    name: str
    alias: str
    form_type: str
    conversion_weight: float  # share of new leads that sign up through it
    repeat_rate: float  # chance a known contact viewing its page submits it again
    published: bool = True


@dataclass(frozen=True)
class Asset:
    id: int
    title: str
    alias: str
    extension: str
    category: str
    weight: float  # share of ungated downloads
    gated_by: int = 0  # form id whose submission hands out this asset
    published: bool = True

    @property
    def url(self) -> str:
        return f"{SITE}/asset/{self.id}:{self.alias}"


@dataclass(frozen=True)
class FocusItem:
    id: int
    name: str
    focus_type: str
    style: str
    target: str  # path it links to
    view_rate: float
    click_rate: float
    published: bool = True


@dataclass(frozen=True)
class DynamicContent:
    id: int
    name: str
    slot: str
    variant: str
    segment_hint: str
    published: bool = True


_BLOG = (
    ("What is marketing automation?", "what-is-marketing-automation"),
    ("How to build a lead scoring model", "lead-scoring-model"),
    ("Email deliverability checklist for 2026", "email-deliverability-checklist"),
    ("Segmentation 101: from lists to live segments", "segmentation-101"),
    ("5 nurture campaigns every SaaS needs", "nurture-campaigns-for-saas"),
    ("UTM parameters: a practical guide", "utm-parameters-guide"),
    ("Measuring campaign ROI with a data warehouse", "campaign-roi-data-warehouse"),
    ("GDPR and consent for marketers", "gdpr-consent-for-marketers"),
    ("Writing subject lines that get opened", "subject-lines-that-get-opened"),
    ("Landing page teardown: 7 lessons", "landing-page-teardown"),
    ("From MQL to SQL: aligning sales and marketing", "mql-to-sql"),
    ("Dynamic content without the headache", "dynamic-content-without-headache"),
)

FORMS: tuple[Form, ...] = (
    Form(1, "Newsletter signup", "newsletter-signup", "standalone", 0.34, 0.004),
    Form(2, "Contact us", "contact-us", "standalone", 0.08, 0.05),
    Form(3, "Demo request", "demo-request", "campaign", 0.10, 0.12),
    Form(4, "Ebook download", "ebook-download", "campaign", 0.22, 0.15),
    Form(5, "Webinar registration", "webinar-registration", "campaign", 0.14, 0.2),
    Form(6, "Free trial signup", "free-trial", "standalone", 0.12, 0.06),
    Form(7, "Customer survey 2024", "customer-survey-2024", "standalone", 0.0, 0.0, False),
)

FOCUS_ITEMS: tuple[FocusItem, ...] = (
    FocusItem(1, "Webinar promo bar", "link", "bar", "/webinar/data-driven-campaigns", 0.2, 0.04),
    FocusItem(2, "Exit intent: book a demo", "form", "modal", "/demo", 0.15, 0.06),
    FocusItem(3, "Newsletter nudge", "form", "notification", "/blog", 0.12, 0.03),
    FocusItem(
        4, "Playbook takeover", "link", "page", "/lp/marketing-automation-playbook", 0.1, 0.08
    ),
    FocusItem(5, "Black Friday 2024 bar", "notice", "bar", "/pricing", 0.0, 0.0, False),
)

DYNAMIC_CONTENT: tuple[DynamicContent, ...] = (
    DynamicContent(1, "Home hero: customers", "hero", "customer", "tag:customer"),
    DynamicContent(2, "Home hero: prospects", "hero", "prospect", "not tag:customer"),
    DynamicContent(3, "Pricing CTA: enterprise", "pricing-cta", "enterprise", "employees>=500"),
    DynamicContent(4, "Pricing CTA: small teams", "pricing-cta", "smb", "employees<500"),
    DynamicContent(5, "Features banner (retired)", "features-banner", "default", "all", False),
)

ASSETS: tuple[Asset, ...] = (
    Asset(1, "The Marketing Automation Playbook", "marketing-automation-playbook", "pdf",
          "ebooks", 0.0, gated_by=4),
    Asset(2, "Email Benchmarks Report 2026", "email-benchmarks-2026", "pdf", "reports", 0.3),
    Asset(3, "Product datasheet", "product-datasheet", "pdf", "sales", 0.25),
    Asset(4, "ROI calculator", "roi-calculator", "xlsx", "tools", 0.15),
    Asset(5, "Case study: Northwind Traders", "case-study-northwind", "pdf", "case studies", 0.2),
    Asset(6, "Webinar slides: data-driven campaigns", "webinar-slides-data-driven", "pptx",
          "webinars", 0.1),
    Asset(7, "Price list 2024", "price-list-2024", "pdf", "sales", 0.0, published=False),
)  # fmt: skip


def _pages() -> tuple[Page, ...]:
    pages = [
        Page(1, "Example SaaS: marketing automation for data teams", "/", "home", "website",
             14.0, focus=3, slot="hero"),
        Page(2, "Pricing", "/pricing", "pricing", "website", 10.0, focus=2, slot="pricing-cta"),
        Page(3, "Features", "/features", "features", "website", 8.0, focus=4),
        Page(4, "Integrations", "/integrations", "features", "website", 3.0, focus=4),
        Page(5, "About us", "/about", "about", "website", 2.0),
        Page(6, "Contact", "/contact", "contact", "website", 2.0, form=2),
        Page(7, "Book a demo", "/demo", "landing", "landing pages", 3.0, form=3),
        Page(8, "Free ebook: The Marketing Automation Playbook",
             "/lp/marketing-automation-playbook", "landing", "landing pages", 2.5, form=4),
        Page(9, "Webinar: data-driven campaigns", "/webinar/data-driven-campaigns", "webinar",
             "webinars", 2.5, form=5),
        Page(10, "Start your free trial", "/trial", "trial", "website", 3.0, form=6),
        Page(11, "Demo buchen", "/de/demo", "landing", "landing pages", 0.4, form=3,
             language="de"),
        Page(12, "Pricing (2024)", "/pricing-2024", "pricing", "website", 0.0, published=False),
    ]  # fmt: skip
    for i, (title, slug) in enumerate(_BLOG):
        weight = 6.0 / (i + 1) ** 0.7  # a few posts draw most readers
        pages.append(Page(13 + i, title, f"/blog/{slug}", "blog", "blog", weight, 1, 1))
    return tuple(pages)


PAGES: tuple[Page, ...] = _pages()

# Where each channel's visitors land, by page kind.
_LANDING_KINDS: dict[str, dict[str, float]] = {
    "direct": {"home": 0.6, "pricing": 0.15, "blog": 0.15, "features": 0.1},
    "organic": {"blog": 0.6, "home": 0.2, "features": 0.1, "pricing": 0.1},
    "cpc": {"landing": 0.45, "pricing": 0.25, "home": 0.2, "trial": 0.1},
    "linkedin": {"landing": 0.35, "webinar": 0.25, "blog": 0.3, "home": 0.1},
    "facebook": {"landing": 0.4, "blog": 0.4, "home": 0.2},
    "referral": {"blog": 0.4, "home": 0.3, "features": 0.2, "pricing": 0.1},
    "email": {"blog": 0.5, "pricing": 0.3, "features": 0.2},
}


@dataclass(frozen=True)
class SiteTables:
    """numpy lookups by id (row 0 unused)."""

    page_ids: np.ndarray  # published page ids
    browse: np.ndarray  # probability of each published page as a next page
    landing: np.ndarray  # (channel, published page) → probability as a landing page
    page_form: np.ndarray  # page id → form id hosted (0 none)
    page_focus: np.ndarray  # page id → focus id (0 none)
    page_slot: np.ndarray  # page id → 0 none, 1 hero, 2 pricing-cta
    form_repeat: np.ndarray  # form id → repeat submission rate for known contacts
    form_ids: np.ndarray  # forms new leads convert through
    form_weights: np.ndarray
    form_pages: tuple[np.ndarray, ...]  # form id → host page ids
    form_page_weights: tuple[np.ndarray, ...]
    focus_view: np.ndarray  # focus id → view rate
    focus_click: np.ndarray  # focus id → click rate
    asset_ids: np.ndarray  # ungated published assets
    asset_weights: np.ndarray
    form_asset: np.ndarray  # form id → asset handed out (0 none)


def tables() -> SiteTables:
    published = [p for p in PAGES if p.published]
    ids = np.array([p.id for p in published])
    weights = np.array([p.weight for p in published])
    landing = np.zeros((len(CHANNELS), len(published)))
    for c, (channel, *_rest) in enumerate(CHANNELS):
        for kind, share in _LANDING_KINDS[channel].items():
            members = np.array([p.kind == kind for p in published])
            landing[c, members] += share * weights[members] / weights[members].sum()
    size = max(p.id for p in PAGES) + 1
    page_form = np.zeros(size, dtype=np.int64)
    page_focus = np.zeros(size, dtype=np.int64)
    page_slot = np.zeros(size, dtype=np.int64)
    for p in published:
        page_form[p.id], page_focus[p.id] = p.form, p.focus
        page_slot[p.id] = {"": 0, "hero": 1, "pricing-cta": 2}[p.slot]
    forms = [f for f in FORMS if f.published and f.conversion_weight > 0]
    form_pages, form_page_weights = [np.zeros(0, np.int64)], [np.zeros(0)]
    form_repeat = np.zeros(len(FORMS) + 1)
    form_asset = np.zeros(len(FORMS) + 1, dtype=np.int64)
    for f in FORMS:
        hosts = [p for p in published if p.form == f.id]
        w = np.array([p.weight for p in hosts]) if hosts else np.zeros(0)
        form_pages.append(np.array([p.id for p in hosts], dtype=np.int64))
        form_page_weights.append(w / w.sum() if hosts else w)
        form_repeat[f.id] = f.repeat_rate
    for a in ASSETS:
        if a.gated_by:
            form_asset[a.gated_by] = a.id
    focus_view = np.zeros(len(FOCUS_ITEMS) + 1)
    focus_click = np.zeros(len(FOCUS_ITEMS) + 1)
    for item in FOCUS_ITEMS:
        focus_view[item.id], focus_click[item.id] = item.view_rate, item.click_rate
    ungated = [a for a in ASSETS if a.published and a.weight > 0]
    asset_weights = np.array([a.weight for a in ungated])
    conversion = np.array([f.conversion_weight for f in forms])
    return SiteTables(
        page_ids=ids,
        browse=weights / weights.sum(),
        landing=landing / landing.sum(axis=1, keepdims=True),
        page_form=page_form,
        page_focus=page_focus,
        page_slot=page_slot,
        form_repeat=form_repeat,
        form_ids=np.array([f.id for f in forms]),
        form_weights=conversion / conversion.sum(),
        form_pages=tuple(form_pages),
        form_page_weights=tuple(form_page_weights),
        focus_view=focus_view,
        focus_click=focus_click,
        asset_ids=np.array([a.id for a in ungated]),
        asset_weights=asset_weights / asset_weights.sum(),
        form_asset=form_asset,
    )


def lookup(items, attr: str) -> pl.Series:
    """``attr`` of catalog items as a series indexed by id (unused ids hold "")."""
    values = {item.id: getattr(item, attr) for item in items}
    return pl.Series([values.get(i, "") for i in range(max(values) + 1)])
