"""The search key: Simplified, lower-case, and the fast path agrees with OpenCC."""

import opencc
import pytest

from app.core.search import is_short_han, normalise_query, simplify
from app.firms.search import search_key

SAMPLES = ["臺灣積體電路製造", "崑山鼎鑫電子", "昆山鼎鑫电子科技有限公司", "沈默", "乾隆皇帝",
           "ACME Precision Ltd", "華碩電腦（昆山）有限公司", "有序", "後來", "发展和改革委员会"]


@pytest.mark.parametrize("text", SAMPLES)
def test_simplify_matches_opencc_whatever_the_fast_path_does(text):
    assert simplify(text) == opencc.OpenCC("t2s").convert(text).lower()


def test_search_key_holds_every_searchable_name_in_simplified_lower_case():
    key = search_key("崑山華碩電腦有限公司", "91320583314159268J", "ASUS Kunshan",
                     ["舊名稱有限公司", "陳建國"])
    for part in ("昆山华硕电脑", "91320583314159268j", "asus kunshan", "旧名称", "陈建国"):
        assert part in key


def test_query_is_normalised_like_the_key():
    assert normalise_query("  華碩   電腦 ") == "华硕 电脑"


def test_short_chinese_queries_are_matched_as_whole_tokens():
    key = search_key("昆山鼎鑫电子有限公司", "91320583314159268J", None, ["王伟"])
    for query in ("电", "电子", "王伟", "鼎鑫"):
        assert is_short_han(query)
        assert f" {query} " in key
    assert " 电公 " not in key  # not adjacent anywhere
    assert not is_short_han("ab") and not is_short_han("电子科")
