"""Seeded synthetic online store written as real export files.

:func:`generate_demo_store` simulates a mid-sized apparel and lifestyle store and writes the
four files a merchant would download: Shopify orders, customers and products exports, and an
events CSV in Klaviyo's metric vocabulary. Buying follows a BG/NBD-like process (gamma purchase
rates, beta drop-out after each purchase) with gamma-distributed spend levels, November and
December peaks, discounts, refunds, cancellations, several sales channels and email consent.

Everything is drawn from one ``numpy.random.default_rng(seed)``, so the same arguments always
give byte-identical files. Work is vectorised or linear in the number of rows, and rows are
written as they are produced, so 150,000 customers (about a million order rows) stay practical.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

__all__ = ["DemoFiles", "DemoStore", "build_demo_store", "generate_demo_store"]


def _columns(header: str) -> tuple[str, ...]:
    """Column names of a CSV header line."""
    return tuple(header.split(","))


ORDERS_HEADER = _columns(
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,"
    "Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,"
    "Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,"
    "Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,"
    "Employee,Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,"
    "Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,"
    "Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,"
    "Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,"
    "Payment References"
)
CUSTOMERS_HEADER = _columns(
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,"
    "Tax Exempt,Tags"
)
PRODUCTS_HEADER = _columns(
    "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,"
    "Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,"
    "Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,"
    "Variant Fulfillment Service,Variant Price,Variant Compare At Price,"
    "Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,Image Position,"
    "Image Alt Text,Gift Card,SEO Title,SEO Description,"
    "Google Shopping / Google Product Category,Google Shopping / Gender,"
    "Google Shopping / Age Group,Google Shopping / MPN,Google Shopping / Condition,"
    "Google Shopping / Custom Product,Variant Image,Variant Weight Unit,Variant Tax Code,"
    "Cost per item,Status"
)
EVENTS_HEADER = _columns(
    "event,timestamp,email,customer_id,order_id,product_id,product_name,category,value,device,"
    "channel,campaign"
)

_COL = {name: i for i, name in enumerate(ORDERS_HEADER)}
_BILLING = slice(_COL["Billing Name"], _COL["Billing Phone"] + 1)
_SHIPPING = slice(_COL["Shipping Name"], _COL["Shipping Phone"] + 1)
_YEAR_S = 365.25 * 86400.0
_FIRST_NUMBER = 1001  # Shopify names a store's first order #1001
_EPOCH = datetime(1970, 1, 1)
_STORE_TAX = (("NY State Tax", 4000), ("New York City Tax", 4875))  # POS sales in Brooklyn

# --------------------------------------------------------------------------- reference data

_SIZES_APPAREL = ("XS", "S", "M", "L", "XL")
_SIZES_SHOES = ("6", "7", "8", "9", "10", "11", "12")
_SIZES_KIDS = ("2T", "3T", "4T", "5", "6")
#: name, SKU prefix, (min, max) dollars, sizes, grams, vendors, items (noun, type, taxonomy)
_CATEGORIES = (
    (
        "Apparel",
        "APP",
        (24, 98),
        _SIZES_APPAREL,
        300,
        ("Harbor & Pine", "Northfield Co."),
        (
            ("Crew Tee", "T-Shirts", "Apparel & Accessories > Clothing > Shirts & Tops"),
            ("Hoodie", "Hoodies", "Apparel & Accessories > Clothing > Activewear > Hoodies"),
            ("Chino Pant", "Pants", "Apparel & Accessories > Clothing > Pants"),
            ("Flannel Shirt", "Shirts", "Apparel & Accessories > Clothing > Shirts & Tops"),
            (
                "Rain Jacket",
                "Jackets",
                "Apparel & Accessories > Clothing > Outerwear > Coats & Jackets",
            ),
        ),
    ),
    (
        "Footwear",
        "FTW",
        (58, 160),
        _SIZES_SHOES,
        900,
        ("Stride Lab", "Harbor & Pine"),
        (
            ("Sneaker", "Sneakers", "Apparel & Accessories > Shoes > Sneakers"),
            ("Trail Runner", "Running Shoes", "Apparel & Accessories > Shoes > Athletic Shoes"),
            ("Chelsea Boot", "Boots", "Apparel & Accessories > Shoes > Boots"),
            ("Slide Sandal", "Sandals", "Apparel & Accessories > Shoes > Sandals"),
        ),
    ),
    (
        "Accessories",
        "ACC",
        (14, 89),
        (),
        150,
        ("Fieldnote Goods", "Northfield Co."),
        (
            ("Beanie", "Hats", "Apparel & Accessories > Clothing Accessories > Hats"),
            ("Tote Bag", "Bags", "Apparel & Accessories > Handbags, Wallets & Cases > Handbags"),
            (
                "Leather Wallet",
                "Wallets",
                "Apparel & Accessories > Handbags, Wallets & Cases > Wallets & Money Clips",
            ),
            ("Sunglasses", "Eyewear", "Apparel & Accessories > Clothing Accessories > Sunglasses"),
            (
                "Wool Scarf",
                "Scarves",
                "Apparel & Accessories > Clothing Accessories > Scarves & Shawls",
            ),
        ),
    ),
    (
        "Home",
        "HOM",
        (12, 120),
        (),
        800,
        ("Hearth & Loom", "Fieldnote Goods"),
        (
            ("Soy Candle", "Candles", "Home & Garden > Decor > Home Fragrances > Candles"),
            (
                "Ceramic Mug",
                "Mugs",
                "Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs",
            ),
            ("Throw Blanket", "Blankets", "Home & Garden > Linens & Bedding > Bedding > Blankets"),
            ("Linen Napkin Set", "Table Linens", "Home & Garden > Linens & Bedding > Table Linens"),
            ("Planter", "Planters", "Home & Garden > Lawn & Garden > Gardening > Pots & Planters"),
        ),
    ),
    (
        "Beauty",
        "BTY",
        (9, 64),
        (),
        200,
        ("Glow Theory", "Hearth & Loom"),
        (
            ("Face Serum", "Skin Care", "Health & Beauty > Personal Care > Cosmetics > Skin Care"),
            ("Lip Balm", "Lip Care", "Health & Beauty > Personal Care > Cosmetics > Lip Care"),
            ("Body Wash", "Bath & Body", "Health & Beauty > Personal Care > Bath & Body"),
            ("Hand Cream", "Skin Care", "Health & Beauty > Personal Care > Cosmetics > Skin Care"),
        ),
    ),
    (
        "Outdoor",
        "OUT",
        (19, 240),
        (),
        1200,
        ("Summit Supply", "Stride Lab"),
        (
            ("Daypack", "Backpacks", "Luggage & Bags > Backpacks"),
            ("Water Bottle", "Drinkware", "Sporting Goods > Outdoor Recreation > Water Bottles"),
            (
                "Camp Chair",
                "Camp Furniture",
                "Sporting Goods > Outdoor Recreation > Camping & Hiking > Camp Furniture",
            ),
            ("Headlamp", "Lighting", "Sporting Goods > Outdoor Recreation > Camping & Hiking"),
        ),
    ),
    (
        "Kids",
        "KID",
        (16, 58),
        _SIZES_KIDS,
        200,
        ("Little Harbor", "Harbor & Pine"),
        (
            ("Kids Tee", "T-Shirts", "Apparel & Accessories > Clothing > Baby & Toddler Clothing"),
            (
                "Kids Hoodie",
                "Hoodies",
                "Apparel & Accessories > Clothing > Baby & Toddler Clothing",
            ),
            ("Kids Rain Boot", "Boots", "Apparel & Accessories > Shoes > Boots"),
        ),
    ),
)
_ADJECTIVES = (
    "Classic",
    "Organic",
    "Everyday",
    "Heritage",
    "Coastal",
    "Alpine",
    "Vintage",
    "Essential",
    "Merino",
    "Canvas",
    "Linen",
    "Recycled",
    "Urban",
    "Weekend",
    "Lightweight",
    "Cozy",
)
_PRODUCTS_PER_CATEGORY = (18, 10, 14, 14, 12, 12, 8)
_GIFT_CARD = (
    "Gift Cards",
    "GFT",
    ("25.00", "50.00", "100.00"),
    "Harbor & Pine",
    "Arts & Entertainment > Party & Celebration > Gift Giving > Gift Cards & Certificates",
)

_FEMALE = (
    "Emma",
    "Olivia",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Charlotte",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Emily",
    "Ella",
    "Madison",
    "Chloe",
    "Grace",
    "Zoë",
    "Léa",
    "Maria",
    "Sofia",
    "Hannah",
    "Lily",
    "Aaliyah",
    "Priya",
    "Mei",
    "Yuki",
    "Fatima",
    "Lucía",
    "Nora",
    "Julia",
    "Laura",
    "Sarah",
    "Jessica",
    "Ashley",
    "Megan",
    "Rachel",
)
_MALE = (
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Benjamin",
    "Lucas",
    "Henry",
    "Alexander",
    "Mason",
    "Michael",
    "Ethan",
    "Daniel",
    "Jacob",
    "Logan",
    "Jackson",
    "Sebastian",
    "José",
    "André",
    "Mateo",
    "Luca",
    "Jonas",
    "Finn",
    "Raj",
    "Wei",
    "Kenji",
    "Omar",
    "Diego",
    "Matthew",
    "David",
    "Ryan",
    "Tyler",
    "Kevin",
    "Brandon",
    "Samuel",
)
_LAST = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Müller",
    "Schmidt",
    "Fischer",
    "Weber",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Patel",
    "Shah",
    "Kim",
    "Park",
    "Chen",
    "Wang",
    "Tanaka",
    "Sato",
    "Dubois",
    "Lefèvre",
    "Rossi",
    "Bianchi",
    "Silva",
    "Santos",
    "Kowalski",
    "Nowak",
    "Andersson",
    "Johansson",
    "Okafor",
)
_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "inbox.example")
_DOMAIN_P = (0.42, 0.22, 0.16, 0.12, 0.08)
_COMPANIES = (
    "Northwind Boutique",
    "Maple & Pine Goods",
    "Bluebird Outfitters",
    "Cedar Street Mercantile",
    "Tidewater Gifts",
    "Copper Kettle Home",
    "Lakeside General Store",
    "Foxglove & Co.",
)
_STREETS_US = (
    "Main St",
    "Oak Ave",
    "Maple St",
    "Cedar Ln",
    "Park Ave",
    "Elm St",
    "Lake St",
    "Washington Blvd",
    "Hillside Dr",
    "Pine St",
    "River Rd",
    "Sunset Blvd",
)
_UNITS = ("Apt 2B", "Apt 4", "Suite 210", "Unit 7", "Apt 12C", "Floor 3")

#: code, name, weight, state tax (1/1000 %), cities: (city, zip3, area code, local tax, rate)
_US_STATES = (
    (
        "CA",
        "California",
        12,
        7250,
        (
            ("Los Angeles", "900", "213", "Los Angeles County Tax", 2250),
            ("San Francisco", "941", "415", "San Francisco County Tax", 1375),
            ("San Diego", "921", "619", "San Diego County Tax", 500),
        ),
    ),
    (
        "TX",
        "Texas",
        9,
        6250,
        (
            ("Austin", "787", "512", "Austin City Tax", 2000),
            ("Houston", "770", "713", "Houston City Tax", 2000),
        ),
    ),
    (
        "FL",
        "Florida",
        7,
        6000,
        (
            ("Miami", "331", "305", "Miami-Dade County Tax", 1000),
            ("Orlando", "328", "407", "Orange County Tax", 500),
        ),
    ),
    (
        "NY",
        "New York",
        8,
        4000,
        (
            ("New York", "100", "212", "New York City Tax", 4875),
            ("Brooklyn", "112", "718", "New York City Tax", 4875),
            ("Buffalo", "142", "716", "Erie County Tax", 4750),
        ),
    ),
    (
        "PA",
        "Pennsylvania",
        4,
        6000,
        (
            ("Philadelphia", "191", "215", "Philadelphia City Tax", 2000),
            ("Pittsburgh", "152", "412", "Allegheny County Tax", 1000),
        ),
    ),
    ("IL", "Illinois", 4, 6250, (("Chicago", "606", "312", "Chicago City Tax", 4000),)),
    ("OH", "Ohio", 3, 5750, (("Columbus", "432", "614", "Franklin County Tax", 1750),)),
    ("GA", "Georgia", 3, 4000, (("Atlanta", "303", "404", "Atlanta City Tax", 4900),)),
    (
        "NC",
        "North Carolina",
        3,
        4750,
        (("Charlotte", "282", "704", "Mecklenburg County Tax", 2500),),
    ),
    (
        "NJ",
        "New Jersey",
        3,
        6625,
        (("Newark", "071", "973", "", 0), ("Jersey City", "073", "201", "", 0)),
    ),
    ("WA", "Washington", 3, 6500, (("Seattle", "981", "206", "Seattle City Tax", 3850),)),
    (
        "MA",
        "Massachusetts",
        3,
        6250,
        (("Boston", "021", "617", "", 0), ("Cambridge", "021", "617", "", 0)),
    ),
    ("AZ", "Arizona", 2, 5600, (("Phoenix", "850", "602", "Phoenix City Tax", 2300),)),
    ("CO", "Colorado", 2, 2900, (("Denver", "802", "303", "Denver City Tax", 4810),)),
    ("OR", "Oregon", 2, 0, (("Portland", "972", "503", "", 0),)),
    ("CT", "Connecticut", 1, 6350, (("Hartford", "061", "860", "", 0),)),
    ("MN", "Minnesota", 2, 6875, (("Minneapolis", "554", "612", "Minneapolis City Tax", 500),)),
)
#: country -> (province code, province name, city, postal prefix, phone prefix, taxes)
_INTL = {
    "CA": (
        ("ON", "Ontario", "Toronto", "M5V", "416", (("ON HST", 13000),)),
        (
            "BC",
            "British Columbia",
            "Vancouver",
            "V6B",
            "604",
            (("Canada GST", 5000), ("BC PST", 7000)),
        ),
        ("QC", "Quebec", "Montréal", "H2X", "514", (("Canada GST", 5000), ("QC QST", 9975))),
        ("AB", "Alberta", "Calgary", "T2P", "403", (("Canada GST", 5000),)),
    ),
    "GB": (
        ("", "", "London", "SE1", "020", (("GB VAT", 20000),)),
        ("", "", "Manchester", "M1", "0161", (("GB VAT", 20000),)),
        ("", "", "Edinburgh", "EH1", "0131", (("GB VAT", 20000),)),
    ),
    "AU": (
        ("NSW", "New South Wales", "Sydney", "20", "02", (("AU GST", 10000),)),
        ("VIC", "Victoria", "Melbourne", "30", "03", (("AU GST", 10000),)),
        ("QLD", "Queensland", "Brisbane", "40", "07", (("AU GST", 10000),)),
    ),
    "DE": (
        ("", "", "Berlin", "10", "030", (("DE MwSt", 19000),)),
        ("", "", "München", "80", "089", (("DE MwSt", 19000),)),
        ("", "", "Hamburg", "20", "040", (("DE MwSt", 19000),)),
    ),
}
_INTL_STREETS = {
    "CA": ("King Street West", "Queen Street East", "Rue Sainte-Catherine", "Granville Street"),
    "GB": ("High Street", "Station Road", "Church Lane", "Victoria Road"),
    "AU": ("George Street", "Collins Street", "Queen Street", "Oxford Street"),
    "DE": ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße"),
}
_COUNTRIES = ("US", "CA", "GB", "AU", "DE")
_COUNTRY_P = (0.80, 0.07, 0.06, 0.04, 0.03)

_SOURCES = ("web", "pos", "shopify_draft_order", "iphone", "android", "580111", "1354745")
_SITE_SOURCES = (0, 3, 4)  # sessions tracked on the storefront or in the apps
#: order-source probabilities by channel profile: web-first, local POS, app, social,
#: marketplace, wholesale
_SOURCE_P = np.array(
    (
        (0.86, 0.02, 0.01, 0.03, 0.02, 0.04, 0.02),
        (0.15, 0.83, 0.02, 0.00, 0.00, 0.00, 0.00),
        (0.25, 0.01, 0.00, 0.45, 0.29, 0.00, 0.00),
        (0.35, 0.00, 0.00, 0.05, 0.05, 0.55, 0.00),
        (0.20, 0.00, 0.00, 0.00, 0.00, 0.00, 0.80),
        (0.30, 0.00, 0.70, 0.00, 0.00, 0.00, 0.00),
    )
)
_PROFILE_P = (0.72, 0.08, 0.08, 0.07, 0.05)
_CODES = ("", "BFCM25", "WELCOME10", "VIP15", "SPRING20", "FREESHIP", "COMEBACK15")
_CODE_PCT = (0, 25, 10, 15, 20, 0, 15)
_NOTES = (
    "Please leave at the back door.",
    "Gift - please do not include the receipt.",
    "Happy birthday, Mom!",
    "Ring the bell twice.",
    "Can you ship before Friday?",
)
_EMPLOYEES = ("Alex Morgan", "Jamie Chen", "Sam Rivera")
_EVENTS = (
    "Received Email",
    "Opened Email",
    "Clicked Email",
    "Unsubscribed",
    "Bounced Email",
    "Marked Email as Spam",
    "Viewed Product",
    "Added to Cart",
    "Started Checkout",
    "Checkout Started",
    "Placed Order",
    "Active on Site",
)
_EV = {name: i for i, name in enumerate(_EVENTS)}
_DEVICES = ("desktop", "mobile", "tablet")
_MONTH_THEMES = (
    "New Year Reset",
    "Valentine's Edit",
    "Spring Refresh",
    "Spring Sale",
    "Mother's Day Gifts",
    "Summer Kickoff",
    "Mid-Summer Sale",
    "Back to School",
    "Fall Layers",
    "Cozy Season",
    "Early Black Friday Access",
    "Holiday Gift Guide",
)
_MONTH_WEIGHT = (0.75, 0.72, 0.9, 0.95, 1.0, 0.9, 0.9, 0.95, 0.95, 1.0, 1.45, 1.7)
_HOUR_WEIGHT = (
    0.35,
    0.2,
    0.12,
    0.08,
    0.08,
    0.12,
    0.3,
    0.6,
    0.85,
    1.0,
    1.1,
    1.2,
    1.35,
    1.3,
    1.2,
    1.15,
    1.15,
    1.25,
    1.45,
    1.7,
    1.85,
    1.75,
    1.3,
    0.75,
)


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the files written by :func:`generate_demo_store`."""

    orders: Path  # Shopify orders export CSV
    customers: Path  # Shopify customers export CSV
    products: Path  # Shopify products export CSV
    events: Path  # events CSV (Klaviyo metric vocabulary)


# --------------------------------------------------------------------------- small helpers


def _money(cents: int) -> str:
    """``5400`` -> ``"54.00"``."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _text_guard(value: str) -> str:
    """Prefix an apostrophe, as Shopify does, when a value would read as a number."""
    return "'" + value if re.fullmatch(r"\+?\d+", value) else value


def _ascii(text: str) -> str:
    """Lower-case ASCII letters only (``Zoë O'Brien`` -> ``zoeobrien``)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


def _tax_label(name: str, rate: int) -> str:
    """``("NY State Tax", 4000)`` -> ``"NY State Tax 4%"`` (rate in 1/1000 percent)."""
    return f"{name} {rate / 1000:g}%"


def _tax(base: int, rate: int) -> int:
    """Tax in cents on ``base`` cents at ``rate`` thousandths of a percent, half up."""
    return (base * rate + 50_000) // 100_000


def _parse_offset(text: str) -> int:
    """``"-0500"`` -> ``-18000`` seconds."""
    match = re.fullmatch(r"([+-])(\d{2})(\d{2})", text)
    if not match or int(match.group(3)) >= 60:
        raise ValueError(f"timezone_offset must look like -0500, got {text!r}")
    seconds = int(match.group(2)) * 3600 + int(match.group(3)) * 60
    return -seconds if match.group(1) == "-" else seconds


def _thanksgivings(first_year: int, last_year: int) -> list[date]:
    """US Thanksgiving (fourth Thursday of November) for each year."""
    days = []
    for year in range(first_year, last_year + 1):
        first = date(year, 11, 1)
        days.append(first + timedelta(days=(3 - first.weekday()) % 7 + 21))
    return days


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Clock:
    """Simulation window and a seasonal "operational time" (in average-intensity years).

    A homogeneous process in operational time becomes, mapped back to calendar time, a
    process with the store's season, Black Friday and time-of-day rhythm.
    """

    start: int  # UTC epoch seconds
    stop: int  # exclusive; midnight after ``end`` in store time
    offset: int  # store UTC offset in seconds
    suffix: str  # " -0500"
    grid_t: np.ndarray
    grid_o: np.ndarray
    bfcm: np.ndarray  # local dates, Black Friday through Cyber Monday (datetime64[D])
    scale: float  # mean hourly weight over the window (operational time's unit)

    def to_op(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.grid_t, self.grid_o)

    def from_op(self, o: np.ndarray) -> np.ndarray:
        return np.interp(o, self.grid_o, self.grid_t).astype(np.int64)

    def local_days(self, t: np.ndarray) -> np.ndarray:
        return (
            (np.asarray(t, dtype=np.int64) + self.offset)
            .astype("datetime64[s]")
            .astype("datetime64[D]")
        )

    def local_text(self, t: np.ndarray) -> list[str]:
        """Shopify timestamps, ``2025-05-13 11:01:13 -0500``."""
        stamps = np.datetime_as_string(
            (np.asarray(t, np.int64) + self.offset).astype("datetime64[s]")
        )
        return [s.replace("T", " ") + self.suffix for s in stamps.tolist()]


def _build_clock(end: date, years: float, offset_text: str) -> _Clock:
    """Window of ``years`` ending with ``end`` and its hourly seasonal weights."""
    offset = _parse_offset(offset_text)
    stop_local = datetime.combine(end + timedelta(days=1), time())
    stop = int((stop_local - _EPOCH).total_seconds()) - offset
    start = stop - int(round(years * _YEAR_S))
    hours = -(-(stop - start) // 3600)
    grid_t = start + 3600 * np.arange(hours + 1, dtype=np.int64)
    first_year = int(str(np.datetime64(int(grid_t[0]) + offset + 1800, "s"))[:4])
    thanks = np.array(_thanksgivings(first_year, first_year + int(years) + 2), "datetime64[D]")
    bfcm = (thanks[:, None] + np.arange(1, 5)).ravel()
    weight = _hour_weights(grid_t[:-1], offset, bfcm)
    scale = float(weight.mean())
    grid_o = np.concatenate(([0.0], np.cumsum(weight / scale) * 3600.0 / _YEAR_S))
    return _Clock(start, stop, offset, " " + offset_text, grid_t, grid_o, bfcm, scale)


def _hour_weights(hour_t: np.ndarray, offset: int, bfcm: np.ndarray) -> np.ndarray:
    """Unscaled buying intensity of the hours starting at ``hour_t``: month, hour of day,
    the Black Friday to Cyber Monday weekend and Black Friday itself."""
    local = (hour_t + offset + 1800).astype("datetime64[s]")
    day = local.astype("datetime64[D]")
    month = local.astype("datetime64[M]").astype(np.int64) % 12
    hour = (local - day).astype(np.int64) // 3600
    weight = np.asarray(_MONTH_WEIGHT)[month] * np.asarray(_HOUR_WEIGHT)[hour]
    weight = weight * np.where(np.isin(day, bfcm), 3.2, 1.0)
    return weight * np.where(np.isin(day, bfcm[::4]), 1.4, 1.0)  # Black Friday itself


def _extend_clock(clock: _Clock, days: int) -> _Clock:
    """The same calendar running ``days`` days past ``clock.stop`` (earlier times map to the
    same operational times)."""
    stop = clock.stop + days * 86400
    extra_t = clock.grid_t[-1] + 3600 * np.arange(1, -(-(stop - clock.grid_t[-1]) // 3600) + 1)
    weight = _hour_weights(extra_t - 3600, clock.offset, clock.bfcm) / clock.scale
    extra_o = clock.grid_o[-1] + np.cumsum(weight) * 3600.0 / _YEAR_S
    return replace(
        clock,
        stop=stop,
        grid_t=np.concatenate((clock.grid_t, extra_t)),
        grid_o=np.concatenate((clock.grid_o, extra_o)),
    )


# --------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class _Catalog:
    """Products (sorted by category) and their variants, with lookup arrays."""

    rows: list[list[str]]  # products export rows
    handle: list[str]  # per product
    title: list[str]
    category: list[str]
    vendor: list[str]
    prod_cat: np.ndarray  # category index per product (gift cards last)
    popularity: np.ndarray
    var_start: np.ndarray  # first variant index per product
    var_count: np.ndarray
    var_product: np.ndarray
    var_price: np.ndarray  # cents
    var_compare: np.ndarray  # cents, 0 when none
    var_sku: list[str]
    var_name: list[str]  # line item name
    var_gift: np.ndarray  # bool
    n_regular_categories: int


def _product_titles(rng: np.random.Generator, items: tuple, count: int) -> list[tuple]:
    """``count`` distinct (title, item) pairs from adjectives and the category's items."""
    pairs = [(a, i) for i in range(len(items)) for a in range(len(_ADJECTIVES))]
    chosen = rng.choice(len(pairs), size=count, replace=False)
    out = []
    for k in sorted(chosen.tolist(), key=lambda k: (pairs[k][1], pairs[k][0])):
        adjective, item = pairs[k]
        out.append((f"{_ADJECTIVES[adjective]} {items[item][0]}", items[item]))
    return out


def _build_catalog(rng: np.random.Generator) -> _Catalog:
    """About 90 products in 8 categories with sizes, SKUs, sale prices and costs."""
    rows: list[list[str]] = []
    handle, title, category, vendor = [], [], [], []
    prod_cat, popularity, var_start, var_count = [], [], [], []
    var_product, var_price, var_compare, var_sku, var_name, var_gift = [], [], [], [], [], []
    for c, (cat, prefix, (low, high), sizes, grams, vendors, items) in enumerate(_CATEGORIES):
        for title_text, (_, ptype, taxonomy) in _product_titles(
            rng, items, _PRODUCTS_PER_CATEGORY[c]
        ):
            price = int(rng.integers(low, high + 1)) * 100 + int(rng.choice((0, 0, -5, -1)))
            on_sale = rng.random() < 0.25
            compare = int(round(price * rng.uniform(1.2, 1.5) / 100.0)) * 100 if on_sale else 0
            p = len(handle)
            slug = re.sub(r"[^a-z0-9]+", "-", title_text.lower()).strip("-")
            code = "".join(w[0] for w in title_text.split()).upper()
            handle.append(slug)
            title.append(title_text)
            category.append(cat)
            vendor.append(vendors[int(rng.integers(len(vendors)))])
            prod_cat.append(c)
            popularity.append(float(rng.lognormal(0.0, 0.8)))
            var_start.append(len(var_product))
            options = sizes or ("Default Title",)
            var_count.append(len(options))
            tags = ", ".join(sorted({cat.lower(), ptype.lower(), "sale" if on_sale else "new"}))
            for k, option in enumerate(options):
                sku = f"{prefix}-{code}{p:03d}" + (f"-{option}" if sizes else "")
                var_product.append(p)
                var_price.append(price)
                var_compare.append(compare)
                var_sku.append(sku)
                var_name.append(f"{title_text} - {option}" if sizes else title_text)
                var_gift.append(False)
                first = k == 0
                rows.append(
                    _product_row(
                        slug,
                        title_text,
                        vendor[-1],
                        taxonomy,
                        ptype,
                        tags,
                        first,
                        "Size" if sizes else "Title",
                        option,
                        sku,
                        grams,
                        price,
                        compare,
                        int(rng.integers(0, 250)),
                        int(round(price * rng.uniform(0.3, 0.5))),
                        f"{8_600_000_000_000 + len(var_sku) * 7919:013d}",
                        gift=False,
                    )
                )
    cat, prefix, denominations, gift_vendor, taxonomy = _GIFT_CARD
    p = len(handle)
    handle.append("digital-gift-card")
    title.append("Digital Gift Card")
    category.append(cat)
    vendor.append(gift_vendor)
    prod_cat.append(len(_CATEGORIES))
    popularity.append(0.6)
    var_start.append(len(var_product))
    var_count.append(len(denominations))
    for k, value in enumerate(denominations):
        cents = int(value.replace(".", ""))
        sku = f"{prefix}-{value.split('.')[0]}"
        var_product.append(p)
        var_price.append(cents)
        var_compare.append(0)
        var_sku.append(sku)
        var_name.append(f"Digital Gift Card - ${value}")
        var_gift.append(True)
        rows.append(
            _product_row(
                "digital-gift-card",
                "Digital Gift Card",
                gift_vendor,
                taxonomy,
                "Gift Card",
                "gift card, gifts",
                k == 0,
                "Denominations",
                f"${value}",
                sku,
                0,
                cents,
                0,
                0,
                0,
                "",
                gift=True,
            )
        )
    return _Catalog(
        rows,
        handle,
        title,
        category,
        vendor,
        np.array(prod_cat),
        np.array(popularity),
        np.array(var_start),
        np.array(var_count),
        np.array(var_product),
        np.array(var_price, np.int64),
        np.array(var_compare, np.int64),
        var_sku,
        var_name,
        np.array(var_gift),
        len(_CATEGORIES),
    )


def _product_row(
    handle: str,
    title: str,
    vendor: str,
    taxonomy: str,
    ptype: str,
    tags: str,
    first: bool,
    option_name: str,
    option: str,
    sku: str,
    grams: int,
    price: int,
    compare: int,
    qty: int,
    cost: int,
    barcode: str,
    *,
    gift: bool,
) -> list[str]:
    """One products-export row; product-level cells only on a product's first row."""
    flag = "true" if not gift else "false"
    row = dict.fromkeys(PRODUCTS_HEADER, "")
    row.update(
        {
            "Handle": handle,
            "Option1 Value": option,
            "Variant SKU": sku,
            "Variant Grams": str(grams),
            "Variant Inventory Tracker": "" if gift else "shopify",
            "Variant Inventory Qty": str(qty),
            "Variant Inventory Policy": "deny",
            "Variant Fulfillment Service": "manual",
            "Variant Price": _money(price),
            "Variant Compare At Price": _money(compare) if compare else "",
            "Variant Requires Shipping": flag,
            "Variant Taxable": flag,
            "Variant Barcode": barcode,
            "Variant Weight Unit": "kg",
            "Cost per item": _money(cost) if cost else "",
        }
    )
    if first:
        row.update(
            {
                "Title": title,
                "Vendor": vendor,
                "Product Category": taxonomy,
                "Type": ptype,
                "Body (HTML)": f"<p>The {title.lower()}, made to last. Designed by {vendor}</p>",
                "Tags": tags,
                "Published": "true",
                "Option1 Name": option_name,
                "Image Src": f"https://cdn.shopify.com/s/files/1/0612/4471/products/{handle}.jpg",
                "Image Position": "1",
                "Image Alt Text": title,
                "Gift Card": "true" if gift else "false",
                "Status": "active",
            }
        )
    return list(row.values())


def _pick_variants(
    rng: np.random.Generator, cat: _Catalog, fav: np.ndarray, spend: np.ndarray
) -> np.ndarray:
    """Variant per item: often from the favourite category, else tilted by spend level."""
    n = len(fav)
    regular = cat.prod_cat < cat.n_regular_categories
    pop = cat.popularity * regular
    price = cat.var_price[cat.var_start].astype(float)
    tier = np.digitize(spend, (0.75, 1.35))
    product = np.empty(n, np.int64)
    for t, tilt in enumerate((-0.6, 0.0, 0.6)):
        weights = cat.popularity * (price / np.median(price)) ** tilt
        cdf = np.cumsum(weights)
        idx = np.flatnonzero(tier == t)
        product[idx] = np.searchsorted(cdf, rng.random(len(idx)) * cdf[-1], side="right")
    in_fav = rng.random(n) < 0.45
    cdf = np.cumsum(pop)
    cat_lo = np.array(
        [
            cdf[cat.prod_cat == c].min() - pop[cat.prod_cat == c][0]
            for c in range(cat.n_regular_categories)
        ]
    )
    cat_hi = np.array([cdf[cat.prod_cat == c].max() for c in range(cat.n_regular_categories)])
    u = rng.random(n)
    target = cat_lo[fav] + u * (cat_hi[fav] - cat_lo[fav])
    fav_product = np.searchsorted(cdf, target, side="right")
    product = np.minimum(np.where(in_fav, fav_product, product), len(cat.handle) - 1)
    pick = (rng.random(n) * cat.var_count[product]).astype(np.int64)
    return cat.var_start[product] + pick


# --------------------------------------------------------------------------- customers


@dataclass
class _People:
    """Per-customer traits (arrays indexed by customer, in sign-up order) and contact data."""

    acq: np.ndarray  # sign-up time, UTC seconds
    lam: np.ndarray  # purchases per (operational) year while active
    p_drop: np.ndarray  # chance of becoming inactive after each purchase
    spend: np.ndarray  # spend level, mean 1
    disc: np.ndarray  # discount propensity
    profile: np.ndarray  # channel profile (row of _SOURCE_P)
    fav: np.ndarray  # favourite category
    device: np.ndarray  # preferred device
    open_p: np.ndarray
    click_p: np.ndarray
    ever_sub: np.ndarray
    sub_start: np.ndarray
    sub_end: np.ndarray  # unsubscribe time, or a time after the window
    bounce: np.ndarray
    spam: np.ndarray
    sms: np.ndarray
    phone_only: np.ndarray
    wholesale: np.ndarray
    variant_p: np.ndarray  # chance an order spells the email differently
    login_shop: np.ndarray
    ids: np.ndarray
    first: list[str]
    last: list[str]
    email: list[str]
    e164: list[str]  # "" when no phone
    local_phone: list[str]
    company: list[str]
    address: list[tuple[str, ...]]  # address1, address2, city, province, country, zip
    province_name: list[str]
    taxes: list[tuple[tuple[str, int], ...]]
    note: list[str]

    @property
    def n(self) -> int:
        return len(self.acq)


def _signup_times(rng: np.random.Generator, n: int, clock: _Clock) -> np.ndarray:
    """Sign-ups over the whole window, growing over time and following the season."""
    growth = 1.2  # density rises linearly from 1 to 1 + growth across the window
    u = np.sort(rng.random(n))
    x = (np.sqrt(1.0 + growth * (2.0 + growth) * u) - 1.0) / growth
    return np.minimum(clock.from_op(x * clock.grid_o[-1]), clock.stop - 3600)


def _emails(rng: np.random.Generator, first: list[str], last: list[str]) -> list[str]:
    """Unique lower-case addresses in a few common local-part styles."""
    style = rng.integers(0, 6, len(first))
    number = rng.integers(1, 99, len(first))
    domain = rng.choice(len(_DOMAINS), len(first), p=_DOMAIN_P)
    seen: set[str] = set()
    out = []
    for i, (f, la) in enumerate(zip(first, last, strict=True)):
        f, la = _ascii(f), _ascii(la)
        local = (
            f"{f}.{la}",
            f"{f}{la}",
            f"{f[0]}{la}",
            f"{f}_{la}",
            f"{f}.{la}{number[i]}",
            f"{f}{number[i] + 1950}",
        )[style[i]]
        email, k = f"{local}@{_DOMAINS[domain[i]]}", 1
        while email in seen:
            k += 1
            email = f"{local}{k}@{_DOMAINS[domain[i]]}"
        seen.add(email)
        out.append(email)
    return out


def _phones(rng: np.random.Generator, country: list[str], area: list[str]) -> tuple[list, list]:
    """Fictional-range E.164 numbers (unique while the range allows) and local spellings."""
    digits = rng.integers(0, 10**7, len(country))
    seen: set[str] = set()
    e164, local = [], []
    for i, (cc, code) in enumerate(zip(country, area, strict=True)):
        d = int(digits[i])
        for _ in range(30):
            if cc in ("US", "CA"):
                tail = f"{d % 10000:04d}"
                number, text = f"+1{code}555{tail}", f"({code}) 555-{tail}"
            elif cc == "GB":
                tail = f"{d % 100000:05d}"
                number, text = f"+4477009{tail}", f"07700 9{tail}"
            elif cc == "AU":
                tail = f"{d % 10**6:06d}"
                number, text = f"+61491{tail}", f"0491 {tail[:3]} {tail[3:]}"
            else:
                tail = f"{d % 10**7:07d}"
                number, text = f"+49{code[1:]}{tail}", f"{code} {tail}"
            if number not in seen:
                break
            d += 7919
        seen.add(number)
        e164.append(number)
        local.append(text)
    return e164, local


def _addresses(rng: np.random.Generator, country: list[str]) -> tuple[list, list, list, list]:
    """Street addresses with local zip formats, province names, tax lines and area codes."""
    n = len(country)
    u = rng.random((n, 6))
    states = np.array([s[2] for s in _US_STATES], float)
    state_cdf = np.cumsum(states / states.sum())
    addresses, names, taxes, areas = [], [], [], []
    for i, cc in enumerate(country):
        number = 1 + int(u[i, 0] * 9800)
        unit = _UNITS[int(u[i, 1] * 60) % len(_UNITS)] if u[i, 1] < 0.2 else ""
        if cc == "US":
            code, name, _, rate, cities = _US_STATES[int(np.searchsorted(state_cdf, u[i, 2]))]
            city, zip3, area, local_tax, local_rate = cities[int(u[i, 3] * len(cities))]
            street = f"{number} {_STREETS_US[int(u[i, 4] * len(_STREETS_US))]}"
            postal = f"{zip3}{int(u[i, 5] * 100):02d}"
            lines = tuple(
                (t, r) for t, r in ((f"{code} State Tax", rate), (local_tax, local_rate)) if r
            )
            addresses.append((street, unit, city, code, "US", postal))
        else:
            regions = _INTL[cc]
            code, name, city, prefix, area, lines = regions[int(u[i, 3] * len(regions))]
            road = _INTL_STREETS[cc][int(u[i, 4] * 4)]
            street = f"{road} {number % 200}" if cc == "DE" else f"{number % 400} {road}"
            k = int(u[i, 5] * 1000)
            if cc == "CA":
                postal = f"{prefix} {k % 10}{'ABCEGHJKLMNPRSTVXY'[k % 18]}{k // 100 % 10}"
            elif cc == "GB":
                letters = "ABDEFGHJLNPQRSTUWXYZ"
                postal = f"{prefix} {k % 10}{letters[k % 20]}{letters[k // 20 % 20]}"
            elif cc == "AU":
                postal = f"{prefix}{k % 100:02d}"
            else:
                postal = f"{prefix}{k % 1000:03d}"
            addresses.append((street, unit, city, code, cc, postal))
        names.append(name)
        taxes.append(lines)
        areas.append(area)
    return addresses, names, taxes, areas


def _declared_note(rng_u: np.ndarray, female: bool) -> str:
    """Declared attributes as merchants keep them in the customer note."""
    gender = "female" if female else "male"
    if rng_u[1] < 0.03:
        gender = "non-binary"
    note = f"gender: {gender}; birth_year: {1955 + int(rng_u[2] * 50)}"
    if rng_u[3] < 0.4:
        note += f"; shoe_size: {6 + int(rng_u[4] * 7)}"
    return note


def _build_people(rng: np.random.Generator, n: int, clock: _Clock) -> _People:
    """Draw ``n`` customers: identity, geography, consent and latent buying behaviour."""
    acq = _signup_times(rng, n, clock)
    female = rng.random(n) < 0.55
    fi, mi, li = (rng.integers(0, len(x), n) for x in (_FEMALE, _MALE, _LAST))
    first = [_FEMALE[fi[i]] if female[i] else _MALE[mi[i]] for i in range(n)]
    last = [_LAST[k] for k in li.tolist()]
    country = [_COUNTRIES[k] for k in rng.choice(len(_COUNTRIES), n, p=_COUNTRY_P).tolist()]
    address, province_name, taxes, areas = _addresses(rng, country)
    e164, local_phone = _phones(rng, country, areas)
    profile = rng.choice(len(_PROFILE_P), n, p=_PROFILE_P)
    wholesale = rng.random(n) < 0.01
    profile[wholesale] = 5
    phone_only = (rng.random(n) < 0.012) & ~wholesale
    profile[phone_only] = 1
    has_phone = (rng.random(n) < 0.6) | phone_only
    e164 = [p if has_phone[i] else "" for i, p in enumerate(e164)]
    email = _emails(rng, first, last)
    email = ["" if phone_only[i] else e for i, e in enumerate(email)]
    ever_sub = (rng.random(n) < 0.64) & ~phone_only
    sub_delay = np.where(rng.random(n) < 0.7, 0, rng.exponential(60 * 86400.0, n))
    sub_start = acq + sub_delay.astype(np.int64)
    ever_sub &= sub_start < clock.stop
    unsub_gap = rng.exponential(0.9 * _YEAR_S, n).astype(np.int64) + 3600
    sub_end = np.where(ever_sub & (rng.random(n) < 0.35), sub_start + unsub_gap, clock.stop + 1)
    note_u = rng.random((n, 5))
    company = [_COMPANIES[i % len(_COMPANIES)] if wholesale[i] else "" for i in range(n)]
    engaged = rng.random(n) < 0.8
    open_p = np.where(engaged, rng.beta(1.6, 1.8, n), rng.beta(0.4, 12.0, n))
    ids = 6_900_000_000_000 + np.cumsum(rng.integers(2_000, 900_000, n))
    return _People(
        acq=acq,
        lam=rng.gamma(0.8, 4.0, n),
        p_drop=rng.beta(1.0, 3.0, n),
        spend=rng.gamma(4.0, 0.25, n),
        disc=rng.beta(0.6, 2.6, n),
        profile=profile,
        fav=rng.choice(len(_CATEGORIES), n, p=(0.3, 0.14, 0.14, 0.14, 0.12, 0.1, 0.06)),
        device=rng.choice(3, n, p=(0.38, 0.55, 0.07)),
        open_p=open_p,
        click_p=rng.beta(1.2, 6.0, n),
        ever_sub=ever_sub,
        sub_start=sub_start,
        sub_end=sub_end,
        bounce=ever_sub & (rng.random(n) < 0.015),
        spam=rng.random(n) < 0.1,
        sms=has_phone & (rng.random(n) < 0.3),
        phone_only=phone_only,
        wholesale=wholesale,
        variant_p=np.where(rng.random(n) < 0.08, 0.4, 0.0),
        login_shop=rng.random(n) < 0.1,
        ids=ids,
        first=first,
        last=last,
        email=email,
        e164=e164,
        local_phone=local_phone,
        company=company,
        address=address,
        province_name=province_name,
        taxes=taxes,
        note=[
            _declared_note(note_u[i], bool(female[i])) if note_u[i, 0] < 0.07 else ""
            for i in range(n)
        ],
    )


# --------------------------------------------------------------------------- purchase times


@dataclass(frozen=True)
class _Book:
    """Order skeletons sorted by time: when, who (-1 for guests), first order or not."""

    t: np.ndarray
    cust: np.ndarray
    first: np.ndarray
    death: np.ndarray  # per customer: when they became inactive (stop + 1 when still active)


def _purchase_times(rng: np.random.Generator, people: _People, clock: _Clock) -> _Book:
    """BG/NBD-like purchase histories in operational time, mapped to the calendar.

    Each buyer's first order follows sign-up; further orders arrive as a Poisson process
    with the buyer's rate, and after every order the buyer drops out with ``p_drop``.
    """
    n = people.n
    same_session = rng.random(n) < 0.55
    delay = np.where(same_session, rng.uniform(120, 2400, n), rng.exponential(25 * 86400.0, n))
    first_t = people.acq + delay.astype(np.int64)
    buyer = (rng.random(n) < 0.86) & (first_t < clock.stop)
    o_first = clock.to_op(first_t)
    window = np.where(buyer, clock.grid_o[-1] - o_first, 0.0)
    arrivals = rng.poisson(people.lam * window)
    stays = rng.geometric(people.p_drop) - 1
    repeats = np.minimum(np.minimum(arrivals, stays), 120)
    owner = np.repeat(np.arange(n), arrivals)
    u = np.sort(owner + rng.random(len(owner)))
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    keep = rank < repeats[owner]
    owner, frac = owner[keep], u[keep] - owner[keep]
    repeat_t = clock.from_op(o_first[owner] + frac * window[owner])
    last_t = first_t.copy()
    np.maximum.at(last_t, owner, repeat_t)
    death = np.where(buyer & (stays < arrivals), last_t, clock.stop + 1)
    death = np.where(buyer, death, people.acq + rng.exponential(0.5 * _YEAR_S, n).astype(np.int64))
    buyers = np.flatnonzero(buyer)
    t = np.concatenate((first_t[buyers], repeat_t))
    cust = np.concatenate((buyers, owner))
    first = np.concatenate((np.ones(len(buyers), bool), np.zeros(len(owner), bool)))
    guests = rng.binomial(len(t), 0.002)
    t = np.concatenate((t, clock.from_op(rng.random(guests) * clock.grid_o[-1])))
    cust = np.concatenate((cust, np.full(guests, -1)))
    first = np.concatenate((first, np.zeros(guests, bool)))
    order = np.lexsort((cust, t))
    t = np.minimum(t[order], clock.stop - 1)
    return _Book(t, cust[order], first[order], death)


# --------------------------------------------------------------------------- events


class _Events:
    """Columnar event buffer; every column is an int64 array, -1 meaning blank."""

    FIELDS = ("t", "kind", "cust", "var", "value", "device", "campaign", "order")

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {f: [] for f in self.FIELDS}

    def add(self, t: np.ndarray, kind: int | np.ndarray, cust: np.ndarray, **cols) -> None:
        n = len(t)
        cols.update(t=t, kind=kind, cust=cust)
        for field in self.FIELDS:
            value = cols.get(field, -1)
            self.parts[field].append(np.broadcast_to(np.asarray(value, np.int64), (n,)).copy())

    def sorted(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """All columns, limited to ``[start, stop)`` and sorted by time (stable)."""
        cols = {f: np.concatenate(p) if p else np.zeros(0, np.int64) for f, p in self.parts.items()}
        keep = (cols["t"] >= start) & (cols["t"] < stop)
        order = np.argsort(cols["t"][keep], kind="stable")
        return {f: c[keep][order] for f, c in cols.items()}


def _campaigns(rng: np.random.Generator, clock: _Clock) -> tuple[np.ndarray, np.ndarray, list]:
    """Weekly Tuesday sends at 10:00 plus Black Friday, Cyber Monday and shipping cut-off."""
    day = clock.local_days(np.array([clock.start]))[0] + 1
    day += (1 - day.astype(np.int64) - 3) % 7  # 1970-01-01 was a Thursday; move to Tuesday
    last = clock.local_days(np.array([clock.stop - 1]))[0]
    weekly = np.arange(day, last + 1, 7)
    black_friday = clock.bfcm[::4]
    special = np.concatenate(
        (
            black_friday,
            black_friday + 3,
            black_friday.astype("datetime64[Y]") + np.timedelta64(0, "D"),
        )
    )
    special[2 * len(black_friday) :] += np.timedelta64(348, "D")  # ~Dec 15, last shipping day
    days = np.concatenate((weekly, special))
    kinds = np.concatenate((np.zeros(len(weekly), int), np.repeat((1, 2, 3), len(black_friday))))
    hours = np.array((10, 7, 8, 10))[kinds]
    t = (days - np.datetime64("1970-01-01")).astype(np.int64) * 86400 + hours * 3600 - clock.offset
    keep = (t >= clock.start) & (t < clock.stop)
    t, kinds, days = t[keep], kinds[keep], days[keep]
    order = np.argsort(t, kind="stable")
    t, kinds, days = t[order], kinds[order], days[order]
    share = np.where(kinds == 0, rng.uniform(0.35, 0.6, len(t)), 0.92)
    names = []
    for j, (kind, day_) in enumerate(zip(kinds.tolist(), days.tolist(), strict=True)):
        if kind == 1:
            theme = "Black Friday: 25% Off Everything"
        elif kind == 2:
            theme = "Cyber Monday Last Call"
        elif kind == 3:
            theme = "Last Day for Holiday Shipping"
        else:
            theme = (_MONTH_THEMES[day_.month - 1], "New Arrivals", "Best Sellers")[j % 3]
        names.append(f"{theme} - {day_.isoformat()}")
    return t, share, names


def _email_events(
    rng: np.random.Generator, people: _People, death: np.ndarray, clock: _Clock, events: _Events
) -> None:
    """Campaign receipts, opens and clicks; bounces, unsubscribes and spam complaints.

    Sets ``people.sub_end`` to the moment of the unsubscribe event, so the orders file's
    ``Accepts Marketing`` agrees with the events.
    """
    send_t, share, names = _campaigns(rng, clock)
    events.campaign_names = names  # type: ignore[attr-defined]
    subscribed = np.flatnonzero(people.ever_sub)
    start, end = people.sub_start[subscribed], people.sub_end[subscribed]
    pair_c, pair_j = [], []
    for j, tj in enumerate(send_t.tolist()):
        got = (start <= tj) & (tj < end) & (rng.random(len(subscribed)) < share[j])
        idx = subscribed[got]
        pair_c.append(idx)
        pair_j.append(np.full(len(idx), j))
    cust, camp = np.concatenate(pair_c), np.concatenate(pair_j)
    by_cust = np.lexsort((camp, cust))
    cust, camp = cust[by_cust], camp[by_cust]
    first_of = np.r_[True, cust[1:] != cust[:-1]]
    bounced = people.bounce[cust]
    bounce_pair = bounced & first_of
    keep = ~bounced | bounce_pair
    cust, camp, bounce_pair = cust[keep], camp[keep], bounce_pair[keep]
    t = send_t[camp] + rng.integers(0, 1800, len(camp))
    events.add(
        t, np.where(bounce_pair, _EV["Bounced Email"], _EV["Received Email"]), cust, campaign=camp
    )
    alive = np.where(t > death[cust], 0.35, 1.0)
    opened = ~bounce_pair & (rng.random(len(t)) < people.open_p[cust] * alive)
    t_open = t + (rng.lognormal(8.5, 1.4, len(t))).astype(np.int64) + 5
    events.add(t_open[opened], _EV["Opened Email"], cust[opened], campaign=camp[opened])
    clicked = opened & (rng.random(len(t)) < people.click_p[cust])
    t_click = t_open + rng.integers(8, 600, len(t))
    events.add(t_click[clicked], _EV["Clicked Email"], cust[clicked], campaign=camp[clicked])
    _unsubscribe_events(rng, people, cust, camp, t, clock, events)


def _unsubscribe_events(
    rng: np.random.Generator,
    people: _People,
    cust: np.ndarray,
    camp: np.ndarray,
    t: np.ndarray,
    clock: _Clock,
    events: _Events,
) -> None:
    """One unsubscribe (or spam complaint) per leaving subscriber, after their last email."""
    leaving = np.flatnonzero(people.ever_sub & (people.sub_end <= clock.stop))
    last_idx = np.full(people.n, -1)
    last_idx[cust] = np.arange(len(cust))  # pairs are sorted by customer, then campaign
    idx = last_idx[leaving]
    has_mail = idx >= 0
    when = np.where(
        has_mail, t[idx] + rng.integers(60, 3 * 86400, len(idx)), people.sub_end[leaving]
    )
    when = np.minimum(when, clock.stop - 1)
    campaign = np.where(has_mail, camp[idx], -1)
    kind = np.where(
        people.spam[leaving] & has_mail, _EV["Marked Email as Spam"], _EV["Unsubscribed"]
    )
    events.add(when, kind, leaving, campaign=campaign)
    people.sub_end[leaving] = when


# --------------------------------------------------------------------------- orders


@dataclass
class _Ledger:
    """What the orders file contained, for the customers and events files."""

    order_id: np.ndarray
    total: np.ndarray  # cents
    refunded: np.ndarray  # cents
    counted: np.ndarray  # neither voided nor cancelled
    source: np.ndarray
    email_known: np.ndarray  # order carries the customer's email
    line_start: np.ndarray  # first line index per order (len = orders + 1)
    line_var: np.ndarray
    line_qty: np.ndarray
    spent: np.ndarray  # per customer, cents net of refunds, cancelled orders excluded
    count: np.ndarray  # per customer, orders not cancelled
    shipped_to: np.ndarray  # per customer: placed an order with an address
    vip: np.ndarray  # per customer


@dataclass(frozen=True)
class _Plan:
    """Per-order and per-line draws made up front, in bulk."""

    cust: np.ndarray  # -1 for guest orders
    safe: np.ndarray  # customer index with guests mapped to 0
    source: np.ndarray
    code: np.ndarray
    status: np.ndarray  # 0 paid, 1 pending, 2 voided, 3 cancelled+refunded, 4 partial, 5 full
    line_start: np.ndarray
    line_var: np.ndarray
    line_qty: np.ndarray
    u: np.ndarray  # spare uniforms per order, (n, 8)
    order_id: np.ndarray
    number: np.ndarray  # the order's name without its "#"


def _discount_codes(
    rng: np.random.Generator,
    book: _Book,
    people: _People,
    safe: np.ndarray,
    source: np.ndarray,
    vip: np.ndarray,
    clock: _Clock,
) -> np.ndarray:
    """Code index per order; heavy users of codes are a small, stable group of customers."""
    n = len(book.t)
    prop = np.where(book.cust >= 0, people.disc[safe], 0.0)
    day = clock.local_days(book.t)
    doy = (day - day.astype("datetime64[Y]")).astype(np.int64)
    bfcm = np.isin(day, clock.bfcm) | np.isin(day, clock.bfcm - 2)
    spring = (doy >= 73) & (doy < 120)
    u = rng.random(n)
    online = source != 1
    conditions = (
        bfcm & (u < np.minimum(0.85, 0.3 + 1.6 * prop)),
        book.first & online & (u < 0.12 + 0.8 * prop),
        vip[safe] & (book.cust >= 0) & ~book.first & (u < 0.15 + prop),
        spring & (u < 1.3 * prop),
        online & (u < 0.35 * prop),
    )
    return np.select(conditions, np.arange(1, 6), 0)


def _plan_orders(
    rng: np.random.Generator,
    book: _Book,
    people: _People,
    cat: _Catalog,
    vip: np.ndarray,
    clock: _Clock,
    last_id: int = 5_500_000_000_000,
    last_number: int = _FIRST_NUMBER - 1,
) -> _Plan:
    """Channels, statuses, codes and line items for every order, drawn in bulk; ids and
    numbers continue from ``last_id`` and ``last_number``."""
    n = len(book.t)
    guest = book.cust < 0
    safe = np.where(guest, 0, book.cust)
    profile = np.where(guest, 1, people.profile[safe])
    cdf = np.cumsum(_SOURCE_P, axis=1)[profile]
    source = np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), len(_SOURCES) - 1)
    source[guest | people.phone_only[safe]] = 1
    spend = np.where(guest, 1.0, people.spend[safe])
    lines = 1 + np.minimum(rng.poisson(0.45 + 0.5 * spend), 3)
    line_start = np.concatenate(([0], np.cumsum(lines)))
    line_order = np.repeat(np.arange(n), lines)
    fav = np.where(guest, rng.integers(0, len(_CATEGORIES), n), people.fav[safe])
    line_var = _pick_variants(rng, cat, fav[line_order], spend[line_order])
    qty = rng.choice((1, 2, 3), len(line_var), p=(0.86, 0.1, 0.04))
    bulk = people.wholesale[safe[line_order]] & ~guest[line_order]
    qty = np.where(bulk & ~cat.var_gift[line_var], rng.integers(4, 25, len(qty)), qty)
    s, s2 = rng.random(n), rng.random(n)
    pending = ((source == 2) & (s2 < 0.25)) | ((source == 0) & (s2 < 0.005))
    status = np.select((s < 0.012, s < 0.02, s < 0.047, s < 0.06, pending), (2, 3, 4, 5, 1), 0)
    status[(source == 1) & (status == 1)] = 0
    code = _discount_codes(rng, book, people, safe, source, vip, clock)
    order_id = last_id + np.cumsum(rng.integers(20_000, 2_000_000, n))
    return _Plan(
        book.cust,
        safe,
        source,
        code,
        status,
        line_start,
        line_var,
        qty,
        rng.random((n, 8)),
        order_id,
        last_number + 1 + np.arange(n),
    )


def _email_spelling(email: str, u: float) -> str:
    """The same address as some checkouts record it: capitalised, shouted or padded."""
    if u < 0.4:
        local, _, domain = email.partition("@")
        return ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
    if u < 0.6:
        return email.upper()
    return f" {email} " if u < 0.8 else f"{email} "


def _address_block(people: _People, c: int) -> list[str]:
    """Billing (or shipping) name .. phone cells for customer ``c``."""
    street, unit, city, province, country, postal = people.address[c]
    return [
        f"{people.first[c]} {people.last[c]}",
        f"{street}, {unit}" if unit else street,
        street,
        unit,
        people.company[c],
        city,
        _text_guard(postal),
        province,
        country,
        _text_guard(people.local_phone[c]) if people.e164[c] else "",
    ]


def _vip(book: _Book, people: _People) -> np.ndarray:
    """The store's best retail customers: top 4% of buyers by orders times spend level."""
    orders = np.bincount(book.cust[book.cust >= 0], minlength=people.n)
    value = orders * people.spend * ~people.wholesale
    return (orders >= 3) & (value >= np.quantile(value[orders > 0], 0.96))


def _write_orders(
    path: Path, rng: np.random.Generator, book: _Book, people: _People, cat: _Catalog, clock: _Clock
) -> _Ledger:
    """Write the orders export, one row per line item, and return what it contained."""
    vip = _vip(book, people)
    plan = _plan_orders(rng, book, people, cat, vip, clock)
    return _write_planned(path, plan, book, people, cat, clock, vip)


def _write_planned(
    path: Path,
    plan: _Plan,
    book: _Book,
    people: _People,
    cat: _Catalog,
    clock: _Clock,
    vip: np.ndarray,
    written: np.ndarray | None = None,
) -> _Ledger:
    """Write the planned orders (those ``written``, default all) and return every planned
    order's totals with what the written ones told about their customers."""
    n = len(book.t)
    written = np.ones(n, bool) if written is None else written
    created = clock.local_text(book.t)
    u = plan.u
    paid_t = clock.local_text(book.t + np.where(plan.source == 1, 0, (u[:, 0] * 40).astype(int)))
    ship_delay = np.where(plan.source == 1, 0, (3600 * (6 + u[:, 1] * 90)).astype(np.int64))
    ship_delay[plan.source == 2] += 86400 * 2
    fulfil_t = book.t + ship_delay
    fulfil_text = clock.local_text(np.minimum(fulfil_t, clock.stop - 1))
    cancel_text = clock.local_text(
        np.minimum(book.t + 600 + (u[:, 2] * 172800).astype(int), clock.stop - 1)
    )
    due_text = clock.local_text(book.t + 30 * 86400)
    accepts = (
        people.ever_sub[plan.safe]
        & (people.sub_start[plan.safe] <= book.t)
        & (book.t < people.sub_end[plan.safe])
        & (plan.cust >= 0)
    )
    total = np.zeros(n, np.int64)
    refunds = np.zeros(n, np.int64)
    spent = np.zeros(people.n, np.int64)
    count = np.zeros(people.n, np.int64)
    shipped_to = np.zeros(people.n, bool)
    email_known = np.zeros(n, bool)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(ORDERS_HEADER)
        for k in range(n):
            c = int(plan.cust[k])
            rows, cents, refunded = _order_rows(
                k,
                c,
                plan,
                people,
                cat,
                clock,
                created[k],
                paid_t[k],
                fulfil_text[k] if fulfil_t[k] < clock.stop else "",
                cancel_text[k],
                due_text[k],
                bool(accepts[k]),
            )
            total[k], refunds[k] = cents, refunded
            if not written[k]:
                continue
            writer.writerows(rows)
            if c >= 0:
                email_known[k] = bool(rows[0][1])
                shipped_to[c] |= plan.source[k] != 1
                if plan.status[k] not in (2, 3):
                    spent[c] += cents - refunded
                    count[c] += 1
    return _Ledger(
        plan.order_id,
        total,
        refunds,
        ~np.isin(plan.status, (2, 3)),
        plan.source,
        email_known,
        plan.line_start,
        plan.line_var,
        plan.line_qty,
        spent,
        count,
        shipped_to,
        vip,
    )


def _order_rows(
    k: int,
    c: int,
    plan: _Plan,
    people: _People,
    cat: _Catalog,
    clock: _Clock,
    created: str,
    paid_at: str,
    fulfilled_at: str,
    cancelled_at: str,
    due: str,
    accepts: bool,
) -> tuple[list[list[str]], int, int]:
    """Rows of order ``k``, its total and refunded amount in cents."""
    u = plan.u[k]
    source, status, code = int(plan.source[k]), int(plan.status[k]), int(plan.code[k])
    lo, hi = int(plan.line_start[k]), int(plan.line_start[k + 1])
    var = plan.line_var[lo:hi].tolist()
    qty = plan.line_qty[lo:hi].tolist()
    gross = [q * int(cat.var_price[v]) for v, q in zip(var, qty, strict=True)]
    gift = [bool(cat.var_gift[v]) for v in var]
    eligible = sum(g for g, is_gift in zip(gross, gift, strict=True) if not is_gift)
    if not eligible:
        code = 0
    discount = (eligible * _CODE_PCT[code] + 50) // 100
    shares = _allocate(
        discount, [0 if is_gift else g for g, is_gift in zip(gross, gift, strict=True)]
    )
    subtotal = sum(gross) - discount
    wholesale = c >= 0 and bool(people.wholesale[c])
    pos = source == 1
    if pos or c < 0:
        tax_lines = () if wholesale else _STORE_TAX
    else:
        tax_lines = () if wholesale else people.taxes[c]
    base = sum(g - s for g, s, is_gift in zip(gross, shares, gift, strict=True) if not is_gift)
    taxes = [(_tax_label(name, rate), _tax(base, rate)) for name, rate in tax_lines]
    shipping, method = _shipping(c, people, pos, all(gift), code, subtotal, u[3], source)
    total = subtotal + shipping + sum(v for _, v in taxes)
    refunded = {3: total, 5: total, 4: int(round(total * (0.15 + 0.45 * u[4])))}.get(status, 0)
    email = "" if c < 0 else people.email[c]
    if email and u[5] < people.variant_p[c]:
        email = _email_spelling(email, u[6])
    phone = _text_guard(people.e164[c]) if c >= 0 and people.e164[c] else ""
    fulfilled = bool(fulfilled_at) and status in (0, 4, 5)
    partial = not fulfilled and status in (0, 4) and hi - lo > 1 and u[7] < 0.3
    lines = []
    for i, (v, q) in enumerate(zip(var, qty, strict=True)):
        row = [""] * len(ORDERS_HEADER)
        row[0], row[1], row[15], row[_COL["Phone"]] = f"#{plan.number[k]}", email, created, phone
        row[16:24] = [
            str(q),
            cat.var_name[v],
            _money(cat.var_price[v]),
            _money(cat.var_compare[v]) if cat.var_compare[v] else "",
            cat.var_sku[v],
            "false" if gift[i] else "true",
            "false" if gift[i] else "true",
            "fulfilled" if fulfilled or (partial and i == 0) else "pending",
        ]
        row[_COL["Vendor"]] = cat.vendor[int(cat.var_product[v])]
        row[_COL["Lineitem discount"]] = _money(shares[i])
        lines.append(row)
    head = lines[0]
    financial = ("paid", "pending", "voided", "refunded", "partially_refunded", "refunded")
    head[2:15] = [
        financial[status],
        paid_at if status in (0, 3, 4, 5) else "",
        "fulfilled" if fulfilled else ("partial" if partial else "unfulfilled"),
        fulfilled_at if fulfilled else "",
        "yes" if accepts else "no",
        "USD",
        _money(subtotal),
        _money(shipping),
        _money(total - subtotal - shipping),
        _money(total),
        _CODES[code],
        _money(discount),
        method,
    ]
    if c >= 0 and not pos:
        head[_BILLING] = head[_SHIPPING] = _address_block(people, c)
        head[_COL["Billing Province Name"]] = people.province_name[c]
        head[_COL["Shipping Province Name"]] = people.province_name[c]
    _order_extras(
        head, k, c, plan, people, status, source, cancelled_at, due, refunded, total, taxes
    )
    return lines, total, refunded


def _order_extras(
    head: list[str],
    k: int,
    c: int,
    plan: _Plan,
    people: _People,
    status: int,
    source: int,
    cancelled_at: str,
    due: str,
    refunded: int,
    total: int,
    taxes: list[tuple[str, int]],
) -> None:
    """Payment, risk, channel, tax and note cells of an order's first row."""
    u = plan.u[k]
    oid = int(plan.order_id[k])
    wholesale = c >= 0 and bool(people.wholesale[c])
    if u[2] < 0.015:
        head[_COL["Notes"]] = _NOTES[int(u[2] * 1000) % len(_NOTES)]
    if u[2] > 0.99:
        head[_COL["Note Attributes"]] = "gift_wrap: yes"
    if status in (2, 3):
        head[_COL["Cancelled at"]] = cancelled_at
    if source == 1:
        method = "Cash" if u[5] < 0.3 else "Shopify Payments"
        head[_COL["Employee"]] = _EMPLOYEES[int(u[1] * 3)]
        head[_COL["Location"]] = "Brooklyn Flagship"
    elif source == 2:
        method = "Bank Deposit" if status == 1 else "manual"
    elif source == 6:
        method = "marketplace"
    else:
        method = ("Shopify Payments", "PayPal Express Checkout", "Shop Pay")[
            int(np.searchsorted((0.68, 0.88), u[0]))
        ]
    reference = f"c{oid * 3 + 7:d}.1"
    head[_COL["Payment Method"]] = method
    head[_COL["Payment Reference"]] = reference
    head[_COL["Payment References"]] = reference
    head[_COL["Payment ID"]] = f"p{(oid * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFF:012x}"
    head[_COL["Refunded Amount"]] = _money(refunded)
    head[_COL["Outstanding Balance"]] = _money(total if status == 1 else 0)
    head[_COL["Id"]] = str(oid)
    head[_COL["Tags"]] = "wholesale" if wholesale else ""
    head[_COL["Risk Level"]] = "High" if u[6] > 0.997 else ("Medium" if u[6] > 0.975 else "Low")
    head[_COL["Source"]] = _SOURCES[source]
    for i, (name, value) in enumerate(taxes[:5]):
        head[_COL["Tax 1 Name"] + 2 * i] = name
        head[_COL["Tax 1 Value"] + 2 * i] = _money(value)
    if wholesale and status == 1:
        head[_COL["Payment Terms Name"]] = "Net 30"
        head[_COL["Next Payment Due At"]] = due


def _allocate(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` cents in proportion to ``weights``; the largest weight takes the rest."""
    total = sum(weights)
    if not amount or not total:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    shares[weights.index(max(weights))] += amount - sum(shares)
    return shares


def _shipping(
    c: int,
    people: _People,
    pos: bool,
    gift_only: bool,
    code: int,
    subtotal: int,
    u: float,
    source: int,
) -> tuple[int, str]:
    """Shipping charge in cents and method name."""
    if pos or gift_only or c < 0:
        return 0, ""
    if _CODES[code] == "FREESHIP":
        return 0, "Free Shipping"
    if source == 2 and people.wholesale[c]:
        return 4500, "Freight"
    if people.address[c][4] != "US":
        return (2995, "International Express") if u < 0.2 else (1495, "International Shipping")
    if u < 0.12:
        return 1495, "Express Shipping"
    return (0, "Free Standard Shipping") if subtotal >= 7500 else (595, "Standard Shipping")


def _site_events(
    rng: np.random.Generator,
    people: _People,
    book: _Book,
    ledger: _Ledger,
    cat: _Catalog,
    clock: _Clock,
    events: _Events,
) -> None:
    """Sessions before online orders, Placed Order for most orders, and browsing sessions."""
    n = len(book.t)
    cust = book.cust
    known = ledger.email_known & (cust >= 0)
    _placed_order_events(rng, book, ledger, known, events)
    site = known & np.isin(ledger.source, _SITE_SOURCES) & (rng.random(n) < 0.8)
    k = np.flatnonzero(site)
    device = np.where(ledger.source[k] == 0, _session_device(rng, people, cust[k]), 1)
    begin = book.t[k] - rng.integers(300, 2400, len(k))
    events.add(begin, _EV["Active on Site"], cust[k], device=device)
    lines = ledger.line_start[k + 1] - ledger.line_start[k]
    line_idx = np.repeat(ledger.line_start[k], lines) + (
        np.arange(lines.sum()) - np.repeat(np.cumsum(lines) - lines, lines)
    )
    owner = np.repeat(np.arange(len(k)), lines)
    var = ledger.line_var[line_idx]
    step = (book.t[k] - 200 - begin)[owner] // (2 * lines[owner] + 1)
    rank = line_idx - ledger.line_start[k][owner]
    t_view = begin[owner] + step * (2 * rank + 1)
    common = {"var": var, "device": device[owner]}
    events.add(t_view, _EV["Viewed Product"], cust[k][owner], value=cat.var_price[var], **common)
    events.add(
        t_view + step, _EV["Added to Cart"], cust[k][owner], value=cat.var_price[var], **common
    )
    cart = np.bincount(owner, ledger.line_qty[line_idx] * cat.var_price[var], len(k))
    events.add(
        book.t[k] - rng.integers(40, 180, len(k)),
        _checkout_kind(rng, len(k)),
        cust[k],
        value=cart.astype(np.int64),
        device=device,
    )
    _browse_sessions(rng, people, book.death, cat, clock, events)


def _placed_order_events(
    rng: np.random.Generator, book: _Book, ledger: _Ledger, known: np.ndarray, events: _Events
) -> None:
    """Placed Order for most of the ``known`` orders (those the email platform can match)."""
    placed = known & (rng.random(len(book.t)) < 0.85)
    events.add(
        book.t[placed],
        _EV["Placed Order"],
        book.cust[placed],
        value=ledger.total[placed],
        order=np.flatnonzero(placed),
    )


def _session_device(rng: np.random.Generator, people: _People, cust: np.ndarray) -> np.ndarray:
    """Mostly the customer's usual device, sometimes another."""
    other = rng.integers(0, 3, len(cust))
    return np.where(rng.random(len(cust)) < 0.8, people.device[cust], other)


def _checkout_kind(rng: np.random.Generator, n: int) -> np.ndarray:
    """Klaviyo's ``Started Checkout``, or the Shopify integration's ``Checkout Started``."""
    return np.where(rng.random(n) < 0.3, _EV["Checkout Started"], _EV["Started Checkout"])


def _browse_sessions(
    rng: np.random.Generator,
    people: _People,
    death: np.ndarray,
    cat: _Catalog,
    clock: _Clock,
    events: _Events,
) -> None:
    """Visits that end without an order: views, some carts, some abandoned checkouts."""
    identified = np.flatnonzero((rng.random(people.n) < 0.75) & ~people.phone_only)
    lo = clock.to_op(people.acq[identified])
    hi = clock.to_op(np.minimum(death[identified], clock.stop))
    hi = np.maximum(hi, lo)
    rate = 1.0 + 1.6 * np.minimum(people.lam[identified], 6.0)
    sessions = rng.poisson(rate * (hi - lo))
    cust = np.repeat(identified, sessions)
    start = clock.from_op(
        np.repeat(lo, sessions) + rng.random(len(cust)) * np.repeat(hi - lo, sessions)
    )
    device = _session_device(rng, people, cust)
    events.add(start, _EV["Active on Site"], cust, device=device)
    views = np.minimum(rng.geometric(0.55, len(cust)), 6)
    owner = np.repeat(np.arange(len(cust)), views)
    rank = np.arange(views.sum()) - np.repeat(np.cumsum(views) - views, views)
    var = _pick_variants(rng, cat, people.fav[cust[owner]], people.spend[cust[owner]])
    t_view = start[owner] + 20 + rank * 75 + rng.integers(0, 60, len(owner))
    events.add(
        t_view,
        _EV["Viewed Product"],
        cust[owner],
        var=var,
        value=cat.var_price[var],
        device=device[owner],
    )
    last = np.cumsum(views) - 1
    carted = rng.random(len(cust)) < 0.22
    c_var, c_t = var[last][carted], t_view[last][carted] + 45
    events.add(
        c_t,
        _EV["Added to Cart"],
        cust[carted],
        var=c_var,
        value=cat.var_price[c_var],
        device=device[carted],
    )
    checkout = rng.random(len(c_t)) < 0.4
    events.add(
        c_t[checkout] + 90,
        _checkout_kind(rng, int(checkout.sum())),
        cust[carted][checkout],
        value=cat.var_price[c_var][checkout],
        device=device[carted][checkout],
    )


def _write_events(
    path: Path,
    events: _Events,
    people: _People,
    ledger: _Ledger,
    cat: _Catalog,
    clock: _Clock,
    chunk: int = 250_000,
) -> None:
    """Sort all events by time and write them in chunks, column by column."""
    cols = events.sorted(clock.start, clock.stop)
    names = np.array(_EVENTS, dtype=object)
    channel = np.array(["email"] * 6 + ["web"] * 6, dtype=object)
    email = np.array(people.email, dtype=object)
    order_id = np.array([str(x) for x in ledger.order_id.tolist()] + [""], dtype=object)
    handle = np.array(cat.handle + [""], dtype=object)
    title = np.array(cat.title + [""], dtype=object)
    category = np.array(cat.category + [""], dtype=object)
    product = np.append(cat.var_product, -1)
    device = np.array(_DEVICES + ("",), dtype=object)
    campaign = np.array(events.campaign_names + [""], dtype=object)  # type: ignore[attr-defined]
    blank = np.array([""], dtype=object)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(EVENTS_HEADER)
        for lo in range(0, len(cols["t"]), chunk):
            part = {f: c[lo : lo + chunk] for f, c in cols.items()}
            prod = product[part["var"]]
            stamps = np.datetime_as_string(part["t"].astype("datetime64[s]"), timezone="UTC")
            values = [_money(v) if v >= 0 else "" for v in part["value"].tolist()]
            writer.writerows(
                zip(
                    names[part["kind"]],
                    stamps.tolist(),
                    email[part["cust"]],
                    np.broadcast_to(blank, (len(prod),)),
                    order_id[part["order"]],
                    handle[prod],
                    title[prod],
                    category[prod],
                    values,
                    device[part["device"]],
                    channel[part["kind"]],
                    campaign[part["campaign"]],
                    strict=True,
                )
            )


# --------------------------------------------------------------------------- other files


def _write_products(path: Path, cat: _Catalog) -> None:
    """Write the products export."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(PRODUCTS_HEADER)
        writer.writerows(cat.rows)


def _customer_tags(people: _People, ledger: _Ledger, vip: bool, c: int) -> str:
    """Comma-separated tags, sorted case-insensitively as Shopify shows them."""
    tags = []
    if vip:
        tags.append("VIP")
    if people.wholesale[c]:
        tags.append("wholesale")
    if people.ever_sub[c] and (ledger.count[c] == 0 or people.sub_start[c] < people.acq[c] + 60):
        tags.append("newsletter")
    if people.login_shop[c]:
        tags.append("Login with Shop")
    return ", ".join(sorted(tags, key=str.lower))


def _customer_rows(people: _People, ledger: _Ledger, stop: int) -> Iterable[list[str]]:
    """One customers-export row per customer, in sign-up order."""
    show_address = ledger.shipped_to | ((ledger.count == 0) & (people.ids % 10 < 3))
    accepts = people.ever_sub & (people.sub_end > stop - 1)
    for c in range(people.n):
        street, unit, city, province, country, postal = people.address[c]
        address = [
            street,
            unit,
            city,
            province,
            country,
            _text_guard(postal),
            _text_guard(people.local_phone[c]) if people.e164[c] else "",
        ]
        if not show_address[c]:
            address = [""] * 7
        yield [
            f"'{people.ids[c]}",
            people.first[c],
            people.last[c],
            people.email[c],
            "yes" if accepts[c] else "no",
            people.company[c] if show_address[c] else "",
            *address[:5],
            address[5],
            address[6],
            _text_guard(people.e164[c]) if people.e164[c] else "",
            "yes" if people.sms[c] else "no",
            _money(ledger.spent[c]),
            str(ledger.count[c]),
            people.note[c],
            "yes" if people.wholesale[c] else "no",
            _customer_tags(people, ledger, bool(ledger.vip[c]), c),
        ]


def _write_customers(path: Path, people: _People, ledger: _Ledger, stop: int) -> None:
    """Write the customers export (customers without orders included)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(CUSTOMERS_HEADER)
        writer.writerows(_customer_rows(people, ledger, stop))


# --------------------------------------------------------------------------- entry point


@dataclass(frozen=True)
class DemoStore:
    """A generated store: its files and the simulation behind them, kept so that the weeks
    after the exports can be simulated too (:mod:`segmint.demo_campaign`)."""

    files: DemoFiles
    seed: int
    end: date  # the last day the exports cover, in store time
    clock: _Clock
    cat: _Catalog
    people: _People
    book: _Book
    ledger: _Ledger


def generate_demo_store(
    out_dir: Path,
    customers: int = 5000,
    seed: int = 42,
    years: float = 2.5,
    end: date = date(2026, 10, 31),
    timezone_offset: str = "-0500",
) -> DemoFiles:
    """Write a synthetic store's Shopify and Klaviyo-style exports into ``out_dir``.

    ``customers`` people sign up over ``years`` ending with ``end`` (store time at
    ``timezone_offset``); the same arguments always produce byte-identical files.
    """
    return build_demo_store(out_dir, customers, seed, years, end, timezone_offset).files


def build_demo_store(
    out_dir: Path,
    customers: int = 5000,
    seed: int = 42,
    years: float = 2.5,
    end: date = date(2026, 10, 31),
    timezone_offset: str = "-0500",
) -> DemoStore:
    """:func:`generate_demo_store`, returning the simulation with the files."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if not 0 < years <= 20:
        raise ValueError("years must be in (0, 20]")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(
        out / "orders_export.csv",
        out / "customers_export.csv",
        out / "products_export.csv",
        out / "events.csv",
    )
    rng = np.random.default_rng(seed)
    clock = _build_clock(end, years, timezone_offset)
    cat = _build_catalog(rng)
    people = _build_people(rng, customers, clock)
    book = _purchase_times(rng, people, clock)
    events = _Events()
    _email_events(rng, people, book.death, clock, events)
    ledger = _write_orders(files.orders, rng, book, people, cat, clock)
    _site_events(rng, people, book, ledger, cat, clock, events)
    _write_products(files.products, cat)
    _write_customers(files.customers, people, ledger, clock.stop)
    _write_events(files.events, events, people, ledger, cat, clock)
    return DemoStore(files, seed, end, clock, cat, people, book, ledger)
