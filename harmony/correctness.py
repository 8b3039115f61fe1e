"""Answer normalisation and per-dataset correctness: a soft score in [0, 1] and a binary label.

The normalisation follows the official VQA evaluation script (punctuation, number
words to digits, articles, contractions).
"""

from __future__ import annotations

import re
from typing import Sequence

_CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
    "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
    "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm",
    "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
    "let's": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've",
    "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
    "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
    "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
    "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
    "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
    "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's",
    "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're",
    "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
    "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't",
    "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll",
    "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
    "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've",
    "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll",
    "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
    "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll",
    "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
    "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're",
    "youve": "you've",
}
_NUMBERS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
            "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = frozenset({"a", "an", "the"})
_PUNCT = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"]
_PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
_COMMA_STRIP = re.compile(r"(\d)(,)(\d)")

DATASET_METRICS = {"easyvqa": "exact", "vizwiz": "vqa", "aokvqa": "aokvqa", "pathvqa": "pathvqa"}


def _strip_punctuation(text: str) -> str:
    out = text
    for p in _PUNCT:
        if (p + " " in text or " " + p in text) or _COMMA_STRIP.search(text) is not None:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return _PERIOD_STRIP.sub("", out)


def normalize_answer(text: str) -> str:
    """Normalise an answer as the official VQA evaluation does.

    >>> normalize_answer("Two dogs!")
    '2 dogs'
    >>> normalize_answer("  The  Red, ball. ")
    'red ball'
    >>> normalize_answer("dont")
    "don't"
    """
    text = _strip_punctuation(text.replace("\n", " ").replace("\t", " ").strip())
    words = [_NUMBERS.get(w, w) for w in text.lower().split()]
    words = [_CONTRACTIONS.get(w, w) for w in words if w not in _ARTICLES]
    return " ".join(words)


def _matches(prediction: str, references: Sequence[str]) -> tuple[str, list[str]]:
    return normalize_answer(prediction), [normalize_answer(r) for r in references]


def vqa_accuracy(prediction: str, references: Sequence[str]) -> float:
    """VQA / VizWiz accuracy: mean over the leave-one-annotator-out subsets of min(1, matches/3).

    >>> [round(vqa_accuracy("cat", ["cat"] * m + ["dog"] * (10 - m)), 3) for m in range(5)]
    [0.0, 0.3, 0.6, 0.9, 1.0]
    """
    pred, refs = _matches(prediction, references)
    if not refs:
        raise ValueError("vqa_accuracy needs at least one reference answer")
    accs = []
    for left_out in range(len(refs)):
        others = refs[:left_out] + refs[left_out + 1:]
        accs.append(min(1.0, sum(r == pred for r in others) / 3.0))
    return sum(accs) / len(accs)


def aokvqa_accuracy(prediction: str, references: Sequence[str]) -> float:
    """A-OKVQA direct-answer accuracy: min(1, matches/3) over the direct answers.

    >>> aokvqa_accuracy("cat", ["cat", "cat", "dog"])
    0.6666666666666666
    """
    pred, refs = _matches(prediction, references)
    return min(1.0, sum(r == pred for r in refs) / 3.0)


def exact_match(prediction: str, references: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised reference.

    >>> exact_match("Circle.", ["circle"])
    1.0
    """
    pred, refs = _matches(prediction, references)
    return float(pred in refs)


def token_recall(prediction: str, reference: str) -> float:
    """Share of the reference's tokens that the prediction contains (PathVQA's extra figure).

    >>> token_recall("red blood cells", "blood cells")
    1.0
    """
    ref_tokens = normalize_answer(reference).split()
    pred_tokens = set(normalize_answer(prediction).split())
    return sum(t in pred_tokens for t in ref_tokens) / len(ref_tokens) if ref_tokens else 0.0


def pathvqa_accuracy(prediction: str, references: Sequence[str]) -> float:
    """Exact match after normalisation; closed (yes/no) questions must answer exactly yes or no.

    >>> pathvqa_accuracy("Yes.", ["yes"]), pathvqa_accuracy("yes it is", ["yes"]), pathvqa_accuracy("no", ["yes"])
    (1.0, 0.0, 0.0)
    """
    return exact_match(prediction, references)


_METRIC_FUNCTIONS = {"exact": exact_match, "vqa": vqa_accuracy, "aokvqa": aokvqa_accuracy,
                     "pathvqa": pathvqa_accuracy}


def soft_score(dataset: str, prediction: str, references: Sequence[str]) -> float:
    """The dataset's own accuracy of ``prediction`` in [0, 1]; NaN when there are no references."""
    if dataset not in DATASET_METRICS:
        raise ValueError(f"no correctness rule for dataset {dataset!r}; known: {sorted(DATASET_METRICS)}")
    if not references:
        return float("nan")
    return _METRIC_FUNCTIONS[DATASET_METRICS[dataset]](prediction, references)


def label(score: float, threshold: float = 0.5) -> int:
    """Binary correctness: 1 when ``score >= threshold``.

    >>> label(0.6), label(0.3), label(0.3, threshold=0.3)
    (1, 0, 1)
    """
    return int(score >= threshold)
