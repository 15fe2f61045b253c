"""Index terms: Chinese words across a PDF's line wraps."""

from __future__ import annotations


def test_a_line_wrapped_inside_a_chinese_word_is_one_word():
    """A walkthrough's PDF wrapped "分机" over two lines: "分\n机" was indexed as 分 and 机, and shown as "分 机"."""
    from knowledge.lexical import terms

    assert "分机" in terms("请拨打分\n机 8404") and "分机" not in terms("请拨打分 机")  # a space stays a boundary
    assert terms("line\nbreak") == ["line", "break"]
