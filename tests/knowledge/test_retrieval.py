"""Fusion and lexical terms: pure logic."""

from knowledge.lexical import has_cjk, query_terms, terms
from knowledge.retrieval import Ranking, reciprocal_rank_fusion


def test_rrf_rewards_agreement_and_respects_weights():
    fused = reciprocal_rank_fusion([Ranking([1, 2, 3], [0.9, 0.8, 0.7]), Ranking([3, 4], [5.0, 4.0])], k=60)
    assert fused[0][0] == 3  # in both lists
    assert fused[0][1] == 1 / 63 + 1 / 61
    muted = reciprocal_rank_fusion([Ranking([1, 2], [1, 1], weight=0.0), Ranking([2], [1.0])])
    assert muted[0] == (2, 1 / 61) and muted[1] == (1, 0.0)


def test_chinese_is_segmented_into_words():
    out = terms("合同终止需要提前三十天书面通知")
    assert "合同" in out and "终止" in out and "通知" in out


def test_query_terms_drop_stopwords_and_duplicates():
    assert query_terms("What is the Governing Law of the law?") == ["governing", "law"]
    assert has_cjk("abc 中文") and not has_cjk("abc")
