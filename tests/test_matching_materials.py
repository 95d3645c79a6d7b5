# ruff: noqa: E501  (tables of cases read best one case per line)
"""Material (product) matching without a database: title normalisers, the product
comparisons and their levels, the material declaration, and the EM options."""

import numpy as np
import pytest

from golden.domains.material import MATCHING
from matching.engine import comparisons as c
from matching.engine import normalize as n
from matching.engine import training
from matching.engine.scoring import Model, Thresholds, default_parameters


def level_name(comparison, a, b):
    return comparison.levels[comparison.level(comparison.prepare(a), comparison.prepare(b))].name


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Sony Turntable - PSLX350H", ("sony", "turntable", "pslx350h")),
        ("QuickBooks(R) for the Mac", ("quickbooks", "mac")),
        ("a the with", ()),
        ("", ()),
        (None, ()),
    ],
)
def test_title_words(text, words):
    assert n.title_words(text) == words


@pytest.mark.parametrize(
    ("text", "versions", "editions", "licences", "platforms", "colours"),
    [
        ("Adobe Photoshop CS3 Extended Upgrade [Mac]", {"cs3"}, {"extended"}, {"upgrade"}, {"mac"}, set()),
        ("QuickBooks Point-of-Sale Basic 6.0", {"6"}, {"basic"}, set(), set(), set()),
        ("Office 2007 Pro Academic for Windows", {"2007"}, {"professional"}, {"academic"}, {"windows"}, set()),
        ("Norton 2008 - 3 user", {"2008"}, set(), set(), set(), set()),
        ("Sony 5-Disc CD Player", set(), set(), set(), set(), set()),
        ("Anime Studio 5 Win 98/ME 2000/XP Mac OS 10.4", {"5"}, set(), set(), set(), set()),
        ("Flash v9.0 for Mac and Windows", {"9"}, set(), set(), set(), set()),
        ("Sony Cyber-shot Camera - Grey", set(), set(), set(), set(), {"gray"}),
        ("Stainless Steel Microwave", set(), set(), set(), set(), {"steel"}),
        # Sizes and amounts are not versions: listings round or leave them out.
        ("Whirlpool 24' Built-In Dishwasher - DU1055BK", set(), set(), set(), set(), set()),
        ("LG 4.2 Cu. Ft. Front Load Washer - White", set(), set(), set(), set(), {"white"}),
        ("LG 5.0 cu.ft. Freestanding Gas Range", set(), set(), set(), set(), set()),
        ("Canon PowerShot 14.7 Megapixel Camera", set(), set(), set(), set(), set()),
        ("Samsung 2.1 Channel Theater System", set(), set(), set(), set(), set()),
        ('Sanus 15" - 40" Wall Mount', set(), set(), set(), set(), set()),
        ("Sanus 15\u2033 - 40\u2033 Wall Mount, 24\u2019 Cabinet", set(), set(), set(), set(), set()),
        ("Adobe FrameMaker v.7.2 - 1 user", {"7.2"}, set(), set(), set(), set()),
        ("Intuit QB Premier 07", {"2007"}, {"premier"}, set(), set(), set()),
        ("Kid Pix 3 in 1 Deluxe", {"3", "1"}, {"deluxe"}, set(), set(), set()),
        ("", set(), set(), set(), set(), set()),
    ],
)  # fmt: skip
def test_product_variant(text, versions, editions, licences, platforms, colours):
    variant = n.product_variant(text)
    assert variant.versions == versions
    assert variant.editions == editions
    assert variant.licences == licences
    assert variant.platforms == platforms
    assert variant.colours == colours
    assert bool(variant) == bool(versions or editions or licences or platforms or colours)


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Sony Turntable PSLX350H", "sony turntable pslx350h", "exact"),
        ("Sony Turntable PSLX350H Belt", "Belt: Sony Turntable (PSLX350H)", "exact"),
        ("Sony Belt Drive Turntable PSLX350H", "Sony Belt Drive Turntable PSLX350H Black", "dice>=0.8"),
        ("Sony Turntable PSLX350H", "Sony PSLX350H Belt Drive Turntable Black Finish", "dice>=0.6,contained>=0.8"),
        ("Turntable PSLX350H", "Sony PSLX350H Belt Drive Turntable with Pitch Control and USB", "contained>=0.8"),
        ("Canon PowerShot SX10 Camera", "Canon PowerShot Digital Camera Kit With Bag And Card", "dice>=0.5"),
        ("Canon PowerShot SX10 Camera", "Canon PowerShot Digital Camera Kit With Bag And Card Case Strap Charger", "contained>=0.5"),
        ("Sony Turntable", "Bose Speaker System", "else"),
        ("", "Bose Speaker System", "null"),
    ],
)  # fmt: skip
def test_title_words_levels(a, b, level):
    comparison = c.TitleWords("name")
    assert level_name(comparison, {"name": a}, {"name": b}) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ({"name": "Sony Turntable - PSLX350H"}, {"name": "Sony PS-LX350H Turntable"}, "title_long"),
        ({"name": "Netgear Switch FS105"}, {"name": "NETGEAR FS105 Switch"}, "title"),
        ({"name": "Danby Dishwasher - DDW497WH"}, {"name": "Danby Dishwasher", "description": "model DDW497WH"}, "title"),
        ({"name": "Olympus Camera - FE360PNK"}, {"name": "Olympus FE-360 Camera"}, "suffix"),
        ({"name": "Sony DVD Player - DVPFX820"}, {"name": "Sony DVPFX820 DVD Player - DVPFX820/W"}, "suffix"),
        ({"name": "Panasonic Phone - KXTG9332T"}, {"name": "Panasonic KX-TG9332S Phone"}, "near"),
        ({"name": "GE Antenna - TV24775"}, {"name": "GE 24775 Antenna GE24775"}, "near"),
        ({"name": "Logitech V470 Mouse - 910000692"}, {"name": "Logitech V470 Mouse - 910-000298"}, "partly"),
        ({"name": "Mouse", "description": "fits DX1000 keyboards"}, {"name": "Keyboard DX1000"}, "title"),
        ({"name": "Ink", "description": "for iP4600"}, {"name": "Ink", "description": "for iP4600"}, "text"),
        ({"name": "LG Range - LRE30453BK"}, {"name": "LG 5.6 cu.ft. Electric Range", "description": "x"}, "null"),
        ({"name": "LG Range - LRE30453BK"}, {"name": "LG Range", "description": "fits DX1000"}, "one_sided"),
        ({"name": "Panasonic Phone - KXTG4321B"}, {"name": "Panasonic KX-TG4323B Phone"}, "else"),
        ({"name": "Netgear 24-Port Switch"}, {"name": "Netgear 24-Port Hub"}, "null"),
        ({"name": "Canon Lens 70-300mm F/4-5.6"}, {"name": "Canon Lens 55-250mm f/4-5.6"}, "null"),
        ({"name": "Nikon Lens F3.5 f22"}, {"name": "Canon Lens f22 F3.5"}, "null"),
        # A code spelled out in words in the other title.
        ({"name": "Canon PowerShot - SD990IS"}, {"name": "Canon PowerShot SD990 IS - 3191B001"}, "title"),
        ({"name": "Olympus Camera - STYLUS1050SWB"}, {"name": "Olympus Stylus 1050 SW - 226455"}, "suffix"),
        ({"name": "Sony Camera - DSCW150"}, {"name": "Sony DSC W170 Camera"}, "else"),
        # A letter F after a dash ends a code, it is no aperture; letters without a
        # vowel glued to a number are a code, not a counted word ("24-Port").
        ({"name": "Alpine Amplifier - MRPF300"}, {"name": "ALPINE MRP-F300 Car Amplifier"}, "title_long"),
        ({"name": "Griffin TuneBuds - 9410TUNBMBLB"}, {"name": "Griffin Earset - 9410-TUNBMBLB"}, "title_long"),
        ({"name": "Netgear 3-Inch 400-Watt 2-Line"}, {"name": "Netgear 3-Inch 400-Watt 2-Line"}, "null"),
        # Grades, dimensions, platforms, releases and terms are not model numbers.
        ({"name": "Adventure Workshop 4th-6th grade"}, {"name": "JumpStart 4th-6th grade"}, "null"),
        ({"name": "Brain Play preschool-1st"}, {"name": "Adventure Workshop preschool-1st"}, "null"),
        ({"name": "ViaCAD 2D/3D"}, {"name": "TurboCAD Designer 2D/3D"}, "null"),
        ({"name": "Outlook 2007 Win32"}, {"name": "Office SBE 2007 Win32"}, "null"),
        ({"name": "ARCserve r11.5 agent"}, {"name": "ARCserve r11.5 suite"}, "null"),
        ({"name": "Exceed 2007 w/1yr maintenance"}, {"name": "Total Protection w/1yr gold"}, "null"),
        ({"name": "Hub USB2.0 MP3"}, {"name": "Player USB2.0 MP3"}, "null"),
        ({"name": "Fingerstyle Artistry - 2-DVD Set"}, {"name": "Human Body 360", "description": "this 2-dvd set features"}, "null"),
        ({"name": "Hoyle Card Games Win2000"}, {"name": "Encore Aquarium Win2000"}, "null"),
        ({"name": "Data Protector for 5 Win NT/2000/XP"}, {"name": "Typing Instructor (Win 98 ME NT 2000 XP)"}, "null"),
        ({"name": "Rumba Web to Host AS400"}, {"name": "SmarTerm Office", "description": "access to AS/400"}, "null"),
    ],
)  # fmt: skip
def test_product_code_levels(a, b, level):
    assert level_name(c.ProductCodes("name", ("description",)), a, b) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Math Success Deluxe 2007", "math success(tm) deluxe 2007", "same_version"),
        ("Adobe Soundbooth", "Adobe Soundbooth for Windows", "consistent"),
        ("Adobe After Effects CS3", "Adobe CS3 After Effects Upgrade", "licence_one_sided"),
        ("Sony Cyber-shot DSCW150 Silver", "Sony Cyber-shot DSC-W150 - Black", "colour_conflict"),
        ("QuickBooks Pro 2007", "QuickBooks Premier 2007", "edition_conflict"),
        ("Photoshop CS3 [Mac]", "Photoshop CS3 Windows", "edition_conflict"),
        ("Instant Immersion French 2.0", "Instant Immersion Italian 2.0", "edition_conflict"),
        ("Instant Immersion Italian Deluxe", "instant immersion italian", "consistent"),
        ("Retrospect 6.0 Desktop", "Retrospect Server 6.0", "edition_conflict"),
        ("Punch Professional Home Design Platinum", "Punch Pro Platinum v10", "consistent"),
        ("Acrobat Professional 8", "Acrobat 8.0 Professional (std-pro)", "same_version"),
        ("Acrobat Pro Platinum 8", "Acrobat 8.0 Pro Premium", "edition_conflict"),
        ("QuickBooks Pro 2007", "QuickBooks Pro 2008", "version_conflict"),
        ("Photoshop CS2", "Photoshop CS3 Upgrade", "version_conflict"),
        ("Nyko PS3 Dual AC Charger", "Nyko PlayStation 3 Dual Charger", "consistent"),
        ("Guitar Pro 5", "Guitar Pro v 5.1 (hybrid)", "consistent"),
        ("iView MediaPro 2.5", "iView MediaPro 2.6", "version_conflict"),
        ("QuickBooks Premier 2007", "QB Premier 07", "same_version"),
        ("Photoshop CS3", "Photoshop CS4", "version_conflict"),
        ("Cuisinart Countertop Griddler - GR4", "Cuisinart GR-4 Griddler", "consistent"),
        ("Whirlpool 24' Dishwasher - DU1055BK", "Whirlpool DU1055XTSS 6' Dishwasher", "consistent"),
        ("LG 4.2 Cu Ft Washer", "LG 4.0 cu. ft. Washer", "consistent"),
        ("", "Photoshop CS3", "null"),
    ],
)  # fmt: skip
def test_variant_levels(a, b, level):
    assert level_name(c.Variant("name"), {"name": a}, {"name": b}) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Sony Belt Drive Turntable - PSLX350H", "Sony PSLX350H Belt Drive Turntable", "code+words"),
        ("Sony Turntable - PSLX350H", "Sony PS-LX350H Belt Drive Turntable Black", "code"),
        ("Sony Turntable - PSLX350H", "PS-LX350H Stereo Record Player With Pitch Control", "code_only"),
        ("Olympus Pink Digital Camera - FE360PNK", "Olympus FE-360 Digital Camera - Pink", "variant+words"),
        ("Olympus Camera - FE360PNK", "FE-360 8 Megapixel Compact With Zoom", "variant"),
        ("Adobe Photoshop Elements", "Adobe Photoshop Elements Win", "words"),
        ("Adobe Photoshop Elements", "Adobe Photoshop Lightroom Win", "partly_words"),
        ("Norton Internet Security Suite", "Internet Security Home Protection Pack XL", "some_words"),
        ("Panasonic Cordless Phone - KXTG4321B", "Panasonic Cordless Phone - KXTG4323B", "other_code"),
        ("Sony Turntable", "Bose Speaker System", "else"),
        ("", "Bose Speaker System", "null"),
    ],
)  # fmt: skip
def test_product_title_levels(a, b, level):
    assert level_name(c.ProductTitle("name", ()), {"name": a}, {"name": b}) == level


TITLES = [
    "Sony Turntable - PSLX350H",
    "Sony PS-LX350H Belt Drive Turntable",
    "Olympus FE-360 Digital Camera - Pink",
    "Olympus Pink Digital Camera - FE360PNK",
    "QuickBooks Pro 2007",
    "QuickBooks Pro 2008 for Mac",
    "Panasonic KX-TG4323B Phone",
    "",
]


@pytest.mark.parametrize(
    "comparison",
    [
        c.TitleWords("name"),
        c.ProductCodes("name", ()),
        c.Variant("name"),
        c.ProductTitle("name", ()),
    ],
)
def test_vectorised_levels_equal_one_by_one(comparison):
    features = [comparison.prepare({"name": title}) for title in TITLES]
    left = [features[i] for i in range(len(TITLES)) for _ in range(len(TITLES))]
    right = [features[j] for _ in range(len(TITLES)) for j in range(len(TITLES))]
    assert comparison.levels_of(left, right).tolist() == [
        comparison.level(a, b) for a, b in zip(left, right, strict=True)
    ]


def test_material_declaration_scores_one_pair_as_many():
    model = MATCHING.model()
    records = [{"name": title, "description": title.lower()} for title in TITLES]
    features = [model.prepare(r) for r in records]
    pairs = np.array([(i, j) for i in range(len(records)) for j in range(i + 1, len(records))])
    levels = model.level_matrix(features, pairs)
    for row, (i, j) in enumerate(pairs.tolist()):
        assert tuple(levels[row]) == model.levels(features[i], features[j])
        assert model.weights_of_matrix(levels[row : row + 1])[0] == pytest.approx(
            model.score(features[i], features[j]).weight
        )
    for comparison in model.comparisons:
        for level in range(len(comparison.levels)):
            assert comparison.describe(level)


@pytest.mark.parametrize(
    ("a", "b", "decision"),
    [
        ("Sony Turntable - PSLX350H", "Sony PS-LX350H Belt Drive Turntable", "auto"),
        ("QuickBooks Pro 2007", "QuickBooks Pro 2008", "none"),
        ("Sony Turntable - PSLX350H", "Bose Acoustimass 5 Speaker System - AM53BK", "none"),
    ],
)
def test_material_defaults_decide(a, b, decision):
    model = MATCHING.model()
    score = model.score(model.prepare({"name": a}), model.prepare({"name": b}))
    assert model.thresholds.decision(score.probability) == decision


def small_model() -> Model:
    comparisons = (c.Exact("email"), c.Text("name", thresholds=(0.9,)))
    parameters = default_parameters(
        comparisons,
        m={"email": [0.9, 0.1], "name": [0.7, 0.2, 0.1]},
        u={"email": [0.001, 0.999], "name": [0.01, 0.05, 0.94]},
        prior=0.01,
    )
    return Model(comparisons, parameters, Thresholds(auto=0.99, review=0.5))


def simulated_levels(seed=3):
    generator = np.random.default_rng(seed)
    matches = np.column_stack(
        [
            generator.choice([1, 2], 300, p=[0.85, 0.15]),
            generator.choice([1, 2, 3], 300, p=[0.8, 0.15, 0.05]),
        ]
    )
    # Candidate non-matches agree more often than random pairs do (blocking gathers them).
    candidates = np.column_stack(
        [
            generator.choice([1, 2], 3000, p=[0.01, 0.99]),
            generator.choice([1, 2, 3], 3000, p=[0.1, 0.3, 0.6]),
        ]
    )
    random = np.column_stack(
        [
            generator.choice([1, 2], 3000, p=[0.002, 0.998]),
            generator.choice([1, 2, 3], 3000, p=[0.02, 0.08, 0.9]),
        ]
    )
    return np.vstack([matches, candidates]).astype(np.int8), random.astype(np.int8)
    # fmt: skip


def test_em_with_candidate_u_estimates_u_among_candidates_and_caps_the_prior():
    model = small_model()
    levels, random = simulated_levels()
    u = training.estimate_u(model, random)
    parameters, report = training.expectation_maximisation(model, levels, u=u, candidate_u=True)
    assert parameters.prior == pytest.approx(300 / 3300, abs=0.03)
    assert parameters.u["name"][1] > u["name"][1]  # look-alikes among candidates
    assert parameters.m["email"][1] == pytest.approx(0.85, abs=0.07)
    capped, report = training.expectation_maximisation(
        model, levels, u=u, candidate_u=True, max_prior=0.02
    )
    assert report.prior <= 0.02
    # The default (u held at the random-pair rates) is unchanged.
    default, _ = training.expectation_maximisation(model, levels, u=u)
    assert default.u["name"] == pytest.approx(u["name"])


@pytest.mark.parametrize(
    ("m", "u", "expected_order"),
    [
        ([0.0, 0.5, 0.3, 0.2], [0.0, 0.01, 0.09, 0.9], True),  # already monotone
        ([0.0, 0.2, 0.5, 0.3], [0.0, 0.01, 0.01, 0.98], True),  # level 2 above level 1
        ([0.0, 0.1, 0.1, 0.8], [0.0, 0.5, 0.4, 0.1], True),  # all reversed
    ],
)
def test_monotone_pools_levels_whose_weights_rise(m, u, expected_order):
    result = training._monotone(np.array(m), np.array(u))
    ratios = [result[k] / u[k] for k in range(1, len(m))]
    assert all(x >= y - 1e-9 for x, y in zip(ratios, ratios[1:], strict=False)) == expected_order
    assert result[1:].sum() == pytest.approx(sum(m[1:]))


def test_code_stems_block_a_code_with_and_without_its_suffix():
    from matching.engine.blocking import code_stems

    keys = code_stems("name", "manufacturer_part_number")

    assert keys({"name": "Canon Silver Camcorder - FS100S"}) == ["FS100"]
    assert keys({"name": "Canon FS100 Digital Camera - 2699B001"}) == ["2699B001", "FS100"]
    assert keys({"name": "SD Card", "manufacturer_part_number": "3505B001AA"}) == ["3505B001"]
    # Too short once the letters are gone, or digits only: no key.
    assert keys({"name": "Nikon D40X kit"}) == []
    assert keys({"name": "Card 123456"}) == []


def test_a_code_spelled_out_in_words_shares_a_blocking_key_with_the_code_in_one_piece():
    from golden.domains import get_domain
    from matching.engine.blocking import blocking_keys, model_codes

    keys = model_codes("name", "manufacturer_part_number", "description")
    spelled = {"name": "Ex Series Earbuds Wht - MDR EX32LP/WHI"}
    whole = {"name": "Sony EX Ear Bud Headphones In White - MDREX32LPWHI"}

    assert "MDREX32LPWHI" in keys(spelled)
    rules = get_domain("material").matching.blocking
    assert blocking_keys(rules, spelled) & blocking_keys(rules, whole) == {"code:MDREX32LPWHI"}
    # Only the title is read so: a description's neighbouring words are no code.
    assert "MDREX32LPWHI" not in keys({"name": "Earbuds", "description": "MDR EX32LP/WHI"})


def test_a_short_title_shares_a_word_key_with_a_long_title_that_names_the_vendor_first():
    from golden.domains import get_domain
    from matching.engine.blocking import blocking_keys

    rules = get_domain("material").matching.blocking
    long = {"name": "encore software 14060 - terror strike - win 2000 xp"}
    short = {"name": "terror strike"}

    # Six words per title: the vendor's words and numbers come first (digits, then
    # the longest), and the product's own words still make the cut.
    assert blocking_keys(rules, long) & blocking_keys(rules, short) == {
        "word:strike",
        "word:terror",
    }


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ({"manufacturer": "Aspyr Media, Inc.", "name": "Prey"}, {"manufacturer": "ASPYR MEDIA", "name": "Prey"}, "exact"),
        ({"manufacturer": "Strategy First", "name": "Great Invasions"}, {"name": "Strategy First Inc. Great Invasions"}, "in_title"),
        # The maker's first word names it: "Aspyr" of "Aspyr Media".
        ({"manufacturer": "Aspyr Media", "name": "Call of Duty Deluxe (Mac)"}, {"name": "Aspyr Call of Duty Deluxe"}, "in_title"),
        ({"name": "Encore Software 10565 - Hoyle Card Games 2007"}, {"manufacturer": "Encore", "name": "Hoyle Card Games 2007"}, "in_title"),
        # A maker the other title does not name, or none at all: nothing to compare.
        ({"manufacturer": "Topics Entertainment", "name": "Instant Immersion French"}, {"name": "Instant Immers French DLX"}, "null"),
        ({"name": "Great Invasions"}, {"name": "Strategy First Great Invasions"}, "null"),
        ({"manufacturer": "Adobe", "name": "Photoshop"}, {"manufacturer": "Corel", "name": "Photoshop"}, "else"),
        ({"manufacturer": "Adobe"}, {}, "null"),
    ],
)  # fmt: skip
def test_maker_levels(a, b, level):
    assert level_name(c.Maker("manufacturer", "name"), a, b) == level
    assert level_name(c.Maker("manufacturer", "name"), b, a) == level


def test_title_words_leave_out_the_words_that_name_the_other_records_maker():
    plain, branded = c.TitleWords("name"), c.TitleWords("name", brand="manufacturer")
    short = {"name": "Great Invasions", "manufacturer": "Strategy First"}
    long = {"name": "Strategy First Inc. Great Invasions"}
    assert level_name(plain, short, long) == "contained>=0.8"
    assert level_name(branded, short, long) == "dice>=0.8"
    assert level_name(branded, long, short) == "dice>=0.8"
    # Only the maker's words (and a legal form after them) are forgiven, not another
    # brand's.
    other = {"name": "Great Invasions", "manufacturer": "Encore"}
    without_legal_form = {"name": "Strategy First Great Invasions"}
    assert level_name(branded, other, long) == "dice>=0.6,contained>=0.8"
    assert level_name(plain, other, without_legal_form) == "dice>=0.6,contained>=0.8"
    # A title that is nothing but the other record's maker shares few words.
    assert level_name(branded, {"name": "Strategy First"}, short) == "else"


def test_platform_and_media_words_weigh_little_in_titles():
    comparison = c.TitleWords("name")
    level = level_name(
        comparison,
        {"name": "Hoyle Card Games 2007"},
        {"name": "Hoyle Card Games 2007 - Win 98 ME 2000 XP Jewel"},
    )
    assert level == "dice>=0.8"


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("19.99", "19.99", "exact"),
        ("19.99", "18.97", "within0.1"),
        ("39.99", "45.99", "within0.25"),
        ("29.99", "16.99", "within0.5"),
        ("29.99", "4.99", "else"),
        # An unknown price written as zero is no price.
        ("0", "25.97", "null"),
        ("0.0", "0", "null"),
        # One currency, or a currency and an amount without one.
        ("69.71 GBP", "69.71 GBP", "exact"),
        ("69.71 GBP", "72", "within0.1"),
        ("69.71 GBP", "69.71 USD", "null"),
    ],
)
def test_list_price_levels(a, b, level):
    comparison = c.Price("list_price", tolerances=(0.1, 0.25, 0.5))
    assert level_name(comparison, {"list_price": a}, {"list_price": b}) == level


def test_maker_levels_vectorised_equal_one_by_one():
    comparison = c.Maker("manufacturer", "name")
    records = [
        {"name": "Great Invasions", "manufacturer": "Strategy First"},
        {"name": "Strategy First Inc. Great Invasions"},
        {"name": "Great Invasions", "manufacturer": "Strategy First, Inc."},
        {"name": "Great Invasions", "manufacturer": "Encore"},
        {"name": "Great Invasions"},
        {},
    ]
    features = [comparison.prepare(r) for r in records]
    left = [a for a in features for _ in features]
    right = [b for _ in features for b in features]
    assert comparison.levels_of(left, right).tolist() == [
        comparison.level(a, b) for a, b in zip(left, right, strict=True)
    ]


def test_maker_in_title_and_close_prices_merge_what_the_titles_alone_leave_in_review():
    model = MATCHING.model()
    amazon = {
        "name": "Webroot Desktop Firewall",
        "manufacturer": "Webroot Software",
        "list_price": "29.99",
    }
    google = {
        "name": "Webroot Software Inc 54210 - Webroot Desktop Firewall - Firewall - PC",
        "list_price": "25.97",
    }
    titles_only = model.score(
        model.prepare({"name": amazon["name"]}), model.prepare({"name": google["name"]})
    )
    everything = model.score(model.prepare(amazon), model.prepare(google))
    assert everything.weight > titles_only.weight + 2
    levels = {item.comparison: item.level for item in everything.contributions}
    assert levels["manufacturer"] == "in_title"
    assert levels["list_price"] == "within0.25"
    # Far apart prices are evidence against.
    cheap = dict(google, list_price="4.99")
    assert model.score(model.prepare(amazon), model.prepare(cheap)).weight < everything.weight - 3
