"""Vocabularies of the data generator: H&M-like taxonomy, segments, colours, words."""

from __future__ import annotations

from dataclasses import dataclass

AGE_BRACKET_RANGES = ((16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 90))


@dataclass(frozen=True)
class Segment:
    """A planted customer segment: what its members buy, at what price, at what age."""

    name: str
    index_group: str
    index_name: str
    index_code: str
    department_prefix: str
    sections: tuple[str, ...]
    groups: tuple[str, ...]  # preferred product groups, most preferred first
    price_level: float  # multiplier on the product type's base price
    ages: tuple[float, ...]  # weights over AGE_BRACKET_RANGES
    weight: float  # share of customers (and of the catalogue)


SEGMENTS: tuple[Segment, ...] = (
    Segment(
        "young_divided", "Divided", "Divided", "D", "Divided",
        ("Divided Collection", "Divided Basics", "Divided Selected"),
        ("Garment Upper body", "Garment Lower body", "Garment Full body", "Accessories"),
        0.7, (0.55, 0.30, 0.10, 0.03, 0.01, 0.01), 0.16,
    ),
    Segment(
        "ladies_classic", "Ladieswear", "Ladieswear", "A", "Ladies",
        ("Womens Everyday Collection", "Womens Tailoring", "Womens Casual"),
        ("Garment Upper body", "Garment Lower body", "Garment Full body", "Shoes"),
        1.3, (0.05, 0.20, 0.30, 0.27, 0.13, 0.05), 0.18,
    ),
    Segment(
        "lingerie_night", "Ladieswear", "Lingeries/Tights", "B", "Lingerie",
        ("Womens Lingerie", "Womens Nightwear, Socks & Tigh", "Womens Swimwear, beachwear"),
        ("Underwear", "Nightwear", "Socks & Tights", "Swimwear"),
        1.0, (0.20, 0.35, 0.25, 0.12, 0.06, 0.02), 0.12,
    ),
    Segment(
        "menswear", "Menswear", "Menswear", "F", "Men",
        ("Mens Outerwear", "Men Suits & Tailoring", "Men Underwear", "Men Shoes"),
        ("Garment Upper body", "Garment Lower body", "Underwear", "Shoes"),
        1.1, (0.15, 0.30, 0.25, 0.18, 0.09, 0.03), 0.14,
    ),
    Segment(
        "baby_parents", "Baby/Children", "Baby Sizes 50-98", "G", "Baby",
        ("Baby Essentials & Complements", "Baby Girl", "Baby Boy"),
        ("Garment Full body", "Garment Upper body", "Garment Lower body", "Socks & Tights"),
        0.6, (0.10, 0.50, 0.30, 0.07, 0.02, 0.01), 0.10,
    ),
    Segment(
        "kids", "Baby/Children", "Children Sizes 92-140", "H", "Kids",
        ("Kids Girl", "Kids Boy", "Young Girl", "Young Boy"),
        ("Garment Upper body", "Garment Lower body", "Garment Full body", "Shoes"),
        0.7, (0.02, 0.25, 0.45, 0.20, 0.06, 0.02), 0.10,
    ),
    Segment(
        "sport", "Sport", "Sport", "S", "Sport",
        ("Ladies H&M Sport", "Men H&M Sport"),
        ("Garment Upper body", "Garment Lower body", "Shoes", "Accessories"),
        1.0, (0.35, 0.35, 0.18, 0.08, 0.03, 0.01), 0.08,
    ),
    Segment(
        "accessories", "Ladieswear", "Ladies Accessories", "C", "Accessories",
        ("Womens Small accessories", "Womens Big accessories", "Womens Shoes"),
        ("Accessories", "Bags", "Shoes", "Cosmetic"),
        0.9, (0.20, 0.25, 0.22, 0.18, 0.10, 0.05), 0.12,
    ),
)  # fmt: skip

# product group -> (product type, garment group, base price in SEK)
PRODUCT_TYPES: dict[str, tuple[tuple[str, str, float], ...]] = {
    "Garment Upper body": (
        ("T-shirt", "Jersey Basic", 99),
        ("Top", "Jersey Fancy", 149),
        ("Sweater", "Knitwear", 299),
        ("Blouse", "Blouses", 249),
        ("Shirt", "Shirts", 299),
        ("Hoodie", "Jersey Fancy", 299),
        ("Cardigan", "Knitwear", 349),
        ("Jacket", "Outdoor", 599),
    ),
    "Garment Lower body": (
        ("Trousers", "Trousers", 349),
        ("Jeans", "Trousers Denim", 399),
        ("Shorts", "Shorts", 199),
        ("Skirt", "Skirts", 299),
        ("Leggings/Tights", "Jersey Basic", 149),
    ),
    "Garment Full body": (
        ("Dress", "Dresses Ladies", 399),
        ("Jumpsuit/Playsuit", "Dresses Ladies", 399),
        ("Dungarees", "Trousers", 299),
        ("Bodysuit", "Jersey Basic", 99),
    ),
    "Underwear": (
        ("Bra", "Under-, Nightwear", 249),
        ("Underwear bottom", "Under-, Nightwear", 99),
        ("Boxers", "Under-, Nightwear", 149),
        ("Underwear body", "Under-, Nightwear", 199),
    ),
    "Nightwear": (
        ("Pyjama set", "Under-, Nightwear", 299),
        ("Night gown", "Under-, Nightwear", 249),
        ("Pyjama bottom", "Under-, Nightwear", 199),
    ),
    "Socks & Tights": (
        ("Socks", "Socks and Tights", 49),
        ("Underwear Tights", "Socks and Tights", 99),
        ("Leg warmers", "Socks and Tights", 79),
    ),
    "Swimwear": (
        ("Bikini top", "Swimwear", 199),
        ("Swimwear bottom", "Swimwear", 149),
        ("Swimsuit", "Swimwear", 299),
        ("Sarong", "Swimwear", 199),
    ),
    "Shoes": (
        ("Sneakers", "Shoes", 399),
        ("Boots", "Shoes", 699),
        ("Sandals", "Shoes", 299),
        ("Ballerinas", "Shoes", 299),
    ),
    "Accessories": (
        ("Hat/beanie", "Accessories", 149),
        ("Scarf", "Accessories", 199),
        ("Earring", "Accessories", 99),
        ("Sunglasses", "Accessories", 149),
        ("Belt", "Accessories", 149),
        ("Hair/alice band", "Accessories", 79),
        ("Necklace", "Accessories", 129),
    ),
    "Bags": (
        ("Bag", "Accessories", 299),
        ("Backpack", "Accessories", 399),
        ("Wallet", "Accessories", 199),
    ),
    "Cosmetic": (
        ("Fine cosmetics", "Accessories", 149),
        ("Nail polish", "Accessories", 79),
    ),
}
GROUPS: tuple[str, ...] = tuple(PRODUCT_TYPES)

# what else goes in the basket with an item of this group
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "Garment Upper body": ("Garment Lower body", "Shoes", "Accessories"),
    "Garment Lower body": ("Garment Upper body", "Shoes", "Socks & Tights"),
    "Garment Full body": ("Shoes", "Accessories", "Bags", "Socks & Tights"),
    "Underwear": ("Nightwear", "Socks & Tights", "Underwear"),
    "Nightwear": ("Underwear", "Socks & Tights"),
    "Socks & Tights": ("Underwear", "Nightwear", "Garment Lower body", "Garment Full body"),
    "Swimwear": ("Swimwear", "Underwear", "Accessories"),
    "Shoes": ("Garment Lower body", "Garment Upper body", "Socks & Tights", "Bags"),
    "Accessories": ("Bags", "Garment Full body", "Garment Upper body", "Cosmetic"),
    "Bags": ("Accessories", "Shoes", "Cosmetic"),
    "Cosmetic": ("Accessories", "Bags"),
}

# colour group -> (perceived colour value, perceived colour master, weight)
COLOURS: tuple[tuple[str, str, str, float], ...] = (
    ("Black", "Dark", "Black", 0.20),
    ("White", "Light", "White", 0.10),
    ("Off White", "Dusty Light", "White", 0.04),
    ("Dark Blue", "Dark", "Blue", 0.08),
    ("Blue", "Medium", "Blue", 0.05),
    ("Light Blue", "Light", "Blue", 0.05),
    ("Grey", "Medium", "Grey", 0.04),
    ("Dark Grey", "Dark", "Grey", 0.03),
    ("Light Beige", "Dusty Light", "Beige", 0.05),
    ("Beige", "Medium Dusty", "Beige", 0.04),
    ("Red", "Bright", "Red", 0.03),
    ("Dark Red", "Dark", "Red", 0.03),
    ("Pink", "Light", "Pink", 0.05),
    ("Light Pink", "Light", "Pink", 0.04),
    ("Green", "Medium", "Green", 0.02),
    ("Dark Green", "Dark", "Green", 0.03),
    ("Khaki green", "Medium Dusty", "Khaki green", 0.03),
    ("Yellow", "Bright", "Yellow", 0.02),
    ("Brown", "Dark", "Brown", 0.02),
    ("Orange", "Bright", "Orange", 0.01),
    ("Lilac Purple", "Light", "Lilac Purple", 0.01),
    ("Turquoise", "Medium", "Turquoise", 0.01),
    ("Silver", "Medium", "Metal", 0.005),
    ("Gold", "Medium", "Metal", 0.005),
)

APPEARANCES: tuple[tuple[str, float], ...] = (
    ("Solid", 0.55),
    ("All over pattern", 0.12),
    ("Melange", 0.06),
    ("Stripe", 0.07),
    ("Denim", 0.05),
    ("Print", 0.06),
    ("Lace", 0.03),
    ("Check", 0.03),
    ("Embroidery", 0.03),
)

ADJECTIVES: dict[str, tuple[str, ...]] = {
    "Garment Upper body": (
        "slim", "relaxed", "oversized", "cropped", "ribbed", "printed", "striped", "fitted",
        "linen", "cotton",
    ),
    "Garment Lower body": (
        "slim", "wide", "high-waisted", "straight", "tapered", "pleated", "cargo", "relaxed",
    ),
    "Garment Full body": ("wrap", "pleated", "satin", "jersey", "ribbed", "smocked", "linen"),
    "Underwear": ("lace", "seamless", "soft", "padded", "microfibre", "cotton"),
    "Nightwear": ("jersey", "satin", "flannel", "cotton", "soft"),
    "Socks & Tights": ("ribbed", "fine-knit", "patterned", "opaque", "5-pack"),
    "Swimwear": ("padded", "high-leg", "ribbed", "tie", "printed"),
    "Shoes": ("chunky", "leather", "suede", "platform", "canvas", "slip-on"),
    "Accessories": ("wool", "metal", "oversized", "leather", "beaded", "slim"),
    "Bags": ("leather", "canvas", "quilted", "small", "shoulder"),
    "Cosmetic": ("matte", "shimmer", "nourishing"),
}  # fmt: skip

MATERIALS = (
    "soft cotton jersey", "organic cotton", "stretch denim", "fine-knit viscose",
    "recycled polyester", "a linen blend", "woven fabric", "ribbed jersey", "soft faux fur",
    "imitation leather", "lace", "microfibre", "sweatshirt fabric", "satin",
)  # fmt: skip
FEATURES = (
    "a round neckline", "long sleeves", "short sleeves", "an elasticated waist", "side pockets",
    "a concealed zip", "adjustable straps", "a V-neck", "a relaxed fit", "a regular waist",
    "buttons down the front", "a ribbed hem", "a drawstring", "narrow shoulder straps",
    "a high waist", "a lined inside", "a wrapover front", "dropped shoulders",
)  # fmt: skip

# H&M's transaction prices are SEK divided by a constant; these are its price points
PRICE_POINTS_SEK = (
    29.99, 39.99, 49.99, 59.99, 79.99, 99.99, 129.0, 149.0, 199.0, 249.0, 299.0, 349.0, 399.0,
    499.0, 599.0, 699.0, 799.0, 999.0, 1299.0,
)  # fmt: skip
PRICE_SCALE = 590.0
