"""The hints that end scenario messages, as pure functions of the text: which province code a
zone means."""

from __future__ import annotations

import pytest

from greendispatch.scenario.hints import zone_hint
from greendispatch.signals.carbon import load_provincial_factors

PROVINCES = {c: (f.name, f.name_zh) for c, f in load_provincial_factors().items()}
LIST_ALL = "; the 30 codes are: CN-AH 安徽, CN-BJ 北京,"


@pytest.mark.parametrize(
    ("zone", "hint"),
    [
        # typos of a code: case, CN- or its dash left out, a letter too many, swapped or wrong
        ("cn-nm", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"),
        ("NM", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"),
        ("CNNM", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"),
        ("CN-NMG", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"),
        ("CN-MN", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"),
        ("CN-BG", "; did you mean 'CN-BJ' (北京 Beijing)?"),
        # a province by its Chinese or English name
        ("内蒙古", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"),
        ("浙江省", "; did you mean 'CN-ZJ' (浙江 Zhejiang)?"),
        ("Inner Mongolia", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"),
        # full-width letters and dash, as a Chinese input method types them
        ("ＣＮ－ＮＭ", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"),
    ],
)
def test_a_typo_or_a_province_name_gets_its_code(zone: str, hint: str) -> None:
    assert zone_hint(zone, PROVINCES) == hint


@pytest.mark.parametrize(
    ("zone", "note"),
    [
        # real codes of regions the official table leaves out: not typos of a listed province
        (
            "CN-XZ",
            "; CN-XZ is 西藏 Tibet, which has no official provincial factor "
            "(model its grid with carbon: file and a carbon_file)",
        ),
        (
            "CN-HK",
            "; CN-HK is 香港 Hong Kong, which has no official provincial factor "
            "(model its grid with carbon: file and a carbon_file)",
        ),
        (
            "西藏",
            "; CN-XZ is 西藏 Tibet, which has no official provincial factor "
            "(model its grid with carbon: file and a carbon_file)",
        ),
        # unrelated codes that share a letter or two with a province's
        ("CN-NN", ""),  # one letter from CN-NM, CN-HN, CN-SN and CN-NX: no one of them
        ("CN-QQ", ""),
        ("US", ""),  # without CN-, only an exact province code is a typo
        ("CHN", ""),
        ("XX", ""),
    ],
)
def test_an_unrelated_code_gets_the_list_not_a_guess(zone: str, note: str) -> None:
    hint = zone_hint(zone, PROVINCES)
    assert "did you mean" not in hint
    assert hint.startswith(note + LIST_ALL), hint
    assert hint.endswith("CN-XJ 新疆, CN-YN 云南, CN-ZJ 浙江")
