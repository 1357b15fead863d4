"""A GGUF model in-process through llama-cpp-python, behind LangChain's chat-model interface,
and the start-up check that runs it once in a child process first.

llama.cpp is native code: a build with the wrong CPU paths segfaults inside `decode` and takes
the whole process with it (issue 12), which no `except` can catch. So the model is first made to
read a prompt of answer-like length and write a few tokens in a child process; only if that
child exits cleanly is the model loaded here.

langchain-community's `ChatLlamaCpp` is not used: that package is being sunset and warns on
import, and the few lines below are all qa-bot needs of it (messages in, streamed text out).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

N_BATCH = 512  # reading the passages in batches of 8 (llama-cpp-python's default) is ~10x slower
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}

# About 100 tokens: a one-token prompt completes even on builds that crash on real prompts.
PROBE_PROMPT = (
    "Answer from the passage only, and cite it. Passage [1]: The committee adopted the draft "
    "resolution by consensus on Friday, after two weeks of talks between the delegations of "
    "Russia and the United States; 107 other countries co-sponsored the text, which asks the "
    "General Assembly to prepare rules for responsible behaviour of states in information "
    "security. Question: How was the draft resolution adopted?"
)


class LlamaCppChat(BaseChatModel):
    """A chat model over one GGUF file, loaded once; `stream()` yields the text as it is written."""

    model_path: str
    n_ctx: int = 4096
    max_tokens: int = 300
    temperature: float = 0.0
    # None: llama-cpp-python's default, half the cores for generation (all of them to read the
    # prompt); measured here, all cores made generation 100x slower on a busy machine.
    n_threads: int | None = None
    n_batch: int = N_BATCH
    repeat_penalty: float = 1.0  # answers must repeat the passages' words

    _llama: Any = PrivateAttr(default=None)

    def model_post_init(self, __context: Any) -> None:
        from llama_cpp import Llama

        self._llama = Llama(
            model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, n_batch=self.n_batch,
            verbose=False,
        )

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    def _completion(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool):
        return self._llama.create_chat_completion(
            messages=[{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages],
            max_tokens=self.max_tokens, temperature=self.temperature, repeat_penalty=self.repeat_penalty,
            stop=stop or [], stream=stream,
        )

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = self._completion(messages, stop, stream=False)["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for part in self._completion(messages, stop, stream=True):
            text = part["choices"][0]["delta"].get("content")
            if text:
                if run_manager:
                    run_manager.on_llm_new_token(text)
                yield ChatGenerationChunk(message=AIMessageChunk(content=text))


def describe_exit(returncode: int, stderr: str) -> str | None:
    """None for a clean exit; else one line: the signal that killed the child, or its last words."""
    if returncode == 0:
        return None
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crashed ({name})"
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")
    return f"failed (exit {returncode}{': ' + last if last else ''})"


def probe(path: str, n_ctx: int, n_threads: int | None, *, n_batch: int = N_BATCH, timeout: float) -> str | None:
    """Load the model in a child process and complete PROBE_PROMPT: None if that worked, else what went wrong."""
    cmd = [sys.executable, "-m", "qa_bot.llamacpp", path, str(n_ctx), str(n_threads or 0), str(n_batch)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"did not finish within {timeout:.0f} s"
    return describe_exit(done.returncode, done.stderr)


def _probe_main(path: str, n_ctx: str, n_threads: str, n_batch: str) -> None:
    # The same class and settings as the real model, so the check runs the code that will answer.
    model = LlamaCppChat(model_path=path, n_ctx=int(n_ctx), n_threads=int(n_threads) or None, n_batch=int(n_batch),
                         max_tokens=4)
    model.invoke(PROBE_PROMPT)


if __name__ == "__main__":
    _probe_main(*sys.argv[1:5])
