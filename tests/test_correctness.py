import pytest

from harmony.correctness import aokvqa_accuracy, label, normalize_answer, pathvqa_accuracy, soft_score, token_recall, vqa_accuracy


@pytest.mark.parametrize("matches,expected", [(0, 0.0), (1, 0.3), (2, 0.6), (3, 0.9), (4, 1.0), (10, 1.0)])
def test_vqa_accuracy_closed_form(matches, expected):
    refs = ["two"] * matches + ["three"] * (10 - matches)
    assert vqa_accuracy("2", refs) == pytest.approx(expected)


def test_normalisation_cases():
    assert normalize_answer("An apple") == "apple"
    assert normalize_answer("isnt") == "isn't"
    assert normalize_answer("yes.") == "yes"
    assert normalize_answer("3.5") == "3.5"
    assert normalize_answer("black-and-white") == "black and white"


def test_aokvqa_and_pathvqa():
    assert aokvqa_accuracy("Dog", ["dog", "dog", "cat"] + ["bird"] * 7) == pytest.approx(2 / 3)
    assert aokvqa_accuracy("dog", ["dog"] * 4) == 1.0
    assert pathvqa_accuracy("No", ["no"]) == 1.0
    assert pathvqa_accuracy("the tumour", ["tumour"]) == 1.0
    assert token_recall("cells", "red cells") == 0.5


def test_soft_score_and_label():
    assert soft_score("easyvqa", "Circle", ["circle"]) == 1.0
    assert soft_score("vizwiz", "red", ["red"] * 2 + ["x"] * 8) == pytest.approx(0.6)
    assert label(0.6) == 1 and label(0.3) == 0
    with pytest.raises(ValueError, match="no correctness rule"):
        soft_score("mnist", "a", ["a"])
