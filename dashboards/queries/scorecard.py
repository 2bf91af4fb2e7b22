"""Team scorecard: the marketing team's KPIs per quarter, quarter over quarter (issue 12).

From the desk's published reports: rpt_team_scorecard (every KPI of a quarter with the quarter
before), rpt_seo_daily, rpt_seo_queries, rpt_social_platforms, rpt_social_posts,
rpt_website_content and rpt_newsletter_issues. Quarterly, so the sidebar's period does not
apply here.
"""

from __future__ import annotations

import polars as pl

from dashboards import data

QUARTERS = "select distinct quarter from reports.rpt_team_scorecard order by quarter desc"

SCORECARD = """
select section, kpi, value, previous_value, change, change_ratio
from reports.rpt_team_scorecard
where quarter = $quarter
order by
    case section when 'website' then 1 when 'seo' then 2 when 'social' then 3 else 4 end, kpi
"""

SEO_DAILY = """
select day, clicks, impressions, ctr, avg_position
from reports.rpt_seo_daily
where quarter = $quarter
order by day
"""

SEO_OPPORTUNITIES = """
select query, impressions, clicks, ctr, avg_position, is_low_ctr, is_striking_distance,
    previous_impressions, previous_clicks
from reports.rpt_seo_queries
where quarter = $quarter and (is_low_ctr or is_striking_distance)
order by impressions desc
"""

SOCIAL_PLATFORMS = """
select platform, followers_start, followers_end, follower_growth, impressions, engagements,
    engagement_rate
from reports.rpt_social_platforms
where quarter = $quarter
order by followers_end desc
"""

SOCIAL_POSTS = """
select platform, post_id, first_day, impressions, engagements, engagement_rate
from reports.rpt_social_posts
where quarter = $quarter
order by engagement_rate desc nulls last, impressions desc
limit 20
"""

CONTENT = """
select page_path, is_blog_post, page_views, visitors, sessions, engaged_seconds, conversions
from reports.rpt_website_content
where quarter = $quarter
order by page_views desc
limit 25
"""

NEWSLETTER = """
select email_name, first_sent_on, sent, open_rate, click_rate, unsubscribed
from reports.rpt_newsletter_issues
where quarter = $quarter
order by first_sent_on
"""


def quarters() -> list[str]:
    return data.query(QUARTERS)["quarter"].to_list()


def scorecard(quarter: str) -> pl.DataFrame:
    return data.query(SCORECARD, {"quarter": quarter})


def scorecard_csv(quarter: str) -> bytes:
    return data.export_csv(SCORECARD, {"quarter": quarter})


def seo_daily(quarter: str) -> pl.DataFrame:
    return data.query(SEO_DAILY, {"quarter": quarter})


def seo_opportunities(quarter: str) -> pl.DataFrame:
    return data.query(SEO_OPPORTUNITIES, {"quarter": quarter})


def social_platforms(quarter: str) -> pl.DataFrame:
    return data.query(SOCIAL_PLATFORMS, {"quarter": quarter})


def social_posts(quarter: str) -> pl.DataFrame:
    return data.query(SOCIAL_POSTS, {"quarter": quarter})


def content(quarter: str) -> pl.DataFrame:
    return data.query(CONTENT, {"quarter": quarter})


def newsletter(quarter: str) -> pl.DataFrame:
    return data.query(NEWSLETTER, {"quarter": quarter})
