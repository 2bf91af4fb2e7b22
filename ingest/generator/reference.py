"""Static vocabularies the generator draws from: places, names, jobs, devices, channels.

Data only (no logic). Countries carry everything that must stay consistent for a person:
cities with their state and IANA time zone, the locale, the phone prefix, consumer mail
domains and the top-level domain companies of that country use.
"""

from __future__ import annotations

from dataclasses import dataclass

SITE = "https://www.example-saas.com"
SITE_NAME = "Example SaaS"


@dataclass(frozen=True)
class Country:
    name: str
    weight: float
    locale: str  # Mautic spelling (en_US); web context uses en-US
    phone_prefix: str
    names: str  # key of NAMES
    tld: str
    cities: tuple[tuple[str, str, str], ...]  # (city, state, IANA time zone)
    mail_domains: tuple[str, ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "United States", 0.33, "en_US", "+1", "en", ".com",
        (
            ("New York", "New York", "America/New_York"),
            ("Boston", "Massachusetts", "America/New_York"),
            ("Atlanta", "Georgia", "America/New_York"),
            ("Chicago", "Illinois", "America/Chicago"),
            ("Austin", "Texas", "America/Chicago"),
            ("Denver", "Colorado", "America/Denver"),
            ("San Francisco", "California", "America/Los_Angeles"),
            ("Seattle", "Washington", "America/Los_Angeles"),
        ),
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com"),
    ),
    Country(
        "United Kingdom", 0.10, "en_GB", "+44", "en", ".co.uk",
        (
            ("London", "England", "Europe/London"),
            ("Manchester", "England", "Europe/London"),
            ("Bristol", "England", "Europe/London"),
            ("Edinburgh", "Scotland", "Europe/London"),
        ),
        ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"),
    ),
    Country(
        "Germany", 0.09, "de_DE", "+49", "de", ".de",
        (
            ("Berlin", "Berlin", "Europe/Berlin"),
            ("München", "Bayern", "Europe/Berlin"),
            ("Hamburg", "Hamburg", "Europe/Berlin"),
            ("Köln", "Nordrhein-Westfalen", "Europe/Berlin"),
            ("Frankfurt am Main", "Hessen", "Europe/Berlin"),
        ),
        ("gmx.de", "web.de", "gmail.com", "t-online.de"),
    ),
    Country(
        "France", 0.07, "fr_FR", "+33", "fr", ".fr",
        (
            ("Paris", "Île-de-France", "Europe/Paris"),
            ("Lyon", "Auvergne-Rhône-Alpes", "Europe/Paris"),
            ("Marseille", "Provence-Alpes-Côte d'Azur", "Europe/Paris"),
            ("Toulouse", "Occitanie", "Europe/Paris"),
        ),
        ("gmail.com", "orange.fr", "free.fr", "hotmail.fr"),
    ),
    Country(
        "Canada", 0.05, "en_CA", "+1", "en", ".ca",
        (
            ("Toronto", "Ontario", "America/Toronto"),
            ("Montréal", "Québec", "America/Toronto"),
            ("Vancouver", "British Columbia", "America/Vancouver"),
            ("Calgary", "Alberta", "America/Edmonton"),
        ),
        ("gmail.com", "outlook.com", "yahoo.ca"),
    ),
    Country(
        "Australia", 0.04, "en_AU", "+61", "en", ".com.au",
        (
            ("Sydney", "New South Wales", "Australia/Sydney"),
            ("Melbourne", "Victoria", "Australia/Melbourne"),
            ("Brisbane", "Queensland", "Australia/Brisbane"),
            ("Perth", "Western Australia", "Australia/Perth"),
        ),
        ("gmail.com", "bigpond.com", "outlook.com"),
    ),
    Country(
        "Netherlands", 0.03, "nl_NL", "+31", "nl", ".nl",
        (
            ("Amsterdam", "Noord-Holland", "Europe/Amsterdam"),
            ("Rotterdam", "Zuid-Holland", "Europe/Amsterdam"),
            ("Utrecht", "Utrecht", "Europe/Amsterdam"),
        ),
        ("gmail.com", "ziggo.nl", "kpnmail.nl"),
    ),
    Country(
        "Spain", 0.04, "es_ES", "+34", "es", ".es",
        (
            ("Madrid", "Madrid", "Europe/Madrid"),
            ("Barcelona", "Cataluña", "Europe/Madrid"),
            ("Valencia", "Comunidad Valenciana", "Europe/Madrid"),
        ),
        ("gmail.com", "hotmail.es", "yahoo.es"),
    ),
    Country(
        "Italy", 0.03, "it_IT", "+39", "it", ".it",
        (
            ("Milano", "Lombardia", "Europe/Rome"),
            ("Roma", "Lazio", "Europe/Rome"),
            ("Torino", "Piemonte", "Europe/Rome"),
        ),
        ("gmail.com", "libero.it", "virgilio.it"),
    ),
    Country(
        "Brazil", 0.05, "pt_BR", "+55", "pt", ".com.br",
        (
            ("São Paulo", "São Paulo", "America/Sao_Paulo"),
            ("Rio de Janeiro", "Rio de Janeiro", "America/Sao_Paulo"),
            ("Belo Horizonte", "Minas Gerais", "America/Sao_Paulo"),
        ),
        ("gmail.com", "hotmail.com", "uol.com.br"),
    ),
    Country(
        "India", 0.06, "en_IN", "+91", "in", ".in",
        (
            ("Bengaluru", "Karnataka", "Asia/Kolkata"),
            ("Mumbai", "Maharashtra", "Asia/Kolkata"),
            ("New Delhi", "Delhi", "Asia/Kolkata"),
            ("Hyderabad", "Telangana", "Asia/Kolkata"),
        ),
        ("gmail.com", "yahoo.co.in", "rediffmail.com"),
    ),
    Country(
        "Japan", 0.02, "ja_JP", "+81", "ja", ".jp",
        (("Tokyo", "Tokyo", "Asia/Tokyo"), ("Osaka", "Osaka", "Asia/Tokyo")),
        ("gmail.com", "yahoo.co.jp"),
    ),
    Country(
        "Sweden", 0.02, "sv_SE", "+46", "sv", ".se",
        (
            ("Stockholm", "Stockholm", "Europe/Stockholm"),
            ("Göteborg", "Västra Götaland", "Europe/Stockholm"),
        ),
        ("gmail.com", "telia.com", "hotmail.se"),
    ),
    Country(
        "Mexico", 0.03, "es_MX", "+52", "es", ".com.mx",
        (
            ("Ciudad de México", "Ciudad de México", "America/Mexico_City"),
            ("Guadalajara", "Jalisco", "America/Mexico_City"),
            ("Monterrey", "Nuevo León", "America/Monterrey"),
        ),
        ("gmail.com", "hotmail.com", "outlook.com"),
    ),
    Country(
        "Poland", 0.02, "pl_PL", "+48", "pl", ".pl",
        (("Warszawa", "Mazowieckie", "Europe/Warsaw"), ("Kraków", "Małopolskie", "Europe/Warsaw")),
        ("gmail.com", "wp.pl", "onet.pl"),
    ),
)  # fmt: skip

# First and last names by name group; accents are kept (mail addresses fold them to ASCII).
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
         "Elizabeth", "William", "Susan", "Richard", "Jessica", "Joseph", "Sarah", "Thomas",
         "Karen", "Chris", "Emily", "Daniel", "Olivia", "Matthew", "Sophie", "Andrew", "Grace",
         "Ryan", "Chloe", "Kevin", "Hannah", "Brian", "Megan"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
         "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White",
         "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
         "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "O'Brien",
         "Roberts"),
    ),
    "de": (
        ("Lukas", "Anna", "Jürgen", "Lena", "Felix", "Laura", "Maximilian", "Julia", "Jonas",
         "Sophie", "Stefan", "Katrin", "Tobias", "Sabine", "Andreas", "Miriam", "Björn", "Jana"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
         "Neumann", "Krüger", "Zimmermann"),
    ),
    "fr": (
        ("Camille", "Léa", "Lucas", "Hugo", "Chloé", "Manon", "Louis", "Jules", "Inès", "Théo",
         "François", "Élodie", "Nicolas", "Julien", "Aurélie", "Mathilde"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Rousseau"),
    ),
    "es": (
        ("María", "José", "Lucía", "Javier", "Carmen", "Alejandro", "Sofía", "Pablo", "Elena",
         "Diego", "Marta", "Sergio", "Valentina", "Andrés", "Paula", "Carlos"),
        ("García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
         "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Álvarez"),
    ),
    "it": (
        ("Giulia", "Marco", "Francesca", "Alessandro", "Chiara", "Luca", "Sara", "Matteo",
         "Valentina", "Davide", "Elisa", "Federico"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
         "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca"),
    ),
    "pt": (
        ("João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz", "Gabriel", "Larissa", "Rafael",
         "Camila", "Thiago", "Fernanda"),
        ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
         "Lima", "Gomes", "Costa", "Ribeiro", "Carvalho", "Araújo"),
    ),
    "nl": (
        ("Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Bram", "Sanne", "Jeroen", "Fleur",
         "Thijs", "Lotte"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
         "Visser", "Smit", "Meijer", "de Boer", "Mulder"),
    ),
    "sv": (
        ("Erik", "Anna", "Lars", "Maria", "Karl", "Sara", "Johan", "Emma", "Anders", "Linnéa"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
         "Persson", "Svensson", "Gustafsson", "Lindström"),
    ),
    "ja": (
        ("Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Takumi", "Sakura", "Kenji", "Yuki"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
         "Kobayashi", "Kato"),
    ),
    "in": (
        ("Aarav", "Priya", "Rahul", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Rohan",
         "Divya", "Amit", "Pooja"),
        ("Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Mehta",
         "Joshi", "Rao", "Desai"),
    ),
    "pl": (
        ("Jakub", "Zofia", "Łukasz", "Agnieszka", "Piotr", "Katarzyna", "Tomasz", "Magdalena",
         "Michał", "Anna"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński",
         "Szymański", "Woźniak", "Dąbrowski"),
    ),
}  # fmt: skip

# Folding of letters that cannot appear in a mail address's local part.
ASCII_FOLD: dict[str, str] = {
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "à": "a", "á": "a", "â": "a", "ã": "a",
    "å": "a", "ą": "a", "ç": "c", "ć": "c", "è": "e", "é": "e", "ê": "e", "ë": "e", "ę": "e",
    "í": "i", "ì": "i", "î": "i", "ï": "i", "ł": "l", "ñ": "n", "ń": "n", "ó": "o", "ò": "o",
    "ô": "o", "õ": "o", "ø": "o", "ś": "s", "ú": "u", "ù": "u", "û": "u", "ź": "z", "ż": "z",
    "'": "", " ": "", "-": "",
}  # fmt: skip

# Company names: <prefix><root> <kind> <legal form of the country>.
COMPANY_PREFIXES = (
    "Blue", "North", "Bright", "Silver", "Green", "Red", "Iron", "Clear", "Swift", "True",
    "Open", "Deep", "High", "Star", "Sun", "Cloud", "Stone", "Oak", "Pine", "River", "Lake",
    "Peak", "Alpha", "Nova", "Prime", "Core", "Quantum", "Vertex", "Summit", "Harbor", "Maple",
    "Cedar", "Falcon", "Eagle", "Wolf", "Fox", "Lion", "Polar", "Solar", "Lunar", "Atlas",
    "Orbit", "Pixel", "Data", "Byte", "Logic", "Smart", "Rapid", "Bold", "Zen", "Urban",
    "Metro", "Coastal", "Golden", "Crystal", "Ember", "Aurora", "Nimbus", "Terra", "Aqua",
)  # fmt: skip
COMPANY_ROOTS = (
    "wave", "field", "bridge", "point", "works", "forge", "path", "gate", "line", "light",
    "stream", "mark", "side", "view", "ridge", "spark", "scape", "wise", "craft", "leaf",
    "stack", "loop", "hive", "nest", "port", "dale", "crest", "shore", "grid", "sight",
    "mind", "beam", "flow", "vale", "rock", "wood", "bay", "hub", "lab", "trail",
    "well", "mill", "tide", "peak", "star", "ware", "net", "soft", "tech", "cast",
)  # fmt: skip
COMPANY_KINDS = (
    "Systems", "Solutions", "Labs", "Group", "Technologies", "Consulting", "Partners",
    "Analytics", "Digital", "Software", "Media", "Logistics", "Health", "Foods", "Energy",
    "Retail", "Capital", "Studios", "Networks", "Dynamics", "Industries", "Ventures",
    "Robotics", "Security", "Cloud", "Commerce", "Learning", "Travel", "Finance", "Design",
)  # fmt: skip
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "United States": ("Inc.", "LLC", "Corp."),
    "United Kingdom": ("Ltd", "plc"),
    "Germany": ("GmbH", "AG"),
    "France": ("SAS", "SA"),
    "Canada": ("Inc.", "Ltd"),
    "Australia": ("Pty Ltd",),
    "Netherlands": ("B.V.",),
    "Spain": ("S.L.", "S.A."),
    "Italy": ("S.r.l.", "S.p.A."),
    "Brazil": ("Ltda.",),
    "India": ("Pvt Ltd",),
    "Japan": ("K.K.",),
    "Sweden": ("AB",),
    "Mexico": ("S.A. de C.V.",),
    "Poland": ("Sp. z o.o.",),
}

INDUSTRIES = (
    "Software", "E-commerce", "Financial Services", "Healthcare", "Education", "Manufacturing",
    "Retail", "Media & Publishing", "Marketing Agency", "Consulting", "Travel & Hospitality",
    "Non-profit", "Real Estate", "Telecommunications",
)  # fmt: skip

POSITIONS = (
    "Marketing Manager", "Head of Marketing", "CMO", "Growth Marketer", "Marketing Operations",
    "Demand Generation Manager", "Content Manager", "Sales Manager", "Account Executive",
    "CEO", "Founder", "CTO", "Product Manager", "Data Analyst", "Marketing Specialist",
    "Digital Marketing Lead", "VP Sales", "Customer Success Manager", "Developer",
    "Operations Manager",
)  # fmt: skip

LEAD_SOURCES = (
    ("web form", 0.34), ("webinar", 0.12), ("trade show", 0.08), ("import", 0.14),
    ("referral", 0.08), ("paid search", 0.12), ("social", 0.08), ("partner", 0.04),
)  # fmt: skip

# (tag, probability for B2B contacts, probability for B2C contacts)
TAGS = (
    ("newsletter", 0.30, 0.35), ("webinar", 0.12, 0.04), ("pricing", 0.10, 0.06),
    ("trial", 0.08, 0.05), ("customer", 0.10, 0.06), ("ebook", 0.10, 0.08),
    ("demo-request", 0.05, 0.01), ("partner", 0.02, 0.0), ("event-2025", 0.06, 0.02),
)  # fmt: skip

DESKTOP_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
)
MOBILE_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.5 Mobile/15E148 Safari/604.1",
)
DESKTOP_AGENT_WEIGHTS = (0.42, 0.18, 0.14, 0.14, 0.09, 0.03)
MOBILE_AGENT_WEIGHTS = (0.5, 0.28, 0.14, 0.08)

# Local-time activity profiles: share of sessions by hour 0..23 and weight by weekday Mon..Sun.
WORK_HOURS = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4.0, 7.5, 8.5, 8.0, 5.5, 6.5, 8.0, 8.0, 7.0, 5.0,
    2.5, 1.5, 1.2, 1.0, 0.6, 0.3,
)  # fmt: skip
HOME_HOURS = (
    0.8, 0.4, 0.2, 0.1, 0.1, 0.2, 0.6, 1.5, 2.5, 3.0, 3.5, 4.0, 5.0, 4.5, 4.0, 4.0, 4.5, 5.0,
    6.0, 7.5, 8.0, 7.0, 4.5, 2.0,
)  # fmt: skip
WORK_WEEK = (1.0, 1.05, 1.05, 1.0, 0.85, 0.22, 0.18)
HOME_WEEK = (1.0, 1.0, 1.0, 1.0, 0.95, 0.8, 0.85)

# Traffic channels of a web session: (name, probability for organic sessions, utm source,
# utm medium, utm campaign names, referrers).
CHANNELS: tuple[tuple[str, float, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("direct", 0.30, "", "", (), ("",)),
    ("organic", 0.30, "", "", (),
     ("https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/",
      "https://www.google.co.uk/", "https://www.ecosia.org/")),
    ("cpc", 0.13, "google", "cpc",
     ("brand-search", "competitor-search", "marketing-automation-generic", "retargeting"),
     ("https://www.google.com/",)),
    ("linkedin", 0.08, "linkedin", "social",
     ("playbook-ebook", "webinar-promo", "thought-leadership"), ("https://www.linkedin.com/",)),
    ("facebook", 0.05, "facebook", "social",
     ("lookalike-audience", "retargeting-visitors"), ("https://www.facebook.com/",)),
    ("referral", 0.14, "", "", (),
     ("https://www.g2.com/products/example-saas/reviews", "https://news.ycombinator.com/",
      "https://www.capterra.com/p/example-saas/", "https://medium.com/@growthteam",
      "https://www.reddit.com/r/marketing/")),
    ("email", 0.0, "newsletter", "email", (), ("",)),
)  # fmt: skip

# (network, url head, text between handle and post number; None: the url has no handle)
SOCIAL_NETWORKS: tuple[tuple[str, str, str | None], ...] = (
    ("twitter", "https://twitter.com/", "/status/"),
    ("linkedin", "https://www.linkedin.com/feed/update/urn:li:activity:", None),
    ("facebook", "https://www.facebook.com/", "/posts/"),
    ("instagram", "https://www.instagram.com/p/", None),
)

POINT_REASONS = (
    ("met at trade show", 25, 0.25),
    ("qualified by sales call", 20, 0.25),
    ("attended onsite workshop", 15, 0.15),
    ("manual correction", -10, 0.2),
    ("not a fit (student)", -25, 0.15),
)

HARD_BOUNCE_REASONS = (
    "550 5.1.1 The email account that you tried to reach does not exist",
    "550 5.1.10 Recipient address rejected: user unknown",
    "553 5.1.2 Domain of recipient address does not exist",
)
SOFT_BOUNCE_REASONS = (
    "452 4.2.2 Mailbox full",
    "421 4.7.0 Temporary system problem, try again later",
    "450 4.2.1 Recipient is receiving mail too quickly",
)
SMS_FAILURE_REASONS = ("invalid number", "carrier rejected", "unreachable handset")
