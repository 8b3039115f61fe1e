"""One small adapter class per model family."""

from __future__ import annotations

from transformers import ProcessorMixin, Qwen2VLProcessor

from harmony.vlm.base import VLMAdapter

SHORT_ANSWER = "Answer the question using a single word or phrase."


class LlavaAdapter(VLMAdapter):
    """LLaVA-1.5 (``llava-hf/llava-1.5-*-hf``) and the embedded ``tiny-llava``."""

    family = "llava"
    model_types = ("llava",)
    prompt_template = "USER: <image>\n{question}\n" + SHORT_ANSWER + " ASSISTANT:"


class InstructBlipAdapter(VLMAdapter):
    """InstructBLIP (``Salesforce/instructblip-*``) and the embedded ``tiny-instructblip``.

    The processor puts the query-token placeholders in front of the prompt itself.
    The Q-Former reads the prompt alone (never a teacher-forced answer), right-padded
    since its position embeddings are absolute.
    """

    family = "instructblip"
    model_types = ("instructblip",)
    prompt_template = "Question: {question} Short answer:"

    def _process(self, images, prompts, texts):
        inputs = super()._process(images, prompts, texts)
        qformer = self.processor.qformer_tokenizer(prompts, padding=True, padding_side="right", return_tensors="pt")
        inputs["qformer_input_ids"], inputs["qformer_attention_mask"] = qformer["input_ids"], qformer["attention_mask"]
        return inputs


class Qwen2VLImageProcessor(Qwen2VLProcessor):
    """``Qwen2VLProcessor`` without its video half, which transformers 5 builds only with torchvision.

    Images and text go through exactly the parent's code (image-token expansion by
    ``image_grid_thw``); only the video processor is absent.
    """

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    @classmethod
    def from_parts(cls, source: str) -> "Qwen2VLImageProcessor":
        from transformers import AutoImageProcessor, AutoTokenizer

        return cls(AutoImageProcessor.from_pretrained(source), AutoTokenizer.from_pretrained(source))


class Qwen2VLAdapter(VLMAdapter):
    """Qwen2-VL (``Qwen/Qwen2-VL-*-Instruct``), chat format written out as its template renders it."""

    family = "qwen2_vl"
    model_types = ("qwen2_vl",)
    processor_fallback = Qwen2VLImageProcessor.from_parts
    positions_from_mask = False
    prompt_template = ("<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>{question}\n"
                       + SHORT_ANSWER + "<|im_end|>\n<|im_start|>assistant\n")


ADAPTERS: dict[str, type[VLMAdapter]] = {
    model_type: adapter for adapter in (LlavaAdapter, InstructBlipAdapter, Qwen2VLAdapter)
    for model_type in adapter.model_types
}
