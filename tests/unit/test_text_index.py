"""Search in a page's words: folded for case and accents, phrases from a word's start, each hit
with its words' boxes and its context."""

from __future__ import annotations

from chalicelib.iiif.text_index import fold, page_index, search


def words(*texts: str) -> list[list[object]]:
    return [[text, 10 * index, 5, 8, 4] for index, text in enumerate(texts)]


def test_folding_drops_case_accents_and_extra_space() -> None:
    assert fold("  Café ÉTÉ\tStraße ") == "cafe ete strasse"


def test_a_phrase_is_found_from_a_word_s_start_with_each_word_s_box() -> None:
    page = page_index(words("The", "Votes", "were", "counted", "twice"))

    [hit] = list(search([page], "VOTES were"))

    assert (hit.page, hit.first, hit.match) == (1, 1, "Votes were")
    assert hit.boxes == [(10, 5, 8, 4), (20, 5, 8, 4)]
    assert (hit.before, hit.after) == ("The", "counted twice")
    assert [h.match for h in search([page], "vote")] == ["Votes"]  # a word's start
    assert list(search([page], "otes")) == []  # not inside a word


def test_every_hit_on_every_page_comes_in_page_order() -> None:
    pages = [page_index(words("a", "b", "a")), page_index([]), page_index(words("x", "a"))]

    assert [(hit.page, hit.first) for hit in search(pages, "a")] == [(1, 0), (1, 2), (3, 1)]


def test_a_query_of_nothing_but_space_or_marks_finds_nothing() -> None:
    page = page_index(words("word"))

    assert list(search([page], "   ")) == []
    assert list(search([page], "\u0301")) == []  # a lone combining accent folds to nothing


def test_words_that_fold_to_nothing_are_left_out_of_the_index() -> None:
    page = page_index(words("\u0301", "real"))

    assert page["words"] == ["real"] and page["boxes"] == [10, 5, 8, 4]
