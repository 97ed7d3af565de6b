"""The company's fixed world: countries and their IP ranges, devices, referrers, plans, courses.

Silver enrichment needs to turn an IP into a country and a user agent into a device brand;
the mappings the generator uses are exported here (``IP_FIRST_OCTET_COUNTRY``,
``USER_AGENTS``) so that enrichment and tests can agree with what was planted.
"""

from __future__ import annotations

from include.raw_sources import ACTION_TYPES, HOSTNAMES

# (country, region, traffic weight, first IPv4 octets owned in this synthetic world)
COUNTRIES: tuple[tuple[str, str, float, tuple[int, ...]], ...] = (
    ("US", "NA", 0.34, (23, 24, 50, 63)),
    ("CA", "NA", 0.05, (70, 99)),
    ("GB", "EMEA", 0.10, (81, 86)),
    ("DE", "EMEA", 0.08, (84, 91)),
    ("FR", "EMEA", 0.05, (90, 92)),
    ("NL", "EMEA", 0.03, (94,)),
    ("IN", "APAC", 0.12, (49, 103)),
    ("AU", "APAC", 0.04, (101, 110)),
    ("SG", "APAC", 0.02, (116,)),
    ("JP", "APAC", 0.03, (126,)),
    ("BR", "LATAM", 0.06, (177, 179)),
    ("MX", "LATAM", 0.04, (187, 189)),
    ("NG", "EMEA", 0.02, (105,)),
    ("ZA", "EMEA", 0.02, (41,)),
)
IP_FIRST_OCTET_COUNTRY: dict[int, str] = {
    octet: code for code, _, _, octets in COUNTRIES for octet in octets
}
BOT_IP_FIRST_OCTET = 66  # crawlers come from a hosting range

# (user agent, device brand, device type, weight)
USER_AGENTS: tuple[tuple[str, str, str, float], ...] = (
    (
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36"
        ),
        "windows",
        "desktop",
        0.30,
    ),
    (
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.1 Safari/605.1.15"
        ),
        "apple",
        "desktop",
        0.20,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "linux",
        "desktop",
        0.04,
    ),
    (
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
            "like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
        ),
        "iphone",
        "mobile",
        0.20,
    ),
    (
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36"
        ),
        "samsung",
        "mobile",
        0.12,
    ),
    (
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36"
        ),
        "google",
        "mobile",
        0.06,
    ),
    (
        (
            "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
        ),
        "ipad",
        "tablet",
        0.08,
    ),
)
BOT_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/) crawler",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
)
DEVICE_TYPES: tuple[str, ...] = ("desktop", "mobile", "tablet")

# (utm_source or None, referrer URL or None, weight)
REFERRERS: tuple[tuple[str | None, str | None, float], ...] = (
    ("google", "https://www.google.com/", 0.30),
    (None, None, 0.22),  # direct
    ("linkedin", "https://www.linkedin.com/", 0.14),
    ("substack", "https://learnlake.substack.com/", 0.10),
    ("newsletter", "https://mail.learnlake.io/newsletter", 0.10),
    ("twitter", "https://t.co/", 0.06),
    ("bing", "https://www.bing.com/", 0.04),
    ("youtube", "https://www.youtube.com/", 0.04),
)
ACQUISITION_CHANNELS: tuple[str, ...] = (
    "organic_search",
    "direct",
    "social_linkedin",
    "content_substack",
    "newsletter",
    "social_twitter",
    "paid_search",
    "video",
)  # aligned with REFERRERS

# SaaS plans: (plan, base monthly price in USD). "free" is where lapsed trials land.
PLANS: tuple[tuple[str, float], ...] = (("starter", 29.0), ("pro", 79.0), ("business", 199.0))
PLAN_WEIGHTS: tuple[float, ...] = (0.55, 0.33, 0.12)
# list-size buckets: (lower, upper, price multiplier, package name)
LIST_SIZES: tuple[tuple[int, int, float, str], ...] = (
    (100, 1_000, 1.0, "pg1_up_to_1k"),
    (1_000, 5_000, 1.6, "pg2_up_to_5k"),
    (5_000, 25_000, 2.8, "pg3_up_to_25k"),
    (25_000, 100_000, 4.5, "pg4_up_to_100k"),
)
LIST_SIZE_WEIGHTS: tuple[float, ...] = (0.50, 0.30, 0.15, 0.05)
PROMO_CODES: tuple[str, ...] = ("WELCOME10", "NEWYEAR", "BLACKFRIDAY", "PARTNER")

# The course catalog: (product_id, name, category, base price)
PRODUCTS: tuple[tuple[str, str, str, float], ...] = tuple(
    (f"crs_{i:03d}", name, cat, price)
    for i, (name, cat, price) in enumerate(
        (
            ("Data Engineering Bootcamp", "bootcamp", 1499.0),
            ("Analytics Engineering Bootcamp", "bootcamp", 1299.0),
            ("ML Engineering Bootcamp", "bootcamp", 1799.0),
            ("SQL for Analysts", "course", 149.0),
            ("Spark Fundamentals", "course", 199.0),
            ("Delta Lake Deep Dive", "course", 249.0),
            ("Airflow in Production", "course", 229.0),
            ("Experimentation and A/B Testing", "course", 279.0),
            ("Bayesian Statistics for Product", "course", 259.0),
            ("Email Marketing Mastery", "course", 99.0),
            ("Growth Analytics", "course", 189.0),
            ("Python for Data", "course", 129.0),
            ("dbt Essentials", "course", 159.0),
            ("Data Modeling Patterns", "course", 179.0),
            ("Streaming with Kafka", "course", 219.0),
            ("Dashboard Design", "workshop", 79.0),
            ("Interviewing for Data Jobs", "workshop", 59.0),
            ("Career Coaching Session", "workshop", 129.0),
        ),
        start=1,
    )
)

BAD_HOSTNAMES: tuple[str, ...] = (
    "www..learnlake.io",
    "learnlake",
    "www.learnlake",
    "WWW.LEARNLAKE.COM ",
    "http://www.learnlake.io",
)
UNKNOWN_ACTIONS: tuple[str, ...] = ("clik", "pageview", "Sign_Up", "purchse", "scroll")
NULLABLE_WEB_FIELDS: tuple[str, ...] = ("hostname", "action_type", "event_time", "ip", "user_agent")

# URL path per action type (homepage for exposures, course pages for the shop).
ACTION_PATHS: dict[str, str] = {
    "page_view": "/blog",
    "landing_page": "/",
    "watch_video": "/videos",
    "experiment_exposure": "/",
    "signup": "/signup",
    "login": "/login",
    "onboarding_start": "/app/onboarding",
    "onboarding_complete": "/app/onboarding/done",
    "product_view": "/bootcamp",
    "add_to_cart": "/cart",
    "checkout_start": "/checkout",
    "checkout_complete": "/checkout/complete",
    "purchase": "/checkout/thank-you",
}
ACTION_INDEX: dict[str, int] = {a: i for i, a in enumerate(ACTION_TYPES)}
HOST_INDEX: dict[str, int] = {h: i for i, h in enumerate(HOSTNAMES)}
