"""Model loading, quantization, offline fallback and batched decoding steps: the only torch/transformers module."""

from __future__ import annotations

import importlib
import logging
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, DynamicCache
from transformers.cache_utils import DynamicLayer

from assistant.config import AssistantSettings, Quantization
from assistant.graphs import GraphDecoder, StaticSlots
from assistant.info import ModelInfo
from assistant.offline import OFFLINE_MODELS, OfflineModelMissing, OfflineModelSpec, assemble_gguf
from assistant.reasoning import reasoning_skip
from knowledge.threads import run_in_own_thread, torch_thread_count, use_torch_threads

logger = logging.getLogger(__name__)

QuantChoice = Literal["nf4", "int8", "int8-dynamic", "none"]
# End-of-turn tokens of the chat formats we meet; generation stops on any of them that the vocabulary has.
_END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|EOT|>", "<｜end▁of▁sentence｜>", "<|endoftext|>", "<end_of_turn>")


class _Enough(Exception):
    """Stops a forward pass once the hidden states asked for are taken (`LoadedModel.hidden_states`)."""


class ModelUnavailable(RuntimeError):
    """Neither the configured model nor an offline fallback could be loaded (the message says why)."""


# ---------------------------------------------------------------- device and quantization


def resolve_device(setting: str) -> str:
    """Turn `auto` into `cuda` when a GPU is visible, else `cpu`; other values pass through."""
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return setting


def bitsandbytes_problem(device: str) -> str | None:
    """Return why bitsandbytes cannot quantize on `device`, or None when it can."""
    try:
        bnb = importlib.import_module("bitsandbytes")
    except Exception as error:  # ImportError, or a CUDA build that fails to load its library
        return f"bitsandbytes is unusable ({error}); install it with `pip install bitsandbytes`"
    if device.startswith("cuda") and not torch.cuda.is_available():
        return "no CUDA device is visible to torch; install a CUDA build of torch"
    logger.debug("bitsandbytes version=%s", getattr(bnb, "__version__", "?"))
    return None


def needs_bitsandbytes(requested: Quantization, device: str) -> bool:
    """Whether the requested quantization would use bitsandbytes on `device` (so it is worth importing)."""
    return requested == "nf4" or (requested in ("auto", "int8") and device.startswith("cuda"))


def cpu_int8_problem() -> str | None:
    """Why torch's int8 CPU kernels (dynamic quantization) cannot be used here, or None when they can."""
    engines = torch.backends.quantized.supported_engines
    if not any(engine in engines for engine in ("x86", "fbgemm", "qnnpack")):
        return f"this torch build has no int8 CPU kernels (quantized engines: {engines})"
    if not hasattr(torch.ao.quantization, "quantize_dynamic"):
        return "this torch version has no torch.ao.quantization.quantize_dynamic"
    return None


def choose_quantization(requested: Quantization, device: str, bnb_problem: str | None,
                        cpu_problem: str | None = None) -> tuple[QuantChoice, str | None]:
    """Pick the quantization actually used, and a notice when the request cannot be honoured.

    `auto` means NF4 on CUDA (4x smaller weights, decode is memory-bound) and none (fp32) on CPU. `int8` on
    CPU means torch's dynamic quantization (2.4x faster decode steps, clearly worse answers: see
    `quantize_int8_dynamic`), not bitsandbytes, whose CPU kernels are slower than fp32; `nf4` on CPU stays
    bitsandbytes.

    Args:
        requested: the configured value.
        device: resolved torch device.
        bnb_problem: result of `bitsandbytes_problem(device)`.
        cpu_problem: result of `cpu_int8_problem()` (CPU only).

    Returns:
        (choice, notice or None).
    """
    on_gpu = device.startswith("cuda")
    match requested:
        case "none":
            return "none", None
        case "auto" if not on_gpu:
            return "none", None
        case "int8" if not on_gpu:
            if cpu_problem is None:
                return "int8-dynamic", None
            return "none", f"int8 quantization unavailable: {cpu_problem}; loading unquantized instead."
        case "auto" | "nf4" | "int8":
            wanted: QuantChoice = "nf4" if requested == "auto" else requested
            if bnb_problem is None:
                return wanted, None
            return "none", f"{wanted} quantization unavailable: {bnb_problem}; loading unquantized instead."
    raise ValueError(f"unknown quantization {requested!r}")


def build_quantization_config(choice: QuantChoice) -> BitsAndBytesConfig | None:
    """The bitsandbytes config for a quantization choice (None for unquantized)."""
    match choice:
        case "nf4":
            return BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_compute_dtype=torch.bfloat16,
                bnb_4bit_use_double_quant=True,
            )
        case "int8":
            return BitsAndBytesConfig(load_in_8bit=True)
        case "none" | "int8-dynamic":  # int8-dynamic quantizes after loading (quantize_int8_dynamic)
            return None
    raise ValueError(f"unknown quantization {choice!r}")


def compute_dtype(device: str, choice: QuantChoice, cpu_dtype: str) -> torch.dtype:
    """bf16 on GPUs that support it (fp16 on older ones), the configured dtype on CPU."""
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if choice == "nf4":
        return torch.bfloat16
    return torch.float32 if choice == "int8-dynamic" else getattr(torch, cpu_dtype)


# ---------------------------------------------------------------- sources and GGUF conversion


def converted_dir(gguf_path: Path, cache_dir: Path) -> Path:
    """Cache directory of a GGUF file's transformers conversion (keyed by name and size)."""
    return cache_dir / "converted" / f"{gguf_path.stem}-{gguf_path.stat().st_size}"


def convert_gguf(gguf_path: Path, cache_dir: Path) -> Path:
    """De-quantize a GGUF file into a transformers checkpoint once; later calls return the cached copy.

    Args:
        gguf_path: the .gguf file.
        cache_dir: root of the cache.

    Returns:
        Directory loadable with `from_pretrained`.
    """
    target = converted_dir(gguf_path, cache_dir)
    if (target / "config.json").is_file():
        return target
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    model.hf_quantizer = None  # transformers 5 refuses to save a GGUF-loaded model otherwise
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    partial.replace(target)
    logger.info("converted gguf path=%s to=%s seconds=%.1f", gguf_path, target, time.perf_counter() - started)
    return target


def offline_model_dir(spec: OfflineModelSpec, cache_dir: Path) -> Path:
    """The converted checkpoint of a packaged offline model, assembling and converting it on first use."""
    for candidate in (cache_dir / "converted").glob(f"{Path(spec.gguf_name).stem}-*"):
        if (candidate / "config.json").is_file():
            return candidate
    gguf = assemble_gguf(spec, cache_dir)
    target = convert_gguf(gguf, cache_dir)
    if gguf.is_relative_to(cache_dir):
        gguf.unlink()  # the converted copy is all that is needed from now on
    return target


def local_source(name: str, cache_dir: Path) -> str:
    """Map a configured model to something `from_pretrained` takes: GGUF files are converted first."""
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise OSError(f"GGUF file {path} does not exist")
        return str(convert_gguf(path, cache_dir))
    return str(path) if path.exists() else name


# ---------------------------------------------------------------- loading


def load_model(name: str, settings: AssistantSettings, loaded: dict[str, LoadedModel] | None = None) -> LoadedModel:
    """Load a chat model, falling back to the packaged offline model when its weights are unreachable.

    Args:
        name: Hub id, local directory or .gguf file.
        settings: runtime settings (device, quantization, cache, fallback).
        loaded: models already loaded in this process, by source; filled in, so one model loads once.

    Returns:
        The resident model with its tokenizer and ModelInfo.

    Raises:
        ModelUnavailable: neither the model nor the fallback could be loaded.
    """
    loaded = {} if loaded is None else loaded
    try:
        source = local_source(name, settings.cache_dir)
        if source not in loaded:
            loaded[source] = load_pretrained(source, settings, display_name=name)
        return loaded[source]
    except (OSError, ValueError) as error:  # HF_HUB_OFFLINE=1 without a cache raises OSError at once
        reason = f"Model {name} is unavailable ({_first_line(error)})."
        if settings.offline_model == "none":
            raise ModelUnavailable(reason) from error
        logger.warning("model unavailable name=%s error=%s; using offline fallback=%s", name, error,
                       settings.offline_model)
        key = f"offline:{settings.offline_model}"
        if key not in loaded:
            loaded[key] = load_offline_fallback(settings, reason, fallback_for=name)
        return loaded[key]


def load_offline_fallback(settings: AssistantSettings, reason: str, fallback_for: str | None = None) -> LoadedModel:
    """Load the small PyPI-packaged model chosen by `settings.offline_model`, labelled as a fallback (for the
    configured model `fallback_for`, which the UI names)."""
    spec = OFFLINE_MODELS[settings.offline_model]
    try:
        directory = offline_model_dir(spec, settings.cache_dir)
    except OfflineModelMissing as error:
        raise ModelUnavailable(f"{reason} {error}") from error
    notice = f"{reason} Using the small offline fallback {spec.label} instead: answers will be weaker."
    loaded = load_pretrained(str(directory), settings, display_name=spec.label, fallback_notice=notice)
    loaded.info = replace(loaded.info, fallback_for=fallback_for)
    return loaded


def load_pretrained(source: str, settings: AssistantSettings, display_name: str,
                    fallback_notice: str | None = None) -> LoadedModel:
    """Load tokenizer and weights from a Hub id or directory with the configured device and quantization.

    Loads on a short-lived thread: loading (and int8 quantization) runs torch kernels, and a long-lived
    caller such as the main thread would keep an OpenMP pool that slows the engine's decoding on CPU.

    Args:
        source: what `from_pretrained` gets.
        settings: runtime settings.
        display_name: name shown in the UI and logs.
        fallback_notice: set when this is the offline fallback; shown to the user.

    Returns:
        The loaded model.
    """
    return run_in_own_thread(lambda: _load_pretrained(source, settings, display_name, fallback_notice),
                             name="model-load", torch_threads=torch_thread_count())


def _load_pretrained(source: str, settings: AssistantSettings, display_name: str,
                     fallback_notice: str | None) -> LoadedModel:
    device = resolve_device(settings.device)
    bnb_problem = bitsandbytes_problem(device) if needs_bitsandbytes(settings.quantization, device) else None
    cpu_problem = cpu_int8_problem() if settings.quantization == "int8" and not device.startswith("cuda") else None
    choice, quant_notice = choose_quantization(settings.quantization, device, bnb_problem, cpu_problem)
    if quant_notice:
        logger.warning("%s", quant_notice)
    dtype = compute_dtype(device, choice, settings.cpu_dtype)
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, **_weights_kwargs(device, choice, dtype))
    if choice in ("none", "int8-dynamic") and not device.startswith("cuda"):
        model.to(device)
    model.eval()
    if choice == "int8-dynamic":
        try:
            model = quantize_int8_dynamic(model)
        except (RuntimeError, AttributeError, NotImplementedError) as error:  # kernels missing in this torch build
            choice, quant_notice = "none", f"int8 quantization failed ({_first_line(error)}); running unquantized."
            logger.warning("%s", quant_notice)
    label = display_name.rstrip("/").split("/")[-1] + (" (offline fallback)" if fallback_notice else "")
    info = ModelInfo(name=display_name, label=label, device=device, quantization=choice, dtype=str(dtype)
                     .removeprefix("torch."), footprint_bytes=memory_footprint(model),
                     offline_fallback=fallback_notice is not None,
                     notice=" ".join(n for n in (fallback_notice, quant_notice) if n) or None)
    logger.info("model loaded name=%s device=%s quantization=%s dtype=%s footprint_mb=%.0f seconds=%.1f",
                display_name, device, choice, info.dtype, info.footprint_bytes / 2**20, time.perf_counter() - started)
    loaded = LoadedModel(model, tokenizer, info, settings.max_context_tokens)
    if device.startswith("cuda") and settings.cuda_graphs:
        loaded.graphs = GraphDecoder(model, settings.max_batch_size, loaded.context_length)
    return loaded


def quantize_int8_dynamic(model: Any) -> Any:
    """Int8 weights for every Linear layer, activations quantized per call (torch's fbgemm/x86 kernels).

    Opt-in on CPU (`int8`): 2.4x faster decode steps than fp32 here, but per-tensor activation scales cost the
    Qwen2.5 offline model dearly (HumanEval pass@1 0.85 -> 0.35; keeping lm_head in fp32 did not help).
    """
    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
        warnings.simplefilter("ignore")
        # In place: a copy would hold the fp32 weights twice at the peak.
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def memory_footprint(model: Any) -> int:
    """Bytes of parameters and buffers, counting dynamically quantized layers' packed int8 weights too."""
    total = int(model.get_memory_footprint())
    for module in model.modules():
        if isinstance(module, torch.ao.nn.quantized.dynamic.Linear):
            weight, bias = module._weight_bias()
            total += weight.numel() * weight.element_size() + (bias.numel() * bias.element_size() if bias is not None
                                                                else 0)
    return total


def _weights_kwargs(device: str, choice: QuantChoice, dtype: torch.dtype) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dtype": dtype}
    quantization_config = build_quantization_config(choice)
    if quantization_config is not None:
        kwargs["quantization_config"] = quantization_config
    if device.startswith("cuda"):
        kwargs["device_map"] = {"": device}  # whole model resident on one GPU
    elif quantization_config is not None:
        kwargs["device_map"] = {"": "cpu"}
    return kwargs


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


# ---------------------------------------------------------------- the resident model


@dataclass
class Batch:
    """Decoding state of the requests sharing forward passes (rows), left-padded.

    Attributes:
        cache: the KV cache, one row per request.
        attention_mask: [rows, columns], 0 on padding.
        positions: [rows] position id of each row's next token.
        last_tokens: [rows] most recently sampled token, not yet fed to the model.
        temperature: [rows] 0 = greedy.
        top_p: [rows].
    """

    cache: Any
    attention_mask: torch.Tensor
    positions: torch.Tensor
    last_tokens: torch.Tensor
    temperature: torch.Tensor
    top_p: torch.Tensor

    @property
    def size(self) -> int:
        """Number of rows."""
        return int(self.last_tokens.shape[0])


class LoadedModel:
    """A resident model + tokenizer with the chat-template and batched-decoding primitives the engine needs.

    Args:
        model: the causal LM, on its device.
        tokenizer: its tokenizer.
        info: ModelInfo for the UI.
        max_context_tokens: configured context cap (the model's own limit applies if lower).
    """

    def __init__(self, model: Any, tokenizer: Any, info: ModelInfo, max_context_tokens: int) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        model_limit = getattr(model.config, "max_position_embeddings", None) or max_context_tokens
        self.context_length = min(max_context_tokens, int(model_limit))
        self.eos_ids = self._stop_ids()
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.eos_ids, default=0)
        self.device = model.device
        self.can_merge = True
        # R1-style templates strip `</think>` blocks from history: such models want no system turn.
        self.is_reasoning_model = "</think>" in str(getattr(tokenizer, "chat_template", None) or "")
        self.graphs: GraphDecoder | None = None  # set on CUDA: decode steps replayed from CUDA graphs
        self.torch_threads = torch_thread_count()  # the loading thread's: the process default at start-up

    def bind_thread(self) -> None:
        """Give the calling thread (the engine's scheduler) the full torch thread count.

        A new thread starts with whatever count the last `torch.set_num_threads` left in the process; a
        query embedding lowers it to 1 for a few milliseconds, and a scheduler thread started then would
        decode on one core for its whole life.
        """
        use_torch_threads(self.torch_threads)

    def _stop_ids(self) -> set[int]:
        ids: set[int] = set()
        for source in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            ids.update(source if isinstance(source, list) else [source] if source is not None else [])
        vocab = self.tokenizer.get_vocab()
        ids.update(vocab[token] for token in _END_OF_TURN if token in vocab)
        return ids

    # -- text

    def render_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        """Apply the tokenizer's chat template with the generation prompt opened."""
        return self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)

    def encode(self, text: str) -> list[int]:
        """Token ids of an already templated text (the template supplies the special tokens)."""
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids, special tokens (BOS/EOS/turn markers) removed."""
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    @torch.inference_mode()
    def choice_probabilities(self, messages: Sequence[dict[str, str]], choices: Sequence[str]) -> dict[str, float]:
        """Probability of each one-word reply as the answer's first token (case and a leading space folded in)."""
        prompt = self.render_prompt(messages)  # the reply's first token: after R1's reasoning, closed empty
        ids = torch.tensor([self.encode(prompt + reasoning_skip(prompt, self.is_reasoning_model))], device=self.device)
        probs = self.model(input_ids=ids, logits_to_keep=1).logits[0, -1].float().softmax(-1)
        out = {}
        for choice in choices:
            variants = {choice, choice.lower(), choice.capitalize(), " " + choice.lower(), " " + choice.capitalize()}
            first = {self.encode(v)[0] for v in variants}
            out[choice] = float(probs[sorted(first)].sum())
        return out

    @property
    def layer_count(self) -> int:
        return len(self._decoder_layers())

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @torch.inference_mode()
    def hidden_states(self, prompt: Sequence[int], layers: Sequence[int]) -> dict[int, torch.Tensor]:
        """The prompt's last-token hidden state after each of `layers` (1 = first decoder layer), as float32 on CPU.

        Runs the decoder only up to the deepest layer asked for. Safe beside the engine's own forward
        passes on another thread: the hooks act on this thread's pass only.
        """
        decoder, caller, wanted = self._decoder_layers(), threading.get_ident(), sorted(set(layers))
        if not wanted or wanted[0] < 1 or wanted[-1] > len(decoder):
            raise ValueError(f"layers must lie in 1..{len(decoder)}: {layers}")
        found: dict[int, torch.Tensor] = {}

        def keep(number: int):
            def hook(_module, _args, output):
                if threading.get_ident() != caller:
                    return
                hidden = output[0] if isinstance(output, tuple) else output
                found[number] = hidden[0, -1].detach().float().cpu()
                if number == wanted[-1]:
                    raise _Enough

            return hook

        handles = [decoder[n - 1].register_forward_hook(keep(n)) for n in wanted]
        try:
            self.model(input_ids=torch.tensor([list(prompt)], device=self.device), use_cache=False)
        except _Enough:
            pass
        finally:
            for handle in handles:
                handle.remove()
        return found

    def _decoder_layers(self) -> Any:
        return self.model.get_decoder().layers

    # -- batched decoding

    @torch.inference_mode()
    def prefill(self, prompts: Sequence[Sequence[int]], temperature: Sequence[float],
                top_p: Sequence[float]) -> tuple[Batch, list[int]]:
        """Run the prompts as one left-padded batch; return its state and each row's first token."""
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
            mask[row, width - len(prompt):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.model.config)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                         use_cache=True, logits_to_keep=1)
        batch = Batch(out.past_key_values, mask, mask.sum(-1), ids[:, -1],
                      torch.tensor(temperature, device=self.device, dtype=torch.float32),
                      torch.tensor(top_p, device=self.device, dtype=torch.float32))
        batch.last_tokens = self._sample(out.logits[:, -1, :], batch)
        return batch, batch.last_tokens.tolist()

    @torch.inference_mode()
    def decode_step(self, batch: Batch) -> list[int]:
        """Feed every row's last token, sample the next one; one forward pass for the whole batch."""
        ones = torch.ones((batch.size, 1), dtype=batch.attention_mask.dtype, device=self.device)
        extended = torch.cat([batch.attention_mask, ones], dim=-1)  # the new token's column included
        logits = self._graph_logits(batch)  # loads the slots from the mask before the new column
        if logits is None:
            self._to_dynamic(batch)
            out = self.model(input_ids=batch.last_tokens[:, None], attention_mask=extended,
                             position_ids=batch.positions[:, None], past_key_values=batch.cache, use_cache=True)
            batch.cache, logits = out.past_key_values, out.logits[:, -1, :]
        batch.attention_mask = extended
        batch.positions = batch.positions + 1
        batch.last_tokens = self._sample(logits, batch)
        return batch.last_tokens.tolist()

    def _graph_logits(self, batch: Batch) -> torch.Tensor | None:
        """The step on the static graph slots, or None when there are none or the batch does not fit them."""
        graphs = self.graphs
        if graphs is None or not graphs.fits(batch.size, batch.attention_mask.shape[1]):
            return None
        if not isinstance(batch.cache, StaticSlots):
            try:
                batch.cache = graphs.load(batch.cache, batch.attention_mask)
            except torch.OutOfMemoryError:
                logger.warning("no GPU memory for static KV slots (%d rows); decoding eagerly from now on", batch.size)
                self.graphs = None
                return None
        return graphs.step(batch.last_tokens, batch.positions)

    def _to_dynamic(self, batch: Batch) -> None:
        """Move a batch decoding on the static graph slots back to a dynamic cache (before its rows change)."""
        if isinstance(batch.cache, StaticSlots):
            batch.cache = self.graphs.unload(batch.size)

    def _sample(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        logits = logits.float()
        greedy = logits.argmax(-1)
        if bool((batch.temperature <= 0).all()):
            return greedy
        scaled = logits / batch.temperature.clamp(min=1e-5)[:, None]
        probs, order = scaled.softmax(-1).sort(-1, descending=True)
        outside = probs.cumsum(-1) - probs > batch.top_p[:, None]  # keep the smallest set reaching top_p
        probs = probs.masked_fill(outside, 0.0)
        sampled = order.gather(-1, torch.multinomial(probs, 1)).squeeze(-1)
        return torch.where(batch.temperature <= 0, greedy, sampled)

    def select(self, batch: Batch, rows: Sequence[int]) -> Batch:
        """Keep only `rows` (finished or cancelled requests leave), dropping columns that are padding for all."""
        self._to_dynamic(batch)
        index = torch.tensor(list(rows), dtype=torch.long, device=self.device)
        batch.cache.batch_select_indices(index)
        mask = batch.attention_mask[index]
        start = int((mask.sum(0) > 0).nonzero()[0]) if mask.numel() else 0
        if start and self._plain_cache(batch.cache):
            for layer in batch.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, start:], layer.values[:, :, start:]
            mask = mask[:, start:]
        return Batch(batch.cache, mask, batch.positions[index], batch.last_tokens[index],
                     batch.temperature[index], batch.top_p[index])

    def merge(self, running: Batch, joining: Batch) -> Batch | None:
        """Append freshly prefilled rows to a running batch (continuous batching); None if the cache type can't."""
        self._to_dynamic(running)
        if not (self._plain_cache(running.cache) and self._plain_cache(joining.cache)):
            return None
        width = max(running.attention_mask.shape[1], joining.attention_mask.shape[1])
        layers = [
            tuple(torch.cat([_left_pad(a, width, dim=2), _left_pad(b, width, dim=2)], dim=0)
                  for a, b in ((la.keys, lb.keys), (la.values, lb.values)))
            for la, lb in zip(running.cache.layers, joining.cache.layers, strict=True)
        ]
        mask = torch.cat([_left_pad(running.attention_mask, width, 1), _left_pad(joining.attention_mask, width, 1)])
        return Batch(DynamicCache(ddp_cache_data=layers), mask,
                     *(torch.cat([getattr(running, f), getattr(joining, f)])
                       for f in ("positions", "last_tokens", "temperature", "top_p")))

    @staticmethod
    def _plain_cache(cache: Any) -> bool:
        layers = getattr(cache, "layers", None)
        return bool(layers) and all(type(layer) is DynamicLayer and layer.keys is not None for layer in layers)

    def release(self) -> None:
        """Give cached GPU memory back after the last batch ends."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def _left_pad(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - tensor.shape[dim]
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([torch.zeros(shape, dtype=tensor.dtype, device=tensor.device), tensor], dim=dim)

