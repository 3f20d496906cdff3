"""All of sendbot's settings in one place: defaults, overridden by SENDBOT_* environment variables.

CLI flags override these again by passing keyword arguments to `load_settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from dataclasses import field as dataclass_field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROMPTS_DIR = PROJECT_DIR / "prompts"

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")


@dataclass(frozen=True)
class Settings:
    """Runtime settings; each field `name` can be set with the variable SENDBOT_<NAME>."""

    data_dir: Path = PROJECT_DIR / "data"
    corpus_dir: Path = PROJECT_DIR / "corpus"
    # A `chroma run` server (http://HOST:PORT) holding the chunks and the registry of live files, shared by every
    # sendbot process pointed at it; empty: Chroma runs embedded in data_dir. The keyword index stays local.
    chroma_url: str = ""
    sync_seconds: float = 2.0  # server mode: how often the app checks the server for other processes' changes
    # Chunking: MiniLM reads 256 word pieces; context (title and section) shares that window.
    chunk_tokens: int = 200
    chunk_overlap_sentences: int = 1
    max_file_mb: float = 50.0
    follow_links: bool = False  # ingest links inside a folder that point outside it
    max_word_chars: int = 200  # longer unbroken runs (encoded data, one repeated letter) are cut at ingest
    # Retrieval
    top_k: int = 5
    rerank_pool: int = 40  # fused passages whose units are ranked before the top k are kept
    # The leading fused passages whose best unit is the evidence the answerer refuses on (min_evidence is
    # calibrated over these): further passages may hold the answer, but more of them would also give an
    # unanswerable question more chances of a unit that looks like one. The unit ranker trains on these too.
    evidence_pool: int = 12
    candidates: int = 30
    rrf_k: int = 60
    duplicate_similarity: float = 0.93
    # Answering
    answer_sentences: int = 3
    answer_words: int = 120  # further units join an answer only while it stays within this many words
    # Bounds on what one question may cost, so a long or many-part question cannot starve everyone else's
    max_question_chars: int = 1000
    max_question_parts: int = 4
    question_seconds: float = 5.0  # past this, the parts not yet searched are answered from the whole question
    # Refusal: the best sentence must score at least this. Calibrated with `sendbot eval --calibrate` on the golden
    # set's dev split: 0.54 maximises (refusal recall + share of answerable questions answered correctly) / 2 (0.733
    # against 0.715 here), but refuses 18% of the answerable questions against 7%; we keep 0.50 so that close calls
    # are answered, with their citations, rather than refused.
    min_evidence: float = 0.50
    # An answer whose evidence is under this is tentative: the web app and `sendbot ask` say the documents may not
    # answer the question exactly, and state no direct answer. On the dev split (`sendbot eval --calibrate`), answers
    # with evidence 0.50-0.55 held the expected facts less often than not (9 of 22), those at 0.55-0.60 13 of 19, and
    # those above 0.60 87 of 104.
    confident_evidence: float = 0.55
    # Questions about what was promised, agreed or decided are answered from the commitments register first
    # (commitments/chat.py) when its saved copy is current; off: they go through search like any other question.
    commitments_chat: bool = True
    # Optional language model that phrases answers (answer/generated.py); off while llm_url is empty. Every
    # generated sentence must cite a passage that supports it, or it is dropped; failures fall back to the
    # extractive answer.
    llm_kind: str = "openai-like"  # "openai-like" (Azure OpenAI, vLLM, llama.cpp server...) or "ollama"
    llm_url: str = ""  # e.g. http://127.0.0.1:8080/v1 (openai-like) or http://127.0.0.1:11434 (ollama)
    llm_model: str = ""
    llm_api_key: str = dataclass_field(default="", repr=False)  # a secret: kept out of logs and tracebacks
    llm_timeout: float = 20.0  # seconds for one model call; past it the extractive answer is given
    # Gradio app
    admin_password: str = ""
    max_upload_mb: float = 20.0
    # `sendbot sync`: the council's sites to fetch from (see sources.example.toml)
    sources: Path = PROJECT_DIR / "sources.toml"
    # Processor threads each answer may use in the web app (0: torch's default, one per core). Answers run side by
    # side there, and one thread each serves a crowd better: with 8 callers sending long questions on 2 cores, a
    # normal question's p95 was 2.9x quiet with torch's default and 1.7x with 1 thread (quiet p50 0.24 -> 0.34 s).
    server_threads: int = 1
    # The sentence encoder: "torch" (sentence-transformers, the default) or "onnx-int8" (the same MiniLM exported
    # to ONNX and quantised to int8, index/onnx_encoder.py; needs the `onnx` extra). An index holds one encoder's
    # vectors: switching needs a fresh index (another data directory, or the old one deleted) and an ingest.
    encoder: str = "torch"

    @property
    def llm_configured(self) -> bool:
        """True when a language model is set up to phrase answers (SENDBOT_LLM_URL given)."""
        return bool(self.llm_url)

    @property
    def bm25_dir(self) -> Path:
        return self.data_dir / "bm25"

    @property
    def synced_dir(self) -> Path:
        """Where `sendbot sync` keeps the files it fetched (ingested like any folder)."""
        return self.data_dir / "synced"

    @property
    def sync_state(self) -> Path:
        """What `sendbot sync` fetched last time (validators, hashes, gone counts), beside the folder."""
        return self.data_dir / "sync-state.json"

    @property
    def encoders_dir(self) -> Path:
        """Where encoders exported from the bundled model (the int8 ONNX one) are cached, by the model's hash."""
        return self.data_dir / "encoders"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"


def _coerce(value: str, current: object) -> object:
    if isinstance(current, Path):
        return Path(value).expanduser().resolve()
    if isinstance(current, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    return value


def load_settings(**overrides: object) -> Settings:
    """Build settings from defaults, then SENDBOT_* variables, then explicit overrides (None is ignored)."""
    settings = Settings()
    from_env = {}
    for field in fields(Settings):
        raw = os.environ.get(f"SENDBOT_{field.name.upper()}")
        if raw not in (None, ""):
            try:
                from_env[field.name] = _coerce(raw, getattr(settings, field.name))
            except ValueError as error:
                raise ValueError(f"SENDBOT_{field.name.upper()}={raw!r} is not valid: {error}") from None
    settings = replace(settings, **from_env)
    given = {k: v for k, v in overrides.items() if v is not None}
    for key in ("data_dir", "corpus_dir", "sources"):
        if key in given:
            given[key] = Path(given[key]).expanduser().resolve()
    return check_encoder(check_llm(replace(settings, **given)))


ENCODERS = ("torch", "onnx-int8")


def check_encoder(settings: Settings) -> Settings:
    """The settings unchanged if the encoder is one sendbot has; ValueError naming the choices if not."""
    if settings.encoder not in ENCODERS:
        raise ValueError(f"SENDBOT_ENCODER={settings.encoder!r} is not one of {', '.join(ENCODERS)}")
    return settings


LLM_KINDS = ("openai-like", "ollama")


def check_llm(settings: Settings) -> Settings:
    """The settings unchanged if the language model settings make sense; ValueError saying what to set if not."""
    if settings.llm_kind not in LLM_KINDS:
        raise ValueError(f"SENDBOT_LLM_KIND={settings.llm_kind!r} is not one of {', '.join(LLM_KINDS)}")
    if settings.llm_configured and not settings.llm_model:
        raise ValueError("SENDBOT_LLM_URL is set but SENDBOT_LLM_MODEL is not: set it to the model's name "
                         "(or pass --llm-model), or unset SENDBOT_LLM_URL to answer without a language model")
    if settings.llm_timeout <= 0:
        raise ValueError(f"SENDBOT_LLM_TIMEOUT={settings.llm_timeout} must be a positive number of seconds")
    return settings
