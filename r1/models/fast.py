"""A lean forward for Llama-family decoders (Llama, Qwen2, Mistral) on the model's own parameters.

Why it exists: for a model of a few million parameters on a CPU, a Hugging Face forward spends more
time in module calls, mask building and cache bookkeeping than in matrix products. This path does
the same arithmetic with fused projections (q|k|v and gate|up as one matmul each) and adds two
things `model(...)` cannot do:

- Shared prompts. The G completions of a GRPO group (or the k samples of pass@k) share one prompt:
  its tokens go through the network once and every completion attends to those keys and values.
  Gradients flow back through the shared copy, so the result equals G separate forwards.
- A preallocated KV cache for decoding (see r1.rollout.fast).

It reads the weights of the module it wraps at every call, so it always sees the current policy,
and autograd reaches the real parameters. Anything it does not reproduce exactly (other
architectures, rope scaling, sliding windows, peft adapters, DDP/FSDP wrappers) makes `unsupported`
return a reason, and callers use the plain Hugging Face forward instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from r1.models.weights import sharding

FAMILIES = ("llama", "qwen2", "mistral")


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
    if inner is None or not hasattr(inner, "layers") or not hasattr(model, "lm_head"):
        return "no model.layers / lm_head"
    kind = sharding(model)
    if kind:
        return f"parameters sharded over processes ({kind})"
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and type(module) is not torch.nn.Linear:
            return f"{name} is a {type(module).__name__} (adapter?)"
        if "lora" in name.lower():
            return f"{name} looks like an adapter"
    return None


@dataclass
class LayerWeights:
    qkv_w: torch.Tensor  # [(h + 2 kv) * d, H]
    qkv_b: torch.Tensor | None
    o_w: torch.Tensor  # [H, h * d]
    o_b: torch.Tensor | None
    gate_up_w: torch.Tensor  # [2 I, H]
    down_w: torch.Tensor  # [H, I]
    norm1: torch.Tensor  # [H]
    norm2: torch.Tensor  # [H]


def _cat_bias(*linears) -> torch.Tensor | None:
    biases = [lin.bias for lin in linears]
    if all(b is None for b in biases):
        return None
    return torch.cat([b if b is not None else torch.zeros(lin.out_features, dtype=lin.weight.dtype,
                                                           device=lin.weight.device)
                      for b, lin in zip(biases, linears)])


class FastLM:
    """The lean forward of one Llama-family model; see the module doc."""

    def __init__(self, model):
        reason = unsupported(model)
        if reason:
            raise ValueError(f"lean forward: unsupported model: {reason}")
        cfg = model.config
        self.model = model
        self.n_heads = cfg.num_attention_heads
        self.n_kv = getattr(cfg, "num_key_value_heads", None) or self.n_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_heads
        self.eps = cfg.rms_norm_eps
        rotary = model.model.rotary_emb
        self.inv_freq = rotary.inv_freq  # [d / 2]
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0))

    def weights(self) -> list[LayerWeights]:
        """Fused per-layer weights; built from the live parameters, so autograd reaches them."""
        out = []
        for layer in self.model.model.layers:
            att, mlp = layer.self_attn, layer.mlp
            out.append(LayerWeights(
                torch.cat([att.q_proj.weight, att.k_proj.weight, att.v_proj.weight]),
                _cat_bias(att.q_proj, att.k_proj, att.v_proj), att.o_proj.weight, att.o_proj.bias,
                torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]), mlp.down_proj.weight,
                layer.input_layernorm.weight, layer.post_attention_layernorm.weight))
        return out

    # -- pieces -------------------------------------------------------------------------------

    def norm(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:  # one fused op, bit-identical to the lines below in float32
            return F.rms_norm(x, (x.shape[-1],), weight, self.eps)
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * x.to(dtype)

    def rope(self, positions: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and signed sin [..., d] for positions [...] (see `rotate`)."""
        freqs = positions[..., None].float() * self.inv_freq.float()  # [..., d / 2]
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
        qkv = F.linear(x, w.qkv_w, w.qkv_b).view(b, t, h + 2 * kv, d).transpose(1, 2)  # [B, h + 2 kv, T, d]
        qk = self.rotate(qkv[:, : h + kv], cos, sin)  # queries and keys rotated together
        return qk[:, :h], qk[:, h:], qkv[:, h + kv :]

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[B, h, T, d] queries over [B, kv, S, d] keys with a boolean mask [B, 1, T, S] -> [B, T, h d]."""
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=self.n_kv != self.n_heads)
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
        gate, up = F.linear(x, w.gate_up_w).chunk(2, dim=-1)
        return F.linear(F.silu(gate) * up, w.down_w)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model.model.embed_tokens(ids)

    def head(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of hidden states x [..., H] (final norm, then lm_head)."""
        return self.model.lm_head(self.norm(x, self.model.model.norm.weight))

    # -- training / scoring -------------------------------------------------------------------

    def shared_prompt_logits(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor,
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
        xp, xc = self.embed(prompt_ids), self.embed(completion_ids)  # [U, P, H], [B, L, H]
        cos_p, sin_p = (r[:, None] for r in self.rope(p_pos, xp.dtype))  # [U, 1, P, d]
        cos_c, sin_c = (r[:, None] for r in self.rope(c_pos, xc.dtype))  # [B, 1, L, d]
        for w in self.weights():
            qp, kp, vp = self.qkv(self.norm(xp, w.norm1), w, cos_p, sin_p)
            qc, kc, vc = self.qkv(self.norm(xc, w.norm1), w, cos_c, sin_c)
            keys = torch.cat([kp.index_select(0, prompt_index), kc], dim=2)  # [B, kv, P + L, d]
            values = torch.cat([vp.index_select(0, prompt_index), vc], dim=2)
            xp = xp + F.linear(self.attend(qp, kp, vp, mask_p[:, None]), w.o_w, w.o_b)
            xc = xc + F.linear(self.attend(qc, keys, values, mask_c[:, None]), w.o_w, w.o_b)
            xp = xp + self.mlp(self.norm(xp, w.norm2), w)
            xc = xc + self.mlp(self.norm(xc, w.norm2), w)
        last = xp[:, -1:].index_select(0, prompt_index)  # [B, 1, H]; prompts are left-padded
        return self.head(torch.cat([last, xc[:, :-1]], dim=1))  # [B, L, V]

    # -- decoding -----------------------------------------------------------------------------

    def prefill(self, ws: list[LayerWeights], prompt_ids: torch.Tensor, prompt_mask: torch.Tensor,
                n: int, max_new: int) -> tuple[torch.Tensor, "KVCache"]:
        """Run U distinct prompts once; returns last-position logits [U, V] and a cache of U * n rows
        (prompt-major: row i * n + j is sample j of prompt i) with room for max_new tokens."""
        u, p = prompt_ids.shape
        dev = prompt_ids.device
        valid = prompt_mask.bool()
        mask = ((torch.ones(p, p, dtype=torch.bool, device=dev).tril() & valid[:, None, :])
                | torch.eye(p, dtype=torch.bool, device=dev))[:, None]  # [U, 1, P, P]
        x = self.embed(prompt_ids)  # [U, P, H]
        cos, sin = (r[:, None] for r in self.rope((prompt_mask.cumsum(-1) - 1).clamp(min=0), x.dtype))
        cache = KVCache(u * n, self.n_kv, p + max_new, self.head_dim, len(ws), x.dtype, dev)
        cache.cos, cache.sin = self.rope(torch.arange(p + max_new, device=dev), x.dtype)  # [P + max_new, d]
        cache.bias[:, :p].masked_fill_(valid.repeat_interleave(n, 0), 0.0)
        cache.pos = prompt_mask.sum(-1).repeat_interleave(n, 0)  # [U n] position of the next token
        for layer, w in enumerate(ws):
            q, k, v = self.qkv(self.norm(x, w.norm1), w, cos, sin)
            cache.keys[layer][:, :, :p] = k.repeat_interleave(n, 0)
            cache.values[layer][:, :, :p] = v.repeat_interleave(n, 0)
            x = x + F.linear(self.attend(q, k, v, mask), w.o_w, w.o_b)
            x = x + self.mlp(self.norm(x, w.norm2), w)
        cache.length = p
        return self.head(x[:, -1]), cache

    def step(self, ws: list[LayerWeights], tokens: torch.Tensor, cache: "KVCache") -> torch.Tensor:
        """Feed one token per row [b]; returns next-token logits [b, V] and advances the cache."""
        t = cache.length
        x = self.embed(tokens[:, None])  # [b, 1, H]
        cos, sin = cache.cos[cache.pos][:, None, None], cache.sin[cache.pos][:, None, None]  # [b, 1, 1, d]
        cache.bias[:, t] = 0.0
        bias = cache.bias[:, None, None, : t + 1]  # [b, 1, 1, t + 1]
        for layer, w in enumerate(ws):
            q, k, v = self.qkv(self.norm(x, w.norm1), w, cos, sin)
            keys, values = cache.keys[layer], cache.values[layer]
            keys[:, :, t] = k[:, :, 0]
            values[:, :, t] = v[:, :, 0]
            x = x + F.linear(self.attend_one(q, keys[:, :, : t + 1], values[:, :, : t + 1], bias), w.o_w, w.o_b)
            x = x + self.mlp(self.norm(x, w.norm2), w)
        cache.length, cache.pos = t + 1, cache.pos + 1
        return self.head(x[:, 0])


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
