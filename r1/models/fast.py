"""A lean forward for Llama-family decoders (Llama, Qwen2, Mistral) on the model's own parameters.

Why it exists: for a model of a few million parameters on a CPU, a Hugging Face forward spends more
time in module calls, mask building and cache bookkeeping than in matrix products. This path does
the same arithmetic with fused projections (q|k|v and gate|up as one matmul each) and adds two
things `model(...)` cannot do:

- Shared prompts. The G completions of a GRPO group (or the k samples of pass@k) share one prompt:
  its tokens go through the network once and every completion attends to those keys and values.
  Gradients flow back through the shared copy, so the result equals G separate forwards.
- A preallocated KV cache for decoding (see r1.rollout.lean).

With compile=True both forwards (training/scoring and the decode step) run under torch.compile,
with the sizes that change between batches marked dynamic so one graph serves a whole run.

It reads the weights of the module it wraps at every call, so it always sees the current policy,
and autograd reaches the real parameters. Anything it does not reproduce exactly (other
architectures, rope scaling, sliding windows, peft adapters, DDP/FSDP wrappers) makes `unsupported`
return a reason, and callers use the plain Hugging Face forward instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from r1.errors import R1Error
from r1.models.weights import sharding

FAMILIES = ("llama", "qwen2", "mistral")

FUSE_UP_TO = 2**20
"""Largest layer (its q, k, v, gate and up weights together, in elements) whose projections the lean
forward fuses into one q|k|v and one gate|up matrix. The fused matrices are new copies made at every
forward, held through its backward: at Qwen2.5-0.5B's size (9.7M elements a layer) that is 0.87 GiB
more peak memory per forward, and the separate products measured no slower there (CPU seconds on
one thread, bench/RESULTS.md). The tiny models (0.3M elements a layer) stay fused as before."""


def unsupported(model) -> str | None:
    """Why `model` cannot take the lean path, or None when it can."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        return "not a Hugging Face model (wrapped by DDP/FSDP/peft?)"
    cfg = model.config
    if cfg.model_type not in FAMILIES:
        return f"model_type {cfg.model_type!r} (lean path: {', '.join(FAMILIES)})"
    rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
    if rope.get("rope_type", "default") != "default":
        return f"rope_type {rope.get('rope_type')!r}"
    if getattr(cfg, "hidden_act", "silu") != "silu":
        return f"hidden_act {cfg.hidden_act!r}"
    if getattr(cfg, "sliding_window", None) and getattr(cfg, "use_sliding_window", True):
        return "sliding-window attention"
    if getattr(cfg, "mlp_bias", False):
        return "mlp_bias"
    inner = getattr(model, "model", None)
    if inner is None or not hasattr(inner, "layers") or not (hasattr(model, "lm_head") or hasattr(model, "score")):
        return "no model.layers / lm_head (or a sequence classifier's score head)"
    kind = sharding(model)
    if kind:
        return f"parameters sharded over processes ({kind})"
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and type(module) is not torch.nn.Linear:
            return f"{name} is a {type(module).__name__} (adapter?)"
        if "lora" in name.lower():
            return f"{name} looks like an adapter"
    return None


def length_chunks(lengths: list[int], most: int = 8) -> list[tuple[int, int]]:
    """Row ranges of a batch sorted by length: the fewest equal chunks (1, 2, 4, ... most) whose padded
    token count is within 10% of the best such split. Equal lengths give one chunk."""
    n = len(lengths)
    options = []
    k = 1
    while k <= min(most, n):
        bounds = [round(n * j / k) for j in range(k + 1)]
        ranges = list(zip(bounds, bounds[1:]))
        options.append((sum((b - a) * max(lengths[b - 1], 1) for a, b in ranges), ranges))
        k *= 2
    best = min(cost for cost, _ in options)
    return next(ranges for cost, ranges in options if cost <= 1.1 * best)


@dataclass
class LayerWeights:
    qkv_w: list[torch.Tensor]  # fused: [[(h + 2 kv) * d, H]]; apart: q [h d, H], k and v [kv d, H]
    qkv_b: list[torch.Tensor | None]  # the matching biases
    o_w: torch.Tensor  # [H, h * d]
    o_b: torch.Tensor | None
    gate_up_w: list[torch.Tensor]  # fused: [[2 I, H]]; apart: gate and up [I, H]
    down_w: torch.Tensor  # [H, I]
    norm1: torch.Tensor  # [H]
    norm2: torch.Tensor  # [H]


@dataclass
class Weights:
    """Every tensor the lean forward reads, taken from the live parameters (autograd reaches them)."""
    layers: list[LayerWeights]
    embed: torch.Tensor  # [V, H]
    norm: torch.Tensor  # [H] the final norm
    head_w: torch.Tensor | None  # [V, H]; None for a sequence classifier (its head is its own `score`)
    head_b: torch.Tensor | None
    inv_freq: torch.Tensor  # [d / 2] rope frequencies


def _cat_bias(*linears) -> torch.Tensor | None:
    biases = [lin.bias for lin in linears]
    if all(b is None for b in biases):
        return None
    return torch.cat([b if b is not None else torch.zeros(lin.out_features, dtype=lin.weight.dtype,
                                                           device=lin.weight.device)
                      for b, lin in zip(biases, linears)])


class FastLM:
    """The lean forward of one Llama-family model; see the module doc."""

    def __init__(self, model, compile: bool = False):
        reason = unsupported(model)
        if reason:
            raise ValueError(f"lean forward: unsupported model: {reason}")
        cfg = model.config
        self.model, self.compile = model, compile
        self.n_heads = cfg.num_attention_heads
        self.n_kv = getattr(cfg, "num_key_value_heads", None) or self.n_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_heads
        self.eps = cfg.rms_norm_eps
        rotary = model.model.rotary_emb
        self.inv_freq = rotary.inv_freq  # [d / 2]
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0))
        layer = cfg.hidden_size * (self.head_dim * (self.n_heads + 2 * self.n_kv) + 2 * cfg.intermediate_size)
        self.fuse = layer <= FUSE_UP_TO  # q|k|v and gate|up weights of one layer, in elements

    def weights(self) -> Weights:
        """The model's tensors, read from the live parameters at every call, so they are current and
        autograd reaches them. Small layers get q|k|v and gate|up fused into one matrix each (a new
        copy per call, see FUSE_UP_TO); large ones use the parameters as they are."""
        layers = []
        for layer in self.model.model.layers:
            att, mlp = layer.self_attn, layer.mlp
            qkv, gate_up = (att.q_proj, att.k_proj, att.v_proj), (mlp.gate_proj, mlp.up_proj)
            if self.fuse:
                qkv_w, qkv_b = [torch.cat([lin.weight for lin in qkv])], [_cat_bias(*qkv)]
                gate_up_w = [torch.cat([lin.weight for lin in gate_up])]
            else:
                qkv_w, qkv_b = [lin.weight for lin in qkv], [lin.bias for lin in qkv]
                gate_up_w = [lin.weight for lin in gate_up]
            layers.append(LayerWeights(qkv_w, qkv_b, att.o_proj.weight, att.o_proj.bias, gate_up_w,
                                       mlp.down_proj.weight, layer.input_layernorm.weight,
                                       layer.post_attention_layernorm.weight))
        inner, head = self.model.model, getattr(self.model, "lm_head", None)
        return Weights(layers, inner.embed_tokens.weight, inner.norm.weight, getattr(head, "weight", None),
                       getattr(head, "bias", None), self.inv_freq)

    # -- pieces -------------------------------------------------------------------------------

    def norm(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:  # one fused op, bit-identical to the lines below in float32
            return F.rms_norm(x, (x.shape[-1],), weight, self.eps)
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * x.to(dtype)

    def rope(self, positions: torch.Tensor, dtype: torch.dtype, inv_freq: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and signed sin [..., d] for positions [...] (see `rotate`)."""
        freqs = positions[..., None].float() * inv_freq.float()  # [..., d / 2]
        cos, sin = freqs.cos() * self.rope_scale, freqs.sin() * self.rope_scale
        return torch.cat((cos, cos), -1).to(dtype), torch.cat((-sin, sin), -1).to(dtype)

    @staticmethod
    def rotate(x: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor) -> torch.Tensor:
        """HF's x * cos + rotate_half(x) * sin, with rotate_half(x) * sin = roll(x, d/2) * (-sin|sin)."""
        return x * cos + x.roll(x.shape[-1] // 2, -1) * signed_sin

    def qkv(self, x: torch.Tensor, w: LayerWeights, cos: torch.Tensor, sin: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries [B, h, T, d], keys and values [B, kv, T, d] of normed hidden states x [B, T, H]."""
        b, t, _ = x.shape
        d, h, kv = self.head_dim, self.n_heads, self.n_kv
        parts = [F.linear(x, weight, bias) for weight, bias in zip(w.qkv_w, w.qkv_b)]  # [B, T, .]
        qkv = parts[0] if len(parts) == 1 else torch.cat(parts, -1)  # [B, T, (h + 2 kv) d]
        qkv = qkv.view(b, t, h + 2 * kv, d).transpose(1, 2)  # [B, h + 2 kv, T, d]
        qk = self.rotate(qkv[:, : h + kv], cos, sin)  # queries and keys rotated together
        return qk[:, :h], qk[:, h:], qkv[:, h + kv :]

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[B, h, T, d] queries over [B, kv, S, d] keys with a boolean mask [B, 1, T, S] -> [B, T, h d]."""
        gqa = {"enable_gqa": True} if self.n_kv != self.n_heads else {}
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **gqa)
        b, _, t, _ = out.shape
        return out.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)

    def attend_one(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """One query per row: q [b, h, 1, d] over keys/values [b, kv, S, d] with an additive mask
        [b, 1, 1, S] (0 or -inf) -> [b, 1, h d]. Two matmuls and a softmax: for a single query this is
        ~25% faster on CPU than scaled_dot_product_attention, and the mask is built once per step."""
        b, h, _, d = q.shape
        g = h // self.n_kv  # query heads per key/value head (grouped-query attention)
        q = q.reshape(b, self.n_kv, g, d)  # [b, kv, g, d]
        scores = torch.matmul(q, k.transpose(-1, -2)).mul_(d ** -0.5).add_(bias)  # [b, kv, g, S]
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(v.dtype)  # float32 for bf16 too
        out = torch.matmul(probs, v)  # [b, kv, g, d]
        return out.reshape(b, 1, h * d)

    def mlp(self, x: torch.Tensor, w: LayerWeights) -> torch.Tensor:
        if len(w.gate_up_w) == 1:
            gate, up = F.linear(x, w.gate_up_w[0]).chunk(2, dim=-1)
        else:
            gate, up = (F.linear(x, weight) for weight in w.gate_up_w)
        return F.linear(F.silu(gate) * up, w.down_w)

    def head(self, x: torch.Tensor, w: Weights) -> torch.Tensor:
        """Logits of hidden states x [..., H] (final norm, then lm_head)."""
        return F.linear(self.norm(x, w.norm), w.head_w, w.head_b)

    # -- training / scoring -------------------------------------------------------------------

    def shared_prompt_logits(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor,
                             prompt_index: torch.Tensor, completion_ids: torch.Tensor) -> torch.Tensor:
        """Logits predicting each completion token, with each distinct prompt run once (see `forward`)."""
        args = (prompt_ids, prompt_mask, prompt_index, completion_ids)
        if not self.compile:
            return self.forward(self.weights(), *args)
        for x in args:  # rows, prompt width and completion length change from batch to batch
            for dim in range(x.dim()):
                torch._dynamo.maybe_mark_dynamic(x, dim)
        return _compiled(self, "forward")(self.weights(), *args)

    def forward(self, w: Weights, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor,
                prompt_index: torch.Tensor, completion_ids: torch.Tensor) -> torch.Tensor:
        """Logits predicting each completion token, with each distinct prompt run once.

        Args:
            prompt_ids: [U, P] distinct prompts, left-padded.
            prompt_mask: [U, P] 1 on real prompt tokens.
            prompt_index: [B] which prompt each completion continues.
            completion_ids: [B, L] completions, right-padded (padding is masked from the loss by
                the caller; causal attention keeps it from affecting real tokens).
        Returns:
            [B, L, V]: row j predicts completion token j (from the last prompt token for j = 0).
        """
        u, p = prompt_ids.shape
        b, l_ = completion_ids.shape
        dev = completion_ids.device
        valid = prompt_mask.bool()  # [U, P]
        p_pos = (prompt_mask.cumsum(-1) - 1).clamp(min=0)  # [U, P]
        c_pos = prompt_mask.sum(-1)[prompt_index, None] + torch.arange(l_, device=dev)  # [B, L]
        causal_p = torch.ones(p, p, dtype=torch.bool, device=dev).tril()
        # A padding query sees only itself (finite, unused) instead of nothing (NaN).
        mask_p = (causal_p & valid[:, None, :]) | torch.eye(p, dtype=torch.bool, device=dev)  # [U, P, P]
        mask_c = torch.cat([valid[prompt_index, None, :].expand(b, l_, p),
                            torch.ones(l_, l_, dtype=torch.bool, device=dev).tril().expand(b, l_, l_)],
                           dim=-1)  # [B, L, P + L]
        xp = F.embedding(prompt_ids, w.embed)  # [U, P, H]
        xc = F.embedding(completion_ids, w.embed)  # [B, L, H]
        cos_p, sin_p = (r[:, None] for r in self.rope(p_pos, xp.dtype, w.inv_freq))  # [U, 1, P, d]
        cos_c, sin_c = (r[:, None] for r in self.rope(c_pos, xc.dtype, w.inv_freq))  # [B, 1, L, d]
        for lw in w.layers:
            qp, kp, vp = self.qkv(self.norm(xp, lw.norm1), lw, cos_p, sin_p)
            qc, kc, vc = self.qkv(self.norm(xc, lw.norm1), lw, cos_c, sin_c)
            keys = torch.cat([kp.index_select(0, prompt_index), kc], dim=2)  # [B, kv, P + L, d]
            values = torch.cat([vp.index_select(0, prompt_index), vc], dim=2)
            xp = xp + F.linear(self.attend(qp, kp, vp, mask_p[:, None]), lw.o_w, lw.o_b)
            xc = xc + F.linear(self.attend(qc, keys, values, mask_c[:, None]), lw.o_w, lw.o_b)
            xp = xp + self.mlp(self.norm(xp, lw.norm2), lw)
            xc = xc + self.mlp(self.norm(xc, lw.norm2), lw)
        last = xp[:, -1:].index_select(0, prompt_index)  # [B, 1, H]; prompts are left-padded
        return self.head(torch.cat([last, xc[:, :-1]], dim=1), w)  # [B, L, V]

    def packed_hidden(self, w: Weights, ids: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor
                      ) -> torch.Tensor:
        """Final normed hidden states [B, T, H] of rows that each pack several sequences.

        Args:
            ids: [B, T] tokens.
            positions: [B, T] each token's position in its own sequence (rope).
            mask: [B, T, T] which keys each query attends to; each query must see at least one key
                (padding: itself), or attention gives NaN.
        """
        x = F.embedding(ids, w.embed)  # [B, T, H]
        cos, sin = (r[:, None] for r in self.rope(positions, x.dtype, w.inv_freq))  # [B, 1, T, d]
        for lw in w.layers:
            q, k, v = self.qkv(self.norm(x, lw.norm1), lw, cos, sin)
            x = x + F.linear(self.attend(q, k, v, mask[:, None]), lw.o_w, lw.o_b)
            x = x + self.mlp(self.norm(x, lw.norm2), lw)
        return self.norm(x, w.norm)

    # -- decoding -----------------------------------------------------------------------------

    def prefill(self, w: Weights, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor,
                n: int, max_new: int) -> tuple[torch.Tensor, "KVCache"]:
        """Run U distinct prompts once; returns last-position logits [U, V] and a cache of U * n rows
        (prompt-major: row i * n + j is sample j of prompt i) with room for max_new tokens."""
        u, p = prompt_ids.shape
        dev = prompt_ids.device
        valid = prompt_mask.bool()
        mask = ((torch.ones(p, p, dtype=torch.bool, device=dev).tril() & valid[:, None, :])
                | torch.eye(p, dtype=torch.bool, device=dev))[:, None]  # [U, 1, P, P]
        x = F.embedding(prompt_ids, w.embed)  # [U, P, H]
        positions = (prompt_mask.cumsum(-1) - 1).clamp(min=0)
        cos, sin = (r[:, None] for r in self.rope(positions, x.dtype, w.inv_freq))  # [U, 1, P, d]
        cache = KVCache(u * n, self.n_kv, p + max_new, self.head_dim, len(w.layers), x.dtype, dev)
        cache.cos, cache.sin = self.rope(torch.arange(p + max_new, device=dev), x.dtype, w.inv_freq)
        cache.bias[:, :p].masked_fill_(valid.repeat_interleave(n, 0), 0.0)
        cache.pos = prompt_mask.sum(-1).repeat_interleave(n, 0)  # [U n] position of the next token
        for layer, lw in enumerate(w.layers):
            q, k, v = self.qkv(self.norm(x, lw.norm1), lw, cos, sin)
            cache.keys[layer][:, :, :p] = k.repeat_interleave(n, 0)
            cache.values[layer][:, :, :p] = v.repeat_interleave(n, 0)
            x = x + F.linear(self.attend(q, k, v, mask), lw.o_w, lw.o_b)
            x = x + self.mlp(self.norm(x, lw.norm2), lw)
        cache.length = p
        return self.head(x[:, -1], w), cache

    def step(self, w: Weights, tokens: torch.Tensor, cache: "KVCache") -> torch.Tensor:
        """Feed one token per row [b]; returns next-token logits [b, V] and advances the cache."""
        t = cache.length
        cache.bias[:, t] = 0.0
        mask = cache.bias[:, : t + 1]
        args = (w, tokens, cache.keys, cache.values, mask, cache.pos, cache.cos, cache.sin)
        if self.compile:
            # what changes between steps: rows (finished ones are dropped), cache width, keys seen
            for x in (tokens, mask, cache.pos, cache.cos, cache.sin, *cache.keys, *cache.values):
                torch._dynamo.maybe_mark_dynamic(x, 0)
            for x, dim in ((mask, 1), *((kv, 2) for kv in cache.keys + cache.values)):
                torch._dynamo.maybe_mark_dynamic(x, dim)
            logits = _compiled(self, "decode")(*args)
        else:
            logits = self.decode(*args)
        cache.length, cache.pos = t + 1, cache.pos + 1
        return logits

    def decode(self, w: Weights, tokens: torch.Tensor, keys: list[torch.Tensor], values: list[torch.Tensor],
               mask: torch.Tensor, pos: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """The body of `step`, every tensor an argument: tokens [b] at position t = mask.shape[1] - 1
        write key/value column t of the cache [b, kv, W, d] and attend to columns 0..t; mask [b, t + 1]
        is additive, pos [b] each row's rope position in the tables cos/sin [W, d]. Returns [b, V].
        (The rope lookup stays inside: compiled, it fuses into the attention kernel; handed in
        already gathered, the kernel inductor makes runs 3x slower.)"""
        t = mask.shape[1] - 1
        x = F.embedding(tokens[:, None], w.embed)  # [b, 1, H]
        cos, sin, mask = cos[pos][:, None, None], sin[pos][:, None, None], mask[:, None, None]  # [b, 1, 1, .]
        for layer, lw in enumerate(w.layers):
            q, k, v = self.qkv(self.norm(x, lw.norm1), lw, cos, sin)
            keys[layer].narrow(2, t, 1).copy_(k)
            values[layer].narrow(2, t, 1).copy_(v)
            seen_k, seen_v = keys[layer].narrow(2, 0, t + 1), values[layer].narrow(2, 0, t + 1)
            x = x + F.linear(self.attend_one(q, seen_k, seen_v, mask), lw.o_w, lw.o_b)
            x = x + self.mlp(self.norm(x, lw.norm2), lw)
        return self.head(x[:, 0], w)


COMPILE_PAYS_AFTER = 400
"""GRPO steps after which compile=true has won back its compile when inductor builds its kernels from
scratch (an empty cache), on the tiny model: 407 measured by bench/compile_break_even.py on an AMD EPYC
core (72 with the cache filled; bench/RESULTS.md). `compile: auto` compiles runs at least this long."""


def decide_compile(setting: bool | str, steps: int, model, budget: bool = False, say: bool = True) -> bool:
    """`compile` as set, or for "auto": on when the lean path takes the model, a C++ compiler is there
    (inductor builds CPU kernels with it) and the run is long enough to win the compile back; one line
    says which and why. A FLOPs budget (`budget`) ends a run at an unknown step, so auto stays off."""
    if setting != "auto":
        return bool(setting)
    import shutil

    why_not = unsupported(model)
    if why_not is None and not any(shutil.which(cxx) for cxx in ("c++", "g++", "clang++")):
        why_not = "no C++ compiler found"
    if why_not is None and budget:
        why_not = "a FLOPs budget decides the run's length"
    if why_not is None and steps < COMPILE_PAYS_AFTER:
        why_not = f"{steps} steps, it pays after about {COMPILE_PAYS_AFTER}"
    if say:
        from r1.progress import console

        console.print(f"compile: {'off' if why_not else 'on'} (auto: {why_not or f'{steps} steps'})")
    return why_not is None


_COMPILED: dict[tuple, Callable] = {}


def _compiled(lm: FastLM, method: str) -> Callable:
    """FastLM.<method> under torch.compile, one per model shape and method per process.

    The callers mark the sizes that change as dynamic, from the first call, so one graph covers
    every batch instead of a recompile per shape. Everything else must stay a constant: with
    symbolic head counts or weight shapes inductor's kernels are not vectorised (8x slower than
    eager). So the sizes come from a closure, not from an argument, and weight shapes stay static.
    """
    key = (method, lm.n_heads, lm.n_kv, lm.head_dim, lm.eps, lm.rope_scale)
    if key not in _COMPILED:
        # Every closure below shares one code object, whose graphs count against one limit: the
        # methods, model shapes, grad modes and size-1 specialisations (a batch of one prompt) add up.
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
        sizes = copy.copy(lm)
        sizes.model = sizes.inv_freq = None  # keep the sizes, not the model
        body = getattr(FastLM, method)

        def run(*args):
            return body(sizes, *args)

        _COMPILED[key] = _clear_failure(torch.compile(run, fullgraph=True))
    return _COMPILED[key]


def _clear_failure(compiled: Callable) -> Callable:
    """A failed compile (no C++ compiler, an unsupported op) as one line that says what to do."""
    def call(*args):
        try:
            return compiled(*args)
        except (torch._dynamo.exc.TorchDynamoException, torch._inductor.exc.InductorError) as e:
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise R1Error(f"compile: torch.compile of the lean forward failed ({reason}); "
                          "set compile: false") from e
    return call


class KVCache:
    """Preallocated keys/values [rows, kv, T, d] per layer, an additive key mask (0 where a key is
    valid, -inf elsewhere) and positions."""

    def __init__(self, rows: int, kv: int, width: int, head_dim: int, layers: int, dtype, device):
        shape = (rows, kv, width, head_dim)
        self.keys = [torch.empty(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.values = [torch.empty(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.bias = torch.full((rows, width), float("-inf"), dtype=dtype, device=device)
        self.pos = torch.zeros(rows, dtype=torch.long, device=device)
        self.length = 0
        self.cos = self.sin = torch.empty(0)  # rope tables by position, set by FastLM.prefill

    def keep(self, rows: torch.Tensor) -> None:
        """Drop finished rows (rows: indices to keep), so later steps compute only live ones."""
        t = self.length
        self.keys = [k.index_select(0, rows) if t else k for k in self.keys]
        self.values = [v.index_select(0, rows) if t else v for v in self.values]
        self.bias, self.pos = self.bias.index_select(0, rows), self.pos.index_select(0, rows)
