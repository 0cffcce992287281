"""Group-relative advantages: each completion's reward compared with its siblings for the same prompt.

Rewards arrive flat, shaped [num_prompts * G], with the G completions of one prompt contiguous
(prompt 0's G, then prompt 1's G, ...), which is how the rollout engine returns them.

How this differs from textbook GRPO (DeepSeekMath, eq. 3: A_i = (r_i - mean(r)) / std(r)):
- std is the *unbiased* sample std (divides by G - 1), like `torch.std` and TRL's GRPOTrainer;
  for G = 4 and rewards [1, 0, 0, 0] that gives A = [1.5, -0.5, -0.5, -0.5] (population std would
  give [1.73, -0.58, -0.58, -0.58]). G < 2 is refused: one completion has nothing to compare with.
- eps (default 1e-4, as TRL) is added to std, so near-equal rewards do not blow up.
- a group whose rewards are all exactly equal gets advantages of exactly 0, not 0/eps noise or NaN.
- `scale_rewards` (TRL's name and values): "group" divides by each group's std (GRPO); "none" skips
  the division (Dr. GRPO: the std division up-weights prompts that are nearly always right or nearly
  always wrong, a question-level difficulty bias); "batch" divides every group's centred rewards by
  one std, of all the batch's rewards (PPO-Lite; TRL's "batch"), so prompts keep their relative scale.
  With several processes the batch is every process's rewards (`batch_std`), as in TRL.
"""

from __future__ import annotations

import torch


def grouped(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """View flat rewards [num_prompts * G] as [num_prompts, G], as float; refuse bad shapes."""
    if group_size < 2:
        raise ValueError(f"group_size (G) must be >= 2 to compare completions, got {group_size}")
    rewards = torch.as_tensor(rewards)
    if rewards.dim() != 1 or rewards.numel() % group_size != 0:
        raise ValueError(f"rewards must be flat with a length divisible by G={group_size}, "
                         f"got shape {tuple(rewards.shape)}")
    if not rewards.is_floating_point():
        rewards = rewards.float()
    return rewards.view(-1, group_size)  # [num_prompts, G]


def group_all_equal(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """Bool mask [num_prompts]: True where all G rewards of a prompt are equal (zero signal).

    DAPO's dynamic sampling drops these groups (all right or all wrong) and samples more prompts,
    so every group in the batch carries a gradient.
    """
    r = grouped(rewards, group_size)  # [num_prompts, G]
    return r.amax(dim=1) == r.amin(dim=1)  # [num_prompts]


SCALE_REWARDS = ("group", "batch", "none")


def group_advantages(rewards: torch.Tensor, group_size: int, *, scale_rewards: str = "group",
                     eps: float = 1e-4, batch_std: float | None = None) -> torch.Tensor:
    """Advantages [num_prompts * G]: (r - group mean) / (unbiased std + eps), or without the division.

    Args:
        rewards: [num_prompts * G] rewards, each prompt's G completions contiguous.
        group_size: G, completions per prompt (>= 2).
        scale_rewards: "group" (the group's std), "batch" (the std of all rewards) or "none".
        eps: added to the std before dividing.
        batch_std: with "batch", the std of every process's rewards; None: of `rewards`.
    """
    r = grouped(rewards, group_size)  # [num_prompts, G]
    centered = r - r.mean(dim=1, keepdim=True)  # [num_prompts, G]
    if scale_rewards == "group":
        std = r.std(dim=1, keepdim=True)  # [num_prompts, 1], unbiased (divides by G - 1)
        centered = centered / (std + eps)  # [num_prompts, G]
    elif scale_rewards == "batch":
        std = r.std() if batch_std is None else torch.tensor(batch_std)  # [], unbiased
        centered = centered / (std + eps)  # [num_prompts, G]
    elif scale_rewards != "none":
        raise ValueError(f"scale_rewards must be one of {SCALE_REWARDS}, got {scale_rewards!r}")
    equal = group_all_equal(r.view(-1), group_size)[:, None]  # [num_prompts, 1]
    centered = torch.where(equal, torch.zeros_like(centered), centered)  # [num_prompts, G]
    return centered.reshape(-1)  # [num_prompts * G]
