"""The real service: `bentoml serve` in a subprocess on a free localhost port, real multipart requests."""

import io
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

from harmony.data import load_easyvqa
from harmony.serving import ABSTAIN_MESSAGE

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(env_extra: dict, log_path: Path):
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "BENTOML_DO_NOT_TRACK": "True", "OMP_NUM_THREADS": "1", **env_extra}
    process = subprocess.Popen(
        [sys.executable, "-m", "bentoml", "serve", "serve.service:Harmony", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)  # a file: a full pipe would block it
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    deadline = time.time() + 240
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("bentoml serve exited:\n" + log_path.read_text()[-5000:])
        try:
            if client.get("/readyz").status_code == 200 and client.get("/info").status_code == 200:
                return process, client
        except httpx.TransportError:
            pass
        time.sleep(1)
    process.kill()
    raise RuntimeError("bentoml serve did not become ready in time")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    process, client = _start({}, tmp_path_factory.mktemp("serve") / "bentoml.log")
    yield client
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def samples():
    return load_easyvqa("test", limit=40, seed=11)


def _png(sample) -> bytes:
    return Path(sample.image_path).read_bytes()


def _answer(client, data: bytes, question, **fields):
    form = {"question": question, **{k: str(v) for k, v in fields.items()}} if question is not None else fields
    return client.post("/answer", files={"image": ("image.png", data, "image/png")}, data=form)


def test_answers_score_and_abstain_by_threshold(service, samples):
    info = service.get("/info").json()
    assert info["model"] == "tiny-llava" and info["scorer"] == "harmony" and 0 < info["threshold"] < 1
    correct = 0
    for sample in samples[:20]:
        reply = _answer(service, _png(sample), sample.question)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert 0.0 <= body["reliability"] <= 1.0 and body["threshold"] == info["threshold"]
        assert body["abstained"] == (body["reliability"] < info["threshold"])
        if body["abstained"]:
            assert body["answer"] == ABSTAIN_MESSAGE
        else:
            correct += body["answer"] == sample.answers[0]
    assert correct >= 5


def test_score_endpoint_ranks_right_over_wrong_answers(service, samples):
    right, wrong = [], []
    for sample in samples[:12]:
        truth = sample.answers[0]
        other = {"yes": "no", "no": "yes"}.get(truth, "circle" if truth != "circle" else "triangle")
        for answer, bucket in ((truth, right), (other, wrong)):
            reply = service.post("/score", files={"image": ("i.png", _png(sample), "image/png")},
                                 data={"question": sample.question, "answer": answer})
            assert reply.status_code == 200, reply.text
            bucket.append(reply.json()["reliability"])
    assert sum(r > w for r, w in zip(right, wrong)) >= 8


def _bad_requests(sample):
    good = _png(sample)
    buffer = io.BytesIO()
    Image.new("RGB", (5000, 5000)).save(buffer, format="PNG")
    return {
        "not an image": (lambda c: _answer(c, b"hello, not an image", "what?"), "not a readable image"),
        "truncated": (lambda c: _answer(c, good[: len(good) // 2], "what?"), "image"),
        "too many pixels": (lambda c: _answer(c, buffer.getvalue(), "what?"), "pixels"),
        "empty question": (lambda c: _answer(c, good, "   "), "question is empty"),
        "long question": (lambda c: _answer(c, good, "why " * 300), "at most 1000"),
        "missing question": (lambda c: _answer(c, good, None), "question"),
        "missing image": (lambda c: c.post("/answer", data={"question": "what?"}), "image"),
        "bad token limit": (lambda c: _answer(c, good, "what?", max_new_tokens=1000), "max_new_tokens"),
        "missing answer": (lambda c: c.post("/score", files={"image": ("i.png", good, "image/png")},
                                            data={"question": "what?"}), "answer"),
    }


def test_bad_input_gets_a_clear_4xx_and_service_keeps_serving(service, samples):
    for name, (send, expected) in _bad_requests(samples[0]).items():
        reply = send(service)
        assert 400 <= reply.status_code < 500, (name, reply.status_code, reply.text)
        assert expected in reply.text, (name, reply.text)
        assert "Traceback" not in reply.text and 'File "' not in reply.text, name
    assert _answer(service, _png(samples[0]), samples[0].question).status_code == 200


def test_bounded_concurrent_load_has_no_errors(service, samples):
    def one(i):
        sample = samples[i % len(samples)]
        return _answer(service, _png(sample), sample.question).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(one, range(200)))
    assert codes.count(200) == 200, {c: codes.count(c) for c in set(codes)}
    metrics = service.get("/metrics")
    assert metrics.status_code == 200 and "bentoml" in metrics.text
