"""Offline stand-ins for the Hub models and datasets that TRL's GRPOTrainer tests name.

Nothing is downloaded. `ensure_fake_hub()` builds, once per machine, a Hugging Face Hub *cache* holding tiny
random models under their real ids (`trl-internal-testing/tiny-Qwen2ForCausalLM-2.5`, ...):

    <root>/<BUILD_KEY>/hub/models--trl-internal-testing--<name>/refs/main          -> <40-hex commit>
    <root>/<BUILD_KEY>/hub/models--trl-internal-testing--<name>/snapshots/<commit>/ config.json, model.safetensors,
                                                                                    tokenizer.json, ...

with <root> = $RLVR_CURRICULUM_CACHE/trl_compat, else ~/.cache/rlvr-curriculum/trl_compat, and BUILD_KEY naming
BUILD_VERSION, the transformers and TRL versions (TRL's chat templates are copied in) and a hash of this file, so
any change rebuilds (older builds under <root> are removed when a new one is made). With
`huggingface_hub.constants.HF_HUB_CACHE` pointing at `hub/` and offline mode on, `from_pretrained("<id>")`
(models, tokenizers, `AutoProcessor`, `trust_remote_code`) resolves from it like from a real cache.

The models follow TRL's own generator scripts (`scripts/generate_tiny_models/` in the TRL repository): same
architectures, same tiny sizes (hidden 8 for causal LMs, 16 for sequence classifiers, 2 layers), bf16, the same
weight init. The tokenizers cannot be the real ones (no download), so each is a byte-level BPE trained here on a
little text, with:

- the model family's special tokens, eos / pad / bos choice and generation config (eos lists) of the real repo;
- the real chat template where TRL ships it (`trl/chat_templates/*.jinja`: Qwen2.5, Qwen3, Llama 3.2, Gemma2,
  Cohere2, GPT-OSS, GLM-4-MoE, Nemotron 3 Nano), so TRL recognises them (`add_response_schema`,
  `get_training_chat_template`) exactly as it recognises the real ones. Mistral 0.2 gets a transcription of its
  `[INST]` template. tiny-Qwen3ForCausalLM is built from Qwen3-8B@refs/pr/14, whose template is not stored
  anywhere offline; it gets `qwen3.jinja` (the Qwen3 original) instead;
- for the Qwen family (Qwen2.5 / Qwen3 / Qwen3-MoE), the *real token ids* of everything the tests hardcode:
  the tests feed fake generations such as `[151657, 198, 4913, 606, ...]` ('<tool_call>\\n{"name...') and
  expect pad 151643 / eos 151645. The vocabulary therefore has the real size (151643 regular tokens + the
  real added tokens at their real ids), the GPT-2 byte alphabet at ids 0-255 as in the real vocabulary, the
  35 multi-byte tokens the tests use at their real ids (`QWEN_PINNED`), the trained merges elsewhere and
  unreachable filler tokens (" zq<id>") in the remaining slots. That 151k-row lm_head is what makes the Qwen
  tests the slow ones on CPU; the other families get the small trained vocabulary (~2.5k tokens).

`fake_load_dataset()` serves `trl-internal-testing/zen` (configs standard_prompt_only and
conversational_prompt_only, the rows of TRL's `scripts/generate_zen_dataset.py`: 17 train / 2 test) with
`datasets.load_dataset`'s return types (split -> Dataset / IterableDataset; no split -> DatasetDict /
IterableDatasetDict).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

BUILD_VERSION = "1"
ORG = "trl-internal-testing"

# --------------------------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------------------------

ZEN_PROMPTS = [
    "Beautiful is better than",
    "Explicit is",
    "Simple is better",
    "Complex",
    "Flat is better than",
    "Sparse is better",
    "Readability",
    "Special cases aren't special",
    "Although practicality beats",
    "Errors should never",
    "Unless explicitly",
    "In the face of ambiguity, refuse",
    "There should be one-- and preferably",
    "Although that way may not be obvious at first unless you're",
    "Now is",
    "Although never is often",
    "If the implementation is hard to explain,",
    "If the implementation is easy",
    "Namespaces are one honking great",
]

ZEN_QUESTIONS = [
    "What is better than ugly?",
    "What is better than implicit?",
    "What is better than complex?",
    "What is better than complicated?",
    "What is better than nested?",
    "What is better than dense?",
    "What counts?",
    "Are special cases enough to break the rules?",
    "What beats purity?",
    "What should never pass silently?",
    "When can errors pass silently?",
    "What should you do in the face of ambiguity?",
    "How many ways should there be to do it?",
    "For whom may the way not be obvious at first?",
    "What is better than never?",
    "Is never better than *right* now?",
    "What does it mean if the implementation is hard to explain?",
    "What does it mean if the implementation is easy to explain?",
    "Any great ideas?",
]

ZEN_TEXT = [
    "Beautiful is better than ugly.",
    "Explicit is better than implicit.",
    "Simple is better than complex.",
    "Complex is better than complicated.",
    "Flat is better than nested.",
    "Sparse is better than dense.",
    "Readability counts.",
    "Special cases aren't special enough to break the rules.",
    "Although practicality beats purity.",
    "Errors should never pass silently.",
    "Unless explicitly silenced.",
    "In the face of ambiguity, refuse the temptation to guess.",
    "There should be one-- and preferably only one --obvious way to do it.",
    "Although that way may not be obvious at first unless you're Dutch.",
    "Now is better than never.",
    "Although never is often better than *right* now.",
    "If the implementation is hard to explain, it's a bad idea.",
    "If the implementation is easy to explain, it may be a good idea.",
    "Namespaces are one honking great idea -- let's do more of those!",
]


def _zen_split(config_name: str):
    """The DatasetDict that TRL's generator pushes: `train_test_split(test_size=0.1, shuffle=False)` of 19 rows."""
    from datasets import Dataset

    if config_name == "standard_prompt_only":
        data = {"prompt": list(ZEN_PROMPTS)}
    elif config_name == "conversational_prompt_only":
        data = {"prompt": [[{"role": "user", "content": q}] for q in ZEN_QUESTIONS]}
    elif config_name == "standard_language_modeling":
        data = {"text": list(ZEN_TEXT)}
    else:
        raise ValueError(f"fake trl-internal-testing/zen has no config {config_name!r} (see tests/trl_compat/fake_hub.py)")
    return Dataset.from_dict(data).train_test_split(test_size=0.1, shuffle=False)


def fake_load_dataset(path, name=None, *args, split=None, streaming=False, **kwargs):
    """`datasets.load_dataset` for the fake `trl-internal-testing/zen`; anything else is an error (offline)."""
    from datasets import IterableDatasetDict

    if path != f"{ORG}/zen" or args:
        raise ValueError(
            f"load_dataset({path!r}, {name!r}, ...) is not served offline by tests/trl_compat "
            "(only trl-internal-testing/zen is)."
        )
    dataset_dict = _zen_split(name or kwargs.pop("config_name", None) or "standard_prompt_only")
    if streaming:
        dataset_dict = IterableDatasetDict({k: v.to_iterable_dataset() for k, v in dataset_dict.items()})
    if split is None:
        return dataset_dict
    return dataset_dict[split]


# --------------------------------------------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------------------------------------------

# Multi-byte tokens of the real Qwen2/Qwen2.5/Qwen3 vocabulary (byte-level strings: 'Ġ' = space, 'Ċ' = newline)
# that TRL's tests use as hardcoded ids in fake generations; single-byte ids (0 '!', 11 ',', 16-19 '1'-'4',
# 25 ':', 27 '<', 29 '>', 40 'I', 64-66 'a'-'c', 198 '\n', 220 ' ') come with the GPT-2 byte order.
QWEN_PINNED = {
    293: "Ġb",
    314: "Ġ{",
    330: 'Ġ"',
    397: ">Ċ",
    411: "out",
    450: "dec",
    497: '",',
    522: "</",
    606: "name",
    788: '":',
    894: "Ġany",
    927: "sh",
    944: "'t",
    1318: "text",
    1414: "Ġknow",
    1513: "Ġdon",
    2765: "Ġwon",
    4913: '{"',
    5212: 'Ġ{"',
    5392: "Ġtool",
    6023: "hi",
    6659: "call",
    7692: "async",
    9520: "step",
    11248: "}}Ċ",
    13477: "rement",
    14172: "tool",
    16252: "Ġincrement",
    16370: "arguments",
    17453: "Done",
    22785: "_tool",
    35744: "increment",
    64648: "multiply",
    93054: "_multiply",
    95642: '"}}Ċ',
}
QWEN_BASE_SIZE = 151643

# (content, special) in id order, starting right after the regular vocabulary, as in the real tokenizers.
QWEN25_ADDED = [
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
]
QWEN3_ADDED = QWEN25_ADDED + [
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
]
LLAMA3_ADDED = [
    ("<|begin_of_text|>", True),
    ("<|end_of_text|>", True),
    ("<|reserved_special_token_0|>", True),
    ("<|reserved_special_token_1|>", True),
    ("<|finetune_right_pad_id|>", True),
    ("<|reserved_special_token_2|>", True),
    ("<|start_header_id|>", True),
    ("<|end_header_id|>", True),
    ("<|eom_id|>", True),
    ("<|eot_id|>", True),
    ("<|python_tag|>", True),
]
MISTRAL_ADDED = [("<unk>", True), ("<s>", True), ("</s>", True)]
GEMMA_ADDED = [
    ("<pad>", True),
    ("<eos>", True),
    ("<bos>", True),
    ("<unk>", True),
    ("<mask>", True),
    ("<start_of_turn>", True),
    ("<end_of_turn>", True),
]
COHERE2_ADDED = [
    ("<PAD>", True),
    ("<UNK>", True),
    ("<CLS>", True),
    ("<SEP>", True),
    ("<MASK_TOKEN>", True),
    ("<BOS_TOKEN>", True),
    ("<EOS_TOKEN>", True),
    ("<|START_OF_TURN_TOKEN|>", True),
    ("<|END_OF_TURN_TOKEN|>", True),
    ("<|USER_TOKEN|>", True),
    ("<|CHATBOT_TOKEN|>", True),
    ("<|SYSTEM_TOKEN|>", True),
    ("<|START_RESPONSE|>", True),
    ("<|END_RESPONSE|>", True),
    ("<|START_THINKING|>", True),
    ("<|END_THINKING|>", True),
]
GPTOSS_ADDED = [
    ("<|startoftext|>", True),
    ("<|endoftext|>", True),
    ("<|return|>", True),
    ("<|constrain|>", True),
    ("<|channel|>", True),
    ("<|start|>", True),
    ("<|end|>", True),
    ("<|message|>", True),
    ("<|call|>", True),
]
GLM4MOE_ADDED = [
    ("<|endoftext|>", True),
    ("[MASK]", True),
    ("[gMASK]", True),
    ("[sMASK]", True),
    ("<sop>", True),
    ("<eop>", True),
    ("<|system|>", True),
    ("<|user|>", True),
    ("<|assistant|>", True),
    ("<|observation|>", True),
    ("<|begin_of_image|>", True),
    ("<|end_of_image|>", True),
    ("<think>", False),
    ("</think>", False),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<arg_key>", False),
    ("</arg_key>", False),
    ("<arg_value>", False),
    ("</arg_value>", False),
]
NEMOTRON3_ADDED = [
    ("<unk>", True),
    ("<s>", True),
    ("</s>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<think>", False),
    ("</think>", False),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
]

# Mistral-7B-Instruct-v0.2's chat template (user/assistant alternation, optional leading system message).
MISTRAL_V02_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content'] %}\n"
    "    {%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "\n"
    "{{- bos_token }}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "        {{- raise_exception('After the optional system message, conversation roles must alternate "
    "user/assistant/user/assistant/...') }}\n"
    "    {%- endif %}\n"
    "    {%- if message['role'] == 'user' %}\n"
    "        {%- if loop.first and system_message is defined %}\n"
    "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
    "        {%- else %}\n"
    "            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n"
    "        {%- endif %}\n"
    "    {%- elif message['role'] == 'assistant' %}\n"
    "        {{- ' ' + message['content'] + eos_token}}\n"
    "    {%- else %}\n"
    "        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial "
    "optional system message!') }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
)

# Qwen2's pre-tokenizer regex (transformers' Qwen2Tokenizer).
QWEN_SPLIT_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


def _byte_alphabet() -> list[str]:
    """The 256 byte-level symbols in GPT-2 / Qwen vocabulary order (id i = the i-th symbol; 198 = 'Ċ' = newline)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = list(bs)
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def _training_corpus() -> list[str]:
    from trl.chat_template_utils import _CHAT_TEMPLATES_DIR  # noqa: PLC2701

    lines = list(ZEN_TEXT) + list(ZEN_PROMPTS) + list(ZEN_QUESTIONS)
    lines += [
        '<tool_call>\n{"name": "multiply_tool", "arguments": {"a": 3, "b": 4}}\n</tool_call>',
        '<tool_call>\n{"name": "async_multiply_tool", "arguments": {"a": 3, "c": 4}}\n</tool_call>',
        '<tool_call>\n{"name": "increment", "arguments": {"step": 1}}\n</tool_call>',
        '<tool_call>\n{"name": "decrement", "arguments": {"step": 2}}\n</tool_call>',
        '<tool_call>\n{"name": "shout", "arguments": {"text": "hi"}}\n</tool_call>',
        "I don't know any tool. I won't increment. Done! Multiplies two integers. Returns the product.",
        '{"type": "function", "function": {"name": "multiply", "description": "Multiplies two integers.", '
        '"parameters": {"type": "object", "properties": {"a": {"type": "integer", "description": "The first '
        'integer."}}, "required": ["a", "b"]}}}',
        "You are a helpful assistant. Guess the 5-letter word. The quick brown fox jumps over the lazy dog.",
        "system user assistant tool tools function arguments parameters response think reasoning content",
        "0123456789 10 11 12 100 2024 3.14 -1 + - * / = ( ) [ ] { } < > : ; , . ! ? ' \" # $ % & @ ^ _ ` | ~",
    ]
    # The chat templates' own text, so the markup they render tokenizes compactly.
    for name in ("qwen2_5", "qwen3", "llama3_2", "gemma", "cohere2", "gptoss", "glm4moe", "nemotron_3_nano"):
        lines += (_CHAT_TEMPLATES_DIR / f"{name}.jinja").read_text(encoding="utf-8").splitlines()
    return lines * 3


def _pre_tokenizer():
    from tokenizers import Regex, pre_tokenizers

    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_SPLIT_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def _train_bpe(vocab_size: int = 2500) -> tuple[list[str], list[tuple[str, str]]]:
    """Byte-level BPE merges learned on `_training_corpus()`: (new tokens in merge order, merges)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = _pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    alphabet = _byte_alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=alphabet, show_progress=False, special_tokens=[], min_frequency=2
    )
    tok.train_from_iterator(_training_corpus(), trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    new_tokens = [a + b for a, b in merges]
    return new_tokens, merges


def _base_vocab(trained: list[str], pinned: dict[int, str] | None = None, size: int | None = None) -> dict[str, int]:
    """Byte alphabet at 0-255, `pinned` tokens at their ids, trained tokens in the free ids, fillers up to `size`."""
    vocab: dict[str, int] = {ch: i for i, ch in enumerate(_byte_alphabet())}
    used = set(vocab.values())
    for i, token in (pinned or {}).items():
        assert token not in vocab and i not in used, (i, token)
        vocab[token] = i
        used.add(i)
    next_id = 256
    for token in trained:
        if token in vocab:
            continue
        while next_id in used:
            next_id += 1
        vocab[token] = next_id
        used.add(next_id)
    if size is None:
        assert used == set(range(len(used))), "pinned ids need a `size` to fill the gaps"
        return vocab
    # Fillers: never produced by encoding (no merge builds them); decode to short " zq<n>" words.
    for i in range(size):
        if i not in used:
            filler = f"Ġzq{i}"
            assert filler not in vocab
            vocab[filler] = i
    assert len(vocab) == size
    return vocab


def _make_tokenizer(
    base_vocab: dict[str, int],
    merges: list[tuple[str, str]],
    added: list[tuple[str, bool]],
    *,
    bos: str | None,
    eos: str,
    pad: str | None,
    unk: str | None = None,
    add_bos: bool = False,
    chat_template: str | None,
    tokenizer_class: str,
    model_max_length: int,
):
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, processors
    from transformers import PreTrainedTokenizerFast

    merges = [m for m in merges if m[0] in base_vocab and m[1] in base_vocab and m[0] + m[1] in base_vocab]
    tok = Tokenizer(models.BPE(vocab=dict(base_vocab), merges=merges, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = _pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    for content, special in added:
        expected = tok.get_vocab_size(with_added_tokens=True)
        token = AddedToken(content, special=special, normalized=False, lstrip=False, rstrip=False, single_word=False)
        (tok.add_special_tokens if special else tok.add_tokens)([token])
        assert tok.token_to_id(content) == expected, (content, tok.token_to_id(content), expected)
    if add_bos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        pad_token=pad,
        unk_token=unk,
        model_max_length=model_max_length,
        clean_up_tokenization_spaces=False,
    )
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    tokenizer._fake_hub_class = tokenizer_class
    return tokenizer


class _TokenizerFactory:
    """Builds each family's tokenizer once per build."""

    def __init__(self):
        from trl.chat_template_utils import _CHAT_TEMPLATES_DIR  # noqa: PLC2701

        self.templates = _CHAT_TEMPLATES_DIR
        self.trained, self.merges = _train_bpe()
        self._small_vocab = _base_vocab(self.trained)
        self._qwen_vocab = None
        self._cache = {}

    def template(self, name: str) -> str:
        return (self.templates / f"{name}.jinja").read_text(encoding="utf-8")

    def qwen_vocab(self) -> dict[str, int]:
        if self._qwen_vocab is None:
            self._qwen_vocab = _base_vocab(self.trained, QWEN_PINNED, QWEN_BASE_SIZE)
        return self._qwen_vocab

    def get(self, family: str):
        if family not in self._cache:
            self._cache[family] = self._build(family)
        return self._cache[family]

    def _build(self, family: str):
        """(tokenizer, generation-config kwargs with token *strings* for bos/eos/pad)."""
        small, merges = self._small_vocab, self.merges
        if family in ("qwen2.5", "qwen3"):
            added = QWEN25_ADDED if family == "qwen2.5" else QWEN3_ADDED
            tokenizer = _make_tokenizer(
                self.qwen_vocab(), merges, added, bos=None, eos="<|im_end|>", pad="<|endoftext|>",
                chat_template=self.template("qwen2_5" if family == "qwen2.5" else "qwen3"),
                tokenizer_class="Qwen2Tokenizer", model_max_length=131072,
            )  # fmt: skip
            gen = {"bos": "<|endoftext|>", "eos": ["<|im_end|>", "<|endoftext|>"], "pad": "<|endoftext|>"}
            if family == "qwen2.5":
                gen.update(do_sample=True, temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05)
            else:
                gen.update(do_sample=True, temperature=0.6, top_p=0.95, top_k=20)
            return tokenizer, gen
        if family == "llama3.2":
            tokenizer = _make_tokenizer(
                small, merges, LLAMA3_ADDED, bos="<|begin_of_text|>", eos="<|eot_id|>", pad=None, add_bos=True,
                chat_template=self.template("llama3_2"), tokenizer_class="PreTrainedTokenizerFast",
                model_max_length=131072,
            )  # fmt: skip
            gen = {"bos": "<|begin_of_text|>", "eos": ["<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"]}
            gen.update(do_sample=True, temperature=0.6, top_p=0.9)
            return tokenizer, gen
        if family == "mistral0.2":
            tokenizer = _make_tokenizer(
                small, merges, MISTRAL_ADDED, bos="<s>", eos="</s>", pad=None, unk="<unk>", add_bos=True,
                chat_template=MISTRAL_V02_TEMPLATE, tokenizer_class="PreTrainedTokenizerFast", model_max_length=1000000,
            )  # fmt: skip
            return tokenizer, {"bos": "<s>", "eos": "</s>"}
        if family == "gemma2":
            tokenizer = _make_tokenizer(
                small, merges, GEMMA_ADDED, bos="<bos>", eos="<eos>", pad="<pad>", unk="<unk>", add_bos=True,
                chat_template=self.template("gemma"), tokenizer_class="PreTrainedTokenizerFast", model_max_length=1000000,
            )  # fmt: skip
            return tokenizer, {"bos": "<bos>", "eos": ["<eos>", "<end_of_turn>"], "pad": "<pad>"}
        if family == "cohere2":
            tokenizer = _make_tokenizer(
                small, merges, COHERE2_ADDED, bos="<BOS_TOKEN>", eos="<|END_OF_TURN_TOKEN|>", pad="<PAD>",
                unk="<UNK>", add_bos=True, chat_template=self.template("cohere2"),
                tokenizer_class="PreTrainedTokenizerFast", model_max_length=500000,
            )  # fmt: skip
            return tokenizer, {"bos": "<BOS_TOKEN>", "eos": ["<|END_OF_TURN_TOKEN|>", "<EOS_TOKEN>"], "pad": "<PAD>"}
        if family == "gptoss":
            tokenizer = _make_tokenizer(
                small, merges, GPTOSS_ADDED, bos="<|startoftext|>", eos="<|return|>", pad="<|endoftext|>",
                chat_template=self.template("gptoss"), tokenizer_class="PreTrainedTokenizerFast",
                model_max_length=131072,
            )  # fmt: skip
            gen = {"bos": "<|startoftext|>", "eos": ["<|return|>", "<|endoftext|>", "<|call|>"], "pad": "<|endoftext|>"}
            return tokenizer, gen
        if family == "glm4moe":
            tokenizer = _make_tokenizer(
                small, merges, GLM4MOE_ADDED, bos=None, eos="<|endoftext|>", pad="<|endoftext|>",
                chat_template=self.template("glm4moe"), tokenizer_class="PreTrainedTokenizerFast",
                model_max_length=128000,
            )  # fmt: skip
            gen = {"eos": ["<|endoftext|>", "<|user|>", "<|observation|>"], "pad": "<|endoftext|>"}
            gen.update(do_sample=True, temperature=0.6, top_p=0.95)
            return tokenizer, gen
        if family == "nemotron3":
            tokenizer = _make_tokenizer(
                small, merges, NEMOTRON3_ADDED, bos="<s>", eos="<|im_end|>", pad="<unk>", unk="<unk>",
                chat_template=self.template("nemotron_3_nano"), tokenizer_class="PreTrainedTokenizerFast",
                model_max_length=262144,
            )  # fmt: skip
            return tokenizer, {"bos": "<s>", "eos": ["<|im_end|>", "</s>"], "pad": "<unk>"}
        raise ValueError(family)


# --------------------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------------------


def init_weights_tiny_model(model):
    """TRL's `init_weights_tiny_model` (scripts/generate_tiny_models/_common.py)."""
    from torch import nn

    for module in model.modules():
        if isinstance(module, nn.Linear):
            if module.bias is not None:
                nn.init.zeros_(module.bias)
            nn.init.xavier_uniform_(module.weight)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Conv1d):
            if module.bias is not None:
                nn.init.zeros_(module.bias)
            nn.init.xavier_uniform_(module.weight)


_TINY = {"num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2, "intermediate_size": 32}

REMOTE_CONFIGURATION = """from transformers import LlamaConfig


class RemoteConfig(LlamaConfig):
    model_type = "remote"
"""

REMOTE_MODELING = """import torch.nn as nn
from transformers import LlamaForCausalLM, LlamaForSequenceClassification, LlamaModel, LlamaPreTrainedModel

from .configuration_remote import RemoteConfig


class RemoteModel(LlamaModel):
    config_class = RemoteConfig


class RemoteForCausalLM(LlamaForCausalLM):
    config_class = RemoteConfig


class RemoteForSequenceClassification(LlamaForSequenceClassification):
    config_class = RemoteConfig

    def __init__(self, config):
        LlamaPreTrainedModel.__init__(self, config)
        self.num_labels = config.num_labels
        self.model = RemoteModel(config)
        self.score = nn.Linear(config.hidden_size, self.num_labels, bias=False)
        self.post_init()
"""


def _model_specs():
    """name -> (tokenizer family, function(tokenizer) -> model). Mirrors TRL's generator scripts."""
    import transformers as tf

    def ids(tok, *names):
        return [tok.convert_tokens_to_ids(n) for n in names]

    def qwen2_causal(tok):
        return tf.Qwen2ForCausalLM(tf.Qwen2Config(vocab_size=len(tok), hidden_size=8, **_TINY))

    def qwen2_seqcls(tok):  # AutoConfig of Qwen/Qwen2.5-32B-Instruct, shrunk
        cfg = tf.Qwen2Config(
            vocab_size=152064, hidden_size=16, num_labels=1, max_position_embeddings=32768, rms_norm_eps=1e-6,
            bos_token_id=151643, eos_token_id=151645, tie_word_embeddings=False, **_TINY,
        )  # fmt: skip
        return tf.Qwen2ForSequenceClassification(cfg)

    def qwen3_causal(tok):
        return tf.Qwen3ForCausalLM(tf.Qwen3Config(vocab_size=len(tok), hidden_size=8, **_TINY))

    def qwen3_seqcls(tok):  # AutoConfig of Qwen/Qwen3-4B, shrunk
        cfg = tf.Qwen3Config(
            vocab_size=151936, hidden_size=16, num_labels=1, max_position_embeddings=40960, rms_norm_eps=1e-6,
            bos_token_id=151643, eos_token_id=151645, tie_word_embeddings=True, **_TINY,
        )  # fmt: skip
        return tf.Qwen3ForSequenceClassification(cfg)

    def qwen3moe_causal(tok):
        cfg = tf.Qwen3MoeConfig(
            vocab_size=151936, hidden_size=8, num_experts=4, num_experts_per_tok=2, max_position_embeddings=40960,
            norm_topk_prob=True, bos_token_id=151643, eos_token_id=151645, head_dim=128, max_window_layers=48,
            **_TINY,
        )  # fmt: skip
        return tf.Qwen3MoeForCausalLM(cfg)

    def llama_causal(tok):
        return tf.LlamaForCausalLM(tf.LlamaConfig(vocab_size=len(tok), hidden_size=8, **_TINY))

    def llama_seqcls(tok):  # AutoConfig of meta-llama/Llama-3.2-1B-Instruct, shrunk
        bos, *eos = ids(tok, "<|begin_of_text|>", "<|end_of_text|>", "<|eom_id|>", "<|eot_id|>")
        cfg = tf.LlamaConfig(
            vocab_size=len(tok), hidden_size=16, num_labels=1, head_dim=64, max_position_embeddings=131072,
            rms_norm_eps=1e-5, bos_token_id=bos, eos_token_id=eos, tie_word_embeddings=True,
            rope_parameters={
                "rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "high_freq_factor": 4.0,
                "low_freq_factor": 1.0, "original_max_position_embeddings": 8192,
            },
            **_TINY,
        )  # fmt: skip
        return tf.LlamaForSequenceClassification(cfg)

    def mistral_causal(tok):
        return tf.MistralForCausalLM(tf.MistralConfig(vocab_size=len(tok), hidden_size=8, **_TINY))

    def gemma2_causal(tok):
        return tf.Gemma2ForCausalLM(tf.Gemma2Config(vocab_size=len(tok), hidden_size=8, **_TINY))

    def cohere2_causal(tok):
        bos, eos = ids(tok, "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>")
        cfg = tf.Cohere2Config(
            vocab_size=len(tok), hidden_size=8, logit_scale=1.0, bos_token_id=bos, eos_token_id=eos,
            pad_token_id=tok.pad_token_id, cache_implementation="hybrid", layer_switch=4,
            order_of_interleaved_layers="local_attn_first", position_embedding_type="rope_gptj", rotary_pct=1.0,
            use_embedding_sharing=True, use_gated_activation=True, use_parallel_block=True,
            use_parallel_embedding=False, use_qk_norm=False, **_TINY,
        )  # fmt: skip
        return tf.Cohere2ForCausalLM(cfg)

    def gptoss_causal(tok):
        cfg = tf.GptOssConfig(vocab_size=len(tok), hidden_size=8, num_local_experts=4, num_experts_per_tok=2, **_TINY)
        return tf.GptOssForCausalLM(cfg)

    def glm4moe_causal(tok):
        eos = ids(tok, "<|endoftext|>", "<|user|>", "<|observation|>")
        cfg = tf.Glm4MoeConfig(
            vocab_size=len(tok), hidden_size=8, moe_intermediate_size=32, head_dim=2, n_routed_experts=4,
            num_experts_per_tok=2, attention_bias=True, eos_token_id=eos, pad_token_id=tok.pad_token_id,
            routed_scaling_factor=2.5, use_qk_norm=True, num_nextn_predict_layers=1, **_TINY,
        )  # fmt: skip
        return tf.Glm4MoeForCausalLM(cfg)

    def nemotronh_causal(tok):
        tiny = {k: v for k, v in _TINY.items() if k != "num_hidden_layers"}
        cfg = tf.NemotronHConfig(
            vocab_size=len(tok), hidden_size=16, layers_block_type=["mamba", "attention", "moe"], mamba_num_heads=8,
            mamba_head_dim=4, mamba_n_groups=1, ssm_state_size=16, mamba_d_conv=4, mamba_expand=2,
            n_routed_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
            moe_shared_expert_intermediate_size=32, **tiny,
        )  # fmt: skip
        model = tf.NemotronHForCausalLM(cfg)
        model._fake_hub_fp32 = [
            f"model.layers.{i}.mixer.{p}"
            for i, kind in enumerate(cfg.layers_block_type)
            if kind == "mamba"
            for p in ("A_log", "D")
        ]
        return model

    def remote_causal(tok):
        model = tf.LlamaForCausalLM(tf.LlamaConfig(vocab_size=len(tok), hidden_size=8, **_TINY))
        model._fake_hub_remote = True
        return model

    return {
        "tiny-Qwen2ForCausalLM-2.5": ("qwen2.5", qwen2_causal),
        "tiny-Qwen2ForSequenceClassification-2.5": ("qwen2.5", qwen2_seqcls),
        "tiny-Qwen3ForCausalLM": ("qwen3", qwen3_causal),
        "tiny-Qwen3ForSequenceClassification": ("qwen3", qwen3_seqcls),
        "tiny-Qwen3MoeForCausalLM": ("qwen3", qwen3moe_causal),
        "tiny-LlamaForCausalLM-3.2": ("llama3.2", llama_causal),
        "tiny-LlamaForSequenceClassification-3.2": ("llama3.2", llama_seqcls),
        "tiny-MistralForCausalLM-0.2": ("mistral0.2", mistral_causal),
        "tiny-Gemma2ForCausalLM": ("gemma2", gemma2_causal),
        "tiny-Cohere2ForCausalLM": ("cohere2", cohere2_causal),
        "tiny-GptOssForCausalLM": ("gptoss", gptoss_causal),
        "tiny-Glm4MoeForCausalLM": ("glm4moe", glm4moe_causal),
        "tiny-NemotronHForCausalLM-nano": ("nemotron3", nemotronh_causal),
        "tiny-RemoteForCausalLM": ("llama3.2", remote_causal),
    }


MODEL_NAMES = (
    "tiny-Qwen2ForCausalLM-2.5",
    "tiny-Qwen2ForSequenceClassification-2.5",
    "tiny-Qwen3ForCausalLM",
    "tiny-Qwen3ForSequenceClassification",
    "tiny-Qwen3MoeForCausalLM",
    "tiny-LlamaForCausalLM-3.2",
    "tiny-LlamaForSequenceClassification-3.2",
    "tiny-MistralForCausalLM-0.2",
    "tiny-Gemma2ForCausalLM",
    "tiny-Cohere2ForCausalLM",
    "tiny-GptOssForCausalLM",
    "tiny-Glm4MoeForCausalLM",
    "tiny-NemotronHForCausalLM-nano",
    "tiny-RemoteForCausalLM",
)
"""Every model id (under `trl-internal-testing/`) the fake hub serves."""


def _commit_hash(name: str) -> str:
    return hashlib.sha1(f"rlvr-curriculum/trl_compat/{BUILD_VERSION}/{name}".encode()).hexdigest()


def _save_repo(hub: Path, name: str, family: str, make_model, tokenizers: _TokenizerFactory) -> None:
    import torch
    from transformers import GenerationConfig

    tokenizer, gen = tokenizers.get(family)
    torch.manual_seed(int(hashlib.sha1(name.encode()).hexdigest()[:8], 16))
    model = make_model(tokenizer).to(dtype=torch.bfloat16)
    init_weights_tiny_model(model)
    for param_name in getattr(model, "_fake_hub_fp32", []):
        param = model.get_parameter(param_name)
        param.data = param.data.float()

    repo = hub / f"models--{ORG}--{name}"
    commit = _commit_hash(name)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)

    model.save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    config_path = snapshot / "tokenizer_config.json"
    tok_config = json.loads(config_path.read_text())
    tok_config["tokenizer_class"] = tokenizer._fake_hub_class
    config_path.write_text(json.dumps(tok_config, indent=2, ensure_ascii=False))

    def tid(token):
        return tokenizer.convert_tokens_to_ids(token)

    gen_kwargs = {k: v for k, v in gen.items() if k not in ("bos", "eos", "pad")}
    if "bos" in gen:
        gen_kwargs["bos_token_id"] = tid(gen["bos"])
    eos = gen["eos"]
    gen_kwargs["eos_token_id"] = [tid(t) for t in eos] if isinstance(eos, list) else tid(eos)
    if "pad" in gen:
        gen_kwargs["pad_token_id"] = tid(gen["pad"])
    GenerationConfig(**gen_kwargs).save_pretrained(snapshot)

    if getattr(model, "_fake_hub_remote", False):
        # A LlamaForCausalLM checkpoint re-labelled as the custom-code `RemoteForCausalLM` (TRL's
        # `remote_for_causal_lm.py`): loadable only with `trust_remote_code=True`.
        (snapshot / "configuration_remote.py").write_text(REMOTE_CONFIGURATION)
        (snapshot / "modeling_remote.py").write_text(REMOTE_MODELING)
        config = json.loads((snapshot / "config.json").read_text())
        config["model_type"] = "remote"
        config["architectures"] = ["RemoteForCausalLM"]
        config["auto_map"] = {
            "AutoConfig": "configuration_remote.RemoteConfig",
            "AutoModel": "modeling_remote.RemoteModel",
            "AutoModelForCausalLM": "modeling_remote.RemoteForCausalLM",
            "AutoModelForSequenceClassification": "modeling_remote.RemoteForSequenceClassification",
        }
        (snapshot / "config.json").write_text(json.dumps(config, indent=2))


def cache_root() -> Path:
    chosen = os.environ.get("RLVR_CURRICULUM_CACHE") or "~/.cache/rlvr-curriculum"
    return Path(chosen).expanduser() / "trl_compat"


def build_key() -> str:
    """BUILD_VERSION, the versions the saved files depend on, and a hash of this file (any edit rebuilds)."""
    from importlib.metadata import version

    source = hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:10]
    return f"v{BUILD_VERSION}-transformers{version('transformers')}-trl{version('trl')}-{source}"


def ensure_fake_hub(root: Path | None = None) -> Path:
    """The fake hub cache directory (to use as HF_HUB_CACHE), built first if missing. Safe across processes."""
    from filelock import FileLock

    base = (root or cache_root()) / build_key()
    hub = base / "hub"
    done = base / "COMPLETE"
    if done.exists():
        return hub
    base.mkdir(parents=True, exist_ok=True)
    with FileLock(str(base) + ".lock"):
        if done.exists():
            return hub
        from transformers.utils import logging as hf_logging

        tmp = Path(tempfile.mkdtemp(prefix="hub-", dir=base))
        progress_bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            tokenizers = _TokenizerFactory()
            for name, (family, make_model) in _model_specs().items():
                _save_repo(tmp, name, family, make_model, tokenizers)
            if hub.exists():
                shutil.rmtree(hub)
            tmp.rename(hub)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            if progress_bars:
                hf_logging.enable_progress_bar()
        done.write_text(json.dumps({"models": list(MODEL_NAMES), "build_key": build_key()}, indent=2))
    for stale in base.parent.glob("v*"):  # best effort: earlier builds of other keys
        if stale.is_dir() and stale != base:
            shutil.rmtree(stale, ignore_errors=True)
            Path(str(stale) + ".lock").unlink(missing_ok=True)
    return hub


if __name__ == "__main__":  # python tests/trl_compat/fake_hub.py: build (or find) the cache and print its path
    print(ensure_fake_hub())
