"""Generation benchmark: TTFT and tokens/s at 1, 4 and 16 concurrent requests; `--gpu` for DeepSeek shapes.

    python -m bench.generation                      # CPU, the packaged offline model (Qwen2.5-Coder-0.5B)
    python -m bench.generation --offline-model smollm2-135m --tokens 32
    python -m bench.generation --gpu                # random DeepSeek weights (R1-Distill 1.5B/7B, coder 1.3B), nf4/bf16
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import platform
import resource
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROMPTS = [
    "Explain how a hash map works, step by step.",
    "Write a Python function that merges two sorted lists, and explain it.",
    "Describe the water cycle in detail.",
    "What are the main differences between TCP and UDP? Explain thoroughly.",
    "Summarise the causes of the French Revolution.",
    "Explain recursion to a beginner with an example.",
    "How does public-key cryptography work?",
    "Write a short essay about the history of the printing press.",
]

# DeepSeek configs as published with the checkpoints: the R1 distills (Qwen2) and deepseek-coder (Llama).
DEEPSEEK_CONFIGS = {
    "DeepSeek-R1-Distill-Qwen-1.5B": ("qwen2", dict(
        hidden_size=1536, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
        intermediate_size=8960, vocab_size=151936, tie_word_embeddings=False, max_position_embeddings=131072,
        rope_theta=10000.0, rms_norm_eps=1e-6, bos_token_id=151646, eos_token_id=151643)),
    "DeepSeek-R1-Distill-Qwen-7B": ("qwen2", dict(
        hidden_size=3584, num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
        intermediate_size=18944, vocab_size=152064, tie_word_embeddings=False, max_position_embeddings=131072,
        rope_theta=10000.0, rms_norm_eps=1e-6, bos_token_id=151646, eos_token_id=151643)),
    "deepseek-coder-1.3b-instruct": ("llama", dict(
        hidden_size=2048, num_hidden_layers=24, num_attention_heads=16, num_key_value_heads=16,
        intermediate_size=5504, vocab_size=32256, tie_word_embeddings=False, max_position_embeddings=16384,
        rope_theta=100000.0, rope_scaling={"type": "linear", "factor": 4.0}, rms_norm_eps=1e-6,
        bos_token_id=32013, eos_token_id=32021)),
}


@dataclass
class Row:
    """One line of the results table."""

    concurrency: int
    ttft_p50_s: float
    aggregate_tps: float
    per_stream_tps: float
    memory: str
    ratio: float = 1.0
    mode: str = "engine"


def rss_gib() -> float:
    """Resident memory of this process now (Linux)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**30


# ---------------------------------------------------------------- CPU: the real engine, concurrent streams


def run_streams(engine, concurrency: int, tokens: int) -> Row:
    """Start `concurrency` streams at once; measure TTFT and throughput from the outside, like a user would."""
    from assistant.events import Done, GenerationParams, ReasoningDelta, TextDelta

    results: list[tuple[float, float, float, int]] = []
    barrier = threading.Barrier(concurrency)

    def worker(index: int) -> None:
        barrier.wait()
        start = time.perf_counter()
        first, count = None, 0
        messages = [{"role": "user", "content": PROMPTS[index % len(PROMPTS)]}]
        for event in engine.stream(messages, GenerationParams(max_new_tokens=tokens, temperature=0.0)):
            if first is None and isinstance(event, TextDelta | ReasoningDelta):
                first = time.perf_counter()
            if isinstance(event, Done):
                count = event.usage.completion_tokens
        results.append((start, first or time.perf_counter(), time.perf_counter(), count))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = max(r[2] for r in results) - min(r[0] for r in results)
    return Row(
        concurrency=concurrency,
        ttft_p50_s=statistics.median(r[1] - r[0] for r in results),
        aggregate_tps=sum(r[3] for r in results) / wall,
        per_stream_tps=statistics.mean((r[3] - 1) / max(r[2] - r[1], 1e-9) for r in results),
        memory=f"{rss_gib():.2f} GiB RSS",
    )


def cpu_bench(args: argparse.Namespace) -> str:
    """Benchmark the LocalEngine on CPU with the packaged offline model, unquantized (fp32) and torch int8."""
    from assistant.config import AssistantSettings
    from assistant.generation import LocalEngine
    from assistant.model import load_offline_fallback

    rows, sizes = [], []
    for quantization in args.quantizations or ["none", "int8"]:
        settings = AssistantSettings(offline_model=args.offline_model, device="cpu", max_batch_size=16,
                                     max_context_tokens=2048, quantization=quantization,
                                     stop_repetition=0)  # every stream makes its N tokens, loops included
        model = load_offline_fallback(settings, "benchmark")
        engine = LocalEngine(model, settings)
        engine.warmup()
        run_streams(engine, 1, args.tokens)  # discarded: first long prompt pays one-off kernel set-up
        for concurrency in args.concurrency:
            rows.append(run_streams(engine, concurrency, args.tokens))
            rows[-1].mode = "fp32" if model.info.quantization == "none" else model.info.quantization
            rows[-1].ratio = rows[-1].aggregate_tps / rows[0].aggregate_tps
        engine.close()
        sizes.append(f"{rows[-1].mode} {model.info.footprint_bytes / 2**30:.2f} GiB")
        label = model.info.label
        del engine, model
        gc.collect()
    title = (f"CPU, {label}, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
             f"{args.tokens} new tokens per request, greedy; weights: {', '.join(sizes)}")
    return title + "\n\n" + table(rows, f"aggregate tok/s vs {rows[0].mode}, 1 stream")


# ---------------------------------------------------------------- GPU: DeepSeek shapes, random weights


def measure_bandwidth_gbs(torch) -> float:
    """Device-to-device copy bandwidth (read + write bytes per second), the bound for memory-bound decode."""
    source = torch.empty(2**28, dtype=torch.float32, device="cuda")  # 1 GiB
    target = torch.empty_like(source)
    target.copy_(source)
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(10):
        target.copy_(source)
    torch.cuda.synchronize()
    return 2 * source.numel() * 4 * 10 / (time.perf_counter() - started) / 1e9


def build_random_checkpoint(name: str, directory: Path, tokenizer_dir: str | None) -> Path:
    """Save a randomly initialised model with the real config (bf16) plus a tokenizer, loadable as a directory."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    target = directory / name
    family, values = DEEPSEEK_CONFIGS[name]
    config = AutoConfig.for_model(family, **values)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(target)
    del model
    torch.cuda.empty_cache()
    AutoTokenizer.from_pretrained(tokenizer_dir or _packaged_tokenizer()).save_pretrained(target)  # ids only
    return target


def _packaged_tokenizer() -> Path:
    from assistant.config import AssistantSettings
    from assistant.model import offline_model_dir
    from assistant.offline import OFFLINE_MODELS

    return offline_model_dir(OFFLINE_MODELS["smollm2-135m"], AssistantSettings().cache_dir)


def random_prompts(model, rows: int, tokens: int) -> list[list[int]]:
    """Random token ids inside the model's vocabulary (deepseek-coder's is 32k, the R1 distills' 152k)."""
    import torch

    return [torch.randint(100, min(40000, model.model.config.vocab_size), (tokens,)).tolist() for _ in range(rows)]


def decode_rate(model, batch_size: int, prompt_tokens: int, steps: int) -> tuple[float, float]:
    """(TTFT of a batch prefill in s, aggregate decode tok/s) with random prompts, through LoadedModel's batch API."""
    import torch

    prompts = random_prompts(model, batch_size, prompt_tokens)
    torch.cuda.synchronize()
    started = time.perf_counter()
    batch, _ = model.prefill(prompts, [0.0] * batch_size, [1.0] * batch_size)
    torch.cuda.synchronize()
    ttft = time.perf_counter() - started
    model.decode_step(batch)  # untimed: moves the batch onto the graph slots (and captures the shape once)
    started = time.perf_counter()
    for _ in range(steps):
        model.decode_step(batch)
    torch.cuda.synchronize()
    return ttft, batch_size * steps / (time.perf_counter() - started)


def gpu_bench(args: argparse.Namespace) -> str:
    """DeepSeek shapes in nf4 and bf16: decode speed, eager and CUDA-graph steps, vs the memory-bandwidth bound."""
    import torch

    from assistant.config import AssistantSettings
    from assistant.model import load_pretrained

    bandwidth = measure_bandwidth_gbs(torch)
    sections = [f"GPU {torch.cuda.get_device_name()}, measured copy bandwidth {bandwidth:.0f} GB/s; random weights "
                f"with the real configs; prompt {args.prompt_tokens} tokens, {args.tokens} decode steps, greedy"]
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.models:
            checkpoint = build_random_checkpoint(name, Path(scratch), args.tokenizer)
            for quantization in args.quantizations or ["nf4", "none"]:
                settings = AssistantSettings(device="cuda", quantization=quantization, max_context_tokens=4096)
                model = load_pretrained(str(checkpoint), settings, display_name=name)
                sections.append(gpu_table(model, name, quantization, bandwidth, args))
                print(sections[-1] + "\n", flush=True)
                del model
                torch.cuda.empty_cache()
            shutil.rmtree(checkpoint)
    return "\n\n".join(sections)


def graph_agreement(model, graphs, rows: int = 4, steps: int = 32) -> str:
    """How many greedy tokens CUDA-graph decoding shares with eager decoding from the same random prompts."""
    prompts = random_prompts(model, rows, 64)
    runs = []
    for decoder in (None, graphs):
        model.graphs = decoder
        batch, first = model.prefill(prompts, [0.0] * rows, [1.0] * rows)
        runs.append([first] + [model.decode_step(batch) for _ in range(steps)])
    same = sum(a == b for x, y in zip(*runs, strict=True) for a, b in zip(x, y, strict=True))
    return f"{same}/{rows * (steps + 1)}"


def gpu_table(model, name: str, quantization: str, bandwidth: float, args: argparse.Namespace) -> str:
    """Rows for eager and CUDA-graph decoding at each concurrency, plus TTFT of one long prompt."""
    import torch

    weight_bytes = model.info.footprint_bytes
    bound = bandwidth * 1e9 / weight_bytes  # tokens/s of one stream if every step reads all weights once
    graphs, rows = model.graphs, []
    decode_rate(model, 1, 16, 2)  # discarded: CUDA context, cuBLAS and allocator set-up
    agreement = graph_agreement(model, graphs)
    for mode in ("eager", "cuda graphs"):
        model.graphs = graphs if mode == "cuda graphs" else None
        for concurrency in args.concurrency:
            torch.cuda.reset_peak_memory_stats()
            ttft, tps = decode_rate(model, concurrency, args.prompt_tokens, args.tokens)
            memory = f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB peak"
            rows.append(Row(concurrency, ttft, tps, tps / concurrency, memory, tps / bound, mode))
    long_ttft = statistics.median(decode_rate(model, 1, args.ttft_tokens, 0)[0] for _ in range(3))
    label = "nf4 (bf16 compute)" if quantization == "nf4" else "bf16"
    one = {r.mode: r.aggregate_tps for r in rows if r.concurrency == args.concurrency[0]}
    return (f"{name}, {label}: weights {weight_bytes / 2**30:.2f} GiB, bandwidth bound {bound:.0f} tok/s per "
            f"stream; TTFT of one {args.ttft_tokens}-token prompt {long_ttft * 1000:.0f} ms; "
            f"CUDA graphs vs eager at {args.concurrency[0]} stream(s): "
            f"{one['cuda graphs'] / one['eager']:.2f}x; greedy tokens equal to eager: {agreement}\n\n" + table(rows, "aggregate tok/s / bound"))


# ---------------------------------------------------------------- output


def table(rows: list[Row], ratio_label: str) -> str:
    """Markdown table of the rows."""
    lines = [f"| decoding | concurrency | TTFT p50 (s) | aggregate tok/s | per-stream tok/s | memory | {ratio_label} |",
             "|---|---:|---:|---:|---:|---|---:|"]
    lines += [f"| {r.mode} | {r.concurrency} | {r.ttft_p50_s:.2f} | {r.aggregate_tps:.1f} | {r.per_stream_tps:.1f} | "
              f"{r.memory} | {r.ratio:.2f}x |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the CPU or GPU benchmark, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpu", action="store_true", help="DeepSeek-R1-Distill shapes on CUDA (random weights)")
    parser.add_argument("--offline-model", default="qwen2.5-coder-0.5b", choices=["qwen2.5-coder-0.5b",
                                                                                  "smollm2-135m"])
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per request (decode steps with --gpu)")
    parser.add_argument("--prompt-tokens", type=int, default=256, help="prompt length with --gpu")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--models", nargs="+", default=list(DEEPSEEK_CONFIGS), choices=list(DEEPSEEK_CONFIGS),
                        help="with --gpu: which DeepSeek shapes")
    parser.add_argument("--quantizations", nargs="+", choices=["nf4", "int8", "none"],
                        help="default: none and int8 on CPU (torch int8), nf4 and none with --gpu")
    parser.add_argument("--ttft-tokens", type=int, default=2048, help="with --gpu: the long prompt timed alone")
    parser.add_argument("--tokenizer", help="with --gpu: tokenizer directory (default: the packaged SmolLM2's)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.WARNING)
    print(gpu_bench(args) if args.gpu else cpu_bench(args))


if __name__ == "__main__":
    main()
