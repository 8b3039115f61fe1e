"""The harmony BentoML service: answer a visual question, score the answer, abstain when unreliable.

    bentoml serve serve.service:Harmony          # from the repository root

Configuration (environment): HARMONY_MODEL (default tiny-llava), HARMONY_SCORER_DIR
(default: the packaged HARMONY scorer of an embedded model), HARMONY_DEVICE,
HARMONY_THRESHOLD (overrides the calibrated one), HARMONY_MAX_PIXELS,
HARMONY_BATCHING=0 to turn adaptive batching off.
"""

from __future__ import annotations

from pathlib import Path

import bentoml
from bentoml.exceptions import InvalidArgument
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from harmony.serving import BadInput, ServiceConfig, check_text, decode_image, to_png

CONFIG = ServiceConfig.from_env()
INFO = CONFIG.describe()
BATCH = {"batchable": True, "max_batch_size": 16, "max_latency_ms": 2000} if CONFIG.batching else {}


class Query(BaseModel):
    """One decoded, checked request as the engine receives it (image as PNG bytes)."""

    image_png: bytes
    question: str
    max_new_tokens: int = 10
    answer: str | None = None
    score: bool = True


async def _call_engine(method, queries: list[Query]):
    """Call the engine, retrying once on a dropped pooled connection.

    BentoML's internal client keeps idle connections longer (15 s) than the engine's
    server does (5 s); a request can land on a connection the engine just closed
    (bentoml/BentoML#4971). Answering and scoring are idempotent, so one retry is safe.
    """
    import aiohttp

    try:
        return await method(queries)
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientConnectionError):
        return await method(queries)


def _images(queries: list[Query]):
    return [decode_image(q.image_png, CONFIG.max_pixels) for q in queries]


@bentoml.service(traffic={"timeout": 300})
class Engine:
    """Holds the VLM adapter and the scorer; concurrent requests share one generate call."""

    def __init__(self) -> None:
        from harmony.serving import Engine as Core

        self.core = Core(CONFIG)

    @bentoml.api(**BATCH)
    def answer_batch(self, queries: list[Query]) -> list[dict]:
        return self.core.answer(_images(queries), [q.question for q in queries],
                                [q.max_new_tokens for q in queries], with_score=all(q.score for q in queries))

    @bentoml.api(**BATCH)
    def score_batch(self, queries: list[Query]) -> list[float]:
        return self.core.score(_images(queries), [q.question for q in queries], [q.answer for q in queries])


def _info(request):
    return JSONResponse(INFO)


info_app = Starlette(routes=[Route("/info", _info, methods=["GET"])])


@bentoml.service(traffic={"timeout": 300})
@bentoml.asgi_app(info_app, path="/")
class Harmony:
    """Public endpoints: POST /answer, POST /score, GET /info (plus BentoML's /healthz, /readyz, /metrics).

    The endpoints only check and decode input (cheap) and await the engine, which
    runs the blocking model calls in its own worker with adaptive batching.
    """

    engine = bentoml.depends(Engine)

    @staticmethod
    def _read(image: Path, question: str) -> tuple[bytes, str]:
        try:
            question = check_text(question, "question")
            data = Path(image).read_bytes()
            return to_png(decode_image(data, CONFIG.max_pixels)), question
        except BadInput as exc:
            raise InvalidArgument(str(exc)) from None

    @bentoml.api(route="/answer")
    async def answer(self, image: Path, question: str, max_new_tokens: int = 10, score: bool = True) -> dict:
        """Answer, reliability in [0, 1] (higher = more reliable), and whether the service abstained."""
        if not 1 <= max_new_tokens <= 64:
            raise InvalidArgument(f"max_new_tokens must be between 1 and 64, got {max_new_tokens}")
        png, question = self._read(image, question)
        query = Query(image_png=png, question=question, max_new_tokens=max_new_tokens, score=score)
        return (await _call_engine(self.engine.to_async.answer_batch, [query]))[0]

    @bentoml.api(route="/score")
    async def score(self, image: Path, question: str, answer: str = "") -> dict:
        """Reliability of an answer that came from elsewhere (one teacher-forced forward pass)."""
        png, question = self._read(image, question)
        try:
            answer = check_text(answer, "answer")
        except BadInput as exc:
            raise InvalidArgument(str(exc)) from None
        queries = [Query(image_png=png, question=question, answer=answer)]
        reliability = (await _call_engine(self.engine.to_async.score_batch, queries))[0]
        return {"reliability": reliability, "threshold": INFO["threshold"],
                "abstain": not reliability >= INFO["threshold"]}
