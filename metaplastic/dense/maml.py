"""MAML for reinforcement learning (Finn et al. 2017) in the ``torch`` backend.

An MLP policy ``π_θ`` is adapted to a task by ``inner_steps`` policy-gradient steps on the
episodes it has just played::

    θ' = θ − α ∇_θ L(θ; τ),   L = −Σ_t log π_θ(a_t | s_t) Â_t / |τ|

where ``Â_t`` are the episode's rewards-to-go minus a linear feature baseline fitted on
that episode alone (as in MAML's experiments), standardized. The inner step is functional
(``torch.func.grad``, vectorized over tasks with ``torch.func.vmap``). The outer loop
maximizes the post-adaptation return: it plays a pre-adaptation episode per task,
adapts, plays a post-adaptation episode with ``θ'`` and takes an Adam step on the
post-adaptation policy-gradient loss, differentiating through the inner step
(``first_order=True`` drops those second-order terms). ``adapt="head"`` adapts only the
output layer — a sparse meta-update that cuts the inner loop's cost. The learning rate
follows the shared outer loop's schedule fraction (progress in updates); a non-finite
loss or gradient norm raises :class:`~metaplastic.errors.TrainingDiverged` before the
Adam step, non-finite parameters after it (before any callback sees the update).

An agent adapts at ``end_episode`` (after every episode of its trial).

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("torch", algo="maml", mlp_hidden=16, batch_tasks=4)
    >>> learner.meta_train(metaplastic.make_tasks("nav2d:n=2,max_steps=20"), budget=1, seed=0).progress.updates
    1
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from metaplastic.nn.ops import step_ops
from metaplastic.core import OpCounts
from metaplastic.runtime.encoding import encode_space, space_width
from metaplastic.errors import ConfigError
from metaplastic.nn.advantages import gae
from metaplastic.nn.finite import check_step, nonfinite_parameters
from metaplastic.nn.heads import make_head
from metaplastic.runtime.vector import drive_trials
from metaplastic.training.divergence import lr_hint, require_finite
from metaplastic.training.outer import run_outer_loop
from metaplastic.training.params import lr_at
from metaplastic.training.budget import Budget
from metaplastic.nn.shards import is_sharded, shard_jobs, sharded_gradients
from metaplastic.training.state import TrainProgress, TrainState



class MLPPolicy(nn.Module):
    """Observation -> two tanh layers -> action head."""

    def __init__(self, observation_space: Any, action_space: Any, hidden: int = 64):
        super().__init__()
        self.observation_space = observation_space
        self.obs_width = space_width(observation_space)
        self.body = nn.Sequential(nn.Linear(self.obs_width, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.head = make_head(action_space, hidden)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(obs))

    def encode(self, obs: Any) -> torch.Tensor:
        x = np.asarray(obs)
        return torch.as_tensor(encode_space(self.observation_space, x, x.shape[0]), device=next(self.parameters()).device)

    def linear_layers(self) -> list[nn.Linear]:
        return [m for m in self.modules() if isinstance(m, nn.Linear)]


def rewards_to_go(rewards: torch.Tensor, mask: torch.Tensor, gamma: float = 0.99) -> torch.Tensor:
    """Discounted rewards-to-go along dim 0: the trainer's GAE with no baseline and λ = 1."""
    return gae(rewards, torch.zeros_like(rewards), mask, gamma=gamma, lam=1.0)[0]


def linear_baseline_advantages(rewards: torch.Tensor, obs: torch.Tensor, mask: torch.Tensor, *, ridge: float = 1e-2
                               ) -> torch.Tensor:
    """Advantages against MAML's linear feature baseline (Duan et al. 2016's benchmark, used
    by Finn et al. 2017), fitted per task on that task's own steps: rewards-to-go regressed
    on ``[obs, obs², t, t², t³, 1]``; the residuals, standardized per task. ``(T, B)``
    rewards and mask, ``(T, B, D)`` observations."""
    with torch.no_grad():
        return _linear_baseline_advantages(rewards.double(), obs.double(), mask.double(), ridge).to(rewards.dtype)


def _linear_baseline_advantages(rewards: torch.Tensor, obs: torch.Tensor, mask: torch.Tensor, ridge: float) -> torch.Tensor:
    ret = rewards_to_go(rewards, mask)
    T = rewards.shape[0]
    t = (torch.arange(T, dtype=rewards.dtype, device=rewards.device) / 100.0)[:, None].expand_as(rewards)
    obs = obs.clamp(-10, 10)
    feats = torch.cat([obs, obs.pow(2), t[..., None], t[..., None].pow(2), t[..., None].pow(3),
                       torch.ones_like(t)[..., None]], dim=-1) * mask[..., None]
    A = feats.permute(1, 0, 2)  # (B, T, F)
    y = (ret * mask).T[..., None]
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    coef = torch.linalg.solve(A.transpose(1, 2) @ A + ridge * eye, A.transpose(1, 2) @ y)
    adv = (ret - (A @ coef)[..., 0].T) * mask
    n = mask.sum(0).clamp_min(1.0)
    mean = adv.sum(0) / n
    std = (((adv - mean) * mask).pow(2).sum(0) / n).sqrt().clamp_min(1e-6)
    return (adv - mean) / std * mask


def batch_baseline_advantages(rewards: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The outer loop's advantages: rewards-to-go minus their mean over the batch's tasks at
    the same step, scaled to unit spread (the outer loop sees every task of its batch)."""
    ret = rewards_to_go(rewards, mask)
    n = mask.sum(1, keepdim=True).clamp_min(1.0)
    adv = (ret - (ret * mask).sum(1, keepdim=True) / n) * mask
    return adv / (adv.pow(2).sum() / mask.sum().clamp_min(1.0)).sqrt().clamp_min(1e-6)


class MAMLCore:
    """The functional pieces shared by meta-training and agents."""

    def __init__(self, model: MLPPolicy, config: dict[str, Any]):
        self.model, self.config = model, config
        names = [n for n, _ in model.named_parameters()]
        self.adapted = [n for n in names if config["adapt"] == "all" or n.startswith("head.")]

    def loss(self, params: dict[str, torch.Tensor], obs: torch.Tensor, actions: torch.Tensor, adv: torch.Tensor,
             mask: torch.Tensor) -> torch.Tensor:
        """Policy-gradient loss of one task's steps (``(T, ...)`` tensors)."""
        out = functional_call(self.model, params, (obs,))
        logp = self.model.head.log_prob(out, actions)
        return -(logp * adv * mask).sum() / mask.sum().clamp_min(1.0)

    def adapt(self, params: dict[str, torch.Tensor], obs, actions, adv, mask, *, create_graph: bool) -> dict[str, torch.Tensor]:
        """``inner_steps`` steps for a batch of tasks: tensors ``(T, B, ...)``, params with
        a leading task axis ``B`` (or shared, broadcast)."""
        fast = dict(params)
        for _ in range(self.config["inner_steps"]):
            batched = {k: v for k, v in fast.items() if v.dim() > 0 and v.shape[0] == obs.shape[1] and k in self._batched}
            in_dims = ({k: (0 if k in batched else None) for k in fast}, 1, 1, 1, 1)
            g = vmap(grad(self.loss), in_dims=in_dims)(fast, obs, actions, adv, mask)
            new = {}
            for k, v in fast.items():
                if k in self.adapted:
                    step = g[k] if create_graph else g[k].detach()
                    base = v if k in batched else v.unsqueeze(0).expand_as(g[k])
                    new[k] = base - self.config["inner_lr"] * step
                    self._batched.add(k)
                else:
                    new[k] = v
            fast = new
        return fast

    def forward_lanes(self, params: dict[str, torch.Tensor], obs: torch.Tensor) -> torch.Tensor:
        """Distribution parameters for ``(B, D)`` observations, lane ``b`` using its own
        adapted parameters where they have a lane axis."""
        batched = {k for k in params if k in self._batched}
        in_dims = ({k: (0 if k in batched else None) for k in params}, 0)
        return vmap(lambda p, o: functional_call(self.model, p, (o[None],))[0], in_dims=in_dims)(params, obs)

    def new_lanes(self) -> None:
        """Forget which parameters carry a lane axis (start from the shared θ)."""
        self._batched: set[str] = set()


class MAMLShard:
    """One shard's meta-loss (a :data:`~metaplastic.nn.shards.ShardLoss`): a job is
    ``(tasks, task_seed, rng_seed)``; its weight is its number of post-adaptation steps
    (the loss is their mean)."""

    def __init__(self, algo: "MAML", tasks: Any):
        self.algo, self.tasks = algo, tasks

    def __call__(self, model: "MLPPolicy", job: tuple[int, int, int]) -> tuple[torch.Tensor, dict[str, Any], float]:
        n, task_seed, rng_seed = job
        task_list = self.tasks.sample(n, seed=task_seed, split="train")
        return self.algo.loss(MAMLCore(model, self.algo.config), self.tasks, task_list, np.random.default_rng(rng_seed))


class MAML:
    """MAML as an algorithm object (the interface of :class:`metaplastic.rl2.algorithm.RL2`):
    builds the MLP policy, trains it by meta-gradients and makes adapting agents. It holds
    no training state."""

    def __init__(self, config: Any, device: str = "cpu"):
        self.config, self.device = config, device

    def build(self, tasks: Any) -> MLPPolicy:
        torch.manual_seed(self.config["seed"])
        return MLPPolicy(tasks.observation_space, tasks.action_space, self.config["mlp_hidden"]).to(self.device)

    def fits(self, model: MLPPolicy, tasks: Any) -> bool:
        other = MLPPolicy(tasks.observation_space, tasks.action_space, self.config["mlp_hidden"])
        return [p.shape for p in other.parameters()] == [p.shape for p in model.parameters()]

    def init_state(self, model: MLPPolicy, *, seed: int, optimizer_state: Any = None,
                   progress: TrainProgress | None = None) -> TrainState:
        optimizer = torch.optim.Adam(model.parameters(), lr=self.config["lr"])
        if optimizer_state is not None:
            optimizer.load_state_dict(optimizer_state)
        return TrainState(seed=seed, params=model, optimizer=optimizer, progress=progress or TrainProgress())

    # -- meta-training ----------------------------------------------------------------------
    def _rollout(self, core: MAMLCore, params: dict[str, torch.Tensor], tasks: Any, task_list: list, rng: np.random.Generator,
                 env_seed: int) -> tuple[dict[str, torch.Tensor], torch.Tensor, np.ndarray]:
        """One episode per task; returns the step tensors, the log-probs (with graph) and returns."""
        model, head = core.model, core.model.head
        venv = tasks.make_vector_env(task_list)
        obs_l, act_l, rew_l, mask_l, logp_l = [], [], [], [], []
        last: dict[str, Any] = {}

        def act(obs: np.ndarray, decide: np.ndarray) -> np.ndarray:
            x = model.encode(obs)
            out = core.forward_lanes(params, x)
            a = head.sample(out, rng)
            if a.dtype.kind == "f":
                require_finite(a, "the policy's actions")
            obs_l.append(x)
            act_l.append(torch.as_tensor(np.asarray(a), dtype=torch.float32 if a.dtype.kind == "f" else torch.int64))
            logp_l.append(head.log_prob(out, a))
            mask_l.append(torch.as_tensor(decide, dtype=torch.float32))
            last["a"] = head.to_env(a)
            return last["a"]

        def observe(obs, actions, rewards, next_obs, term, trunc, decide) -> None:
            rew_l.append(torch.as_tensor(np.where(decide, rewards, 0.0), dtype=torch.float32))

        try:
            returns = drive_trials(venv, 1, env_seed=env_seed, act=act, observe=observe)
        finally:
            venv.close()
        dev = self.device
        steps = {"obs": torch.stack(obs_l), "actions": torch.stack(act_l).to(dev), "rewards": torch.stack(rew_l).to(dev),
                 "mask": torch.stack(mask_l).to(dev)}
        return steps, torch.stack(logp_l), returns[:, 0]

    def loss(self, core: MAMLCore, tasks: Any, task_list: list, rng: np.random.Generator
             ) -> tuple[torch.Tensor, dict[str, Any], float]:
        """The meta-loss of ``task_list`` (adapt on one episode each, then play one with
        the adapted parameters), its metrics and its weight, the post-adaptation steps (a
        :data:`~metaplastic.nn.shards.ShardLoss`): one update's work, or one shard's."""
        params = dict(core.model.named_parameters())
        core.new_lanes()
        with torch.no_grad():
            pre, _, pre_ret = self._rollout(core, params, tasks, task_list, rng, int(rng.integers(2**31)))
        adv = linear_baseline_advantages(pre["rewards"], pre["obs"], pre["mask"])
        fast = core.adapt(params, pre["obs"], pre["actions"], adv, pre["mask"], create_graph=not self.config["first_order"])
        post, logp, post_ret = self._rollout(core, fast, tasks, task_list, rng, int(rng.integers(2**31)))
        post_adv = batch_baseline_advantages(post["rewards"], post["mask"])
        loss = -(logp * post_adv * post["mask"]).sum() / post["mask"].sum().clamp_min(1.0)
        return loss, {"trial_return": float(pre_ret.mean() + post_ret.mean()),
                      "pre_adaptation_return": float(pre_ret.mean()), "post_adaptation_return": float(post_ret.mean())
                      }, float(post["mask"].sum())

    def train(self, state: TrainState, tasks: Any, *, budget: Any, callback: Callable[..., Any] | None = None,
              show_progress: bool = True) -> TrainState:
        """Meta-gradient updates until ``budget``; returns ``state`` advanced. With ``shards``
        > 1 the batch is split over the workers of ``executor``
        (:mod:`metaplastic.nn.shards`)."""
        model, optimizer, cfg = state.params, state.optimizer, self.config
        core = MAMLCore(model, cfg)
        hint = lr_hint(cfg["lr"], "max_grad_norm", inner_lr=cfg["inner_lr"])

        def step(fraction: float, compute: Callable[[np.random.Generator], tuple[torch.Tensor, dict[str, Any]]],
                 rng: np.random.Generator) -> tuple[dict[str, Any], int]:
            if cfg["lr_schedule"] != "constant":
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(cfg["lr"], cfg["lr_schedule"], fraction)
            optimizer.zero_grad(set_to_none=True)
            loss, metrics = compute(rng)
            loss_value, _ = check_step(loss, torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["max_grad_norm"]), hint)
            optimizer.step()
            return {**metrics, "loss": loss_value}, cfg["batch_tasks"]

        def local(rng: np.random.Generator) -> tuple[torch.Tensor, dict[str, Any]]:
            task_list = tasks.sample(cfg["batch_tasks"], seed=int(rng.integers(2**62)), split="train")
            loss, metrics, _ = self.loss(core, tasks, task_list, rng)
            loss.backward()
            return loss, metrics

        def run(compute: Callable[..., Any]) -> TrainState:
            return run_outer_loop(lambda rng, fraction: step(fraction, compute, rng), label="maml", budget=budget,
                                  state=state, callback=callback, show_progress=show_progress,
                                  seed_framework=torch.manual_seed, check=lambda s: nonfinite_parameters(s.params),
                                  hint=hint)

        model.train()
        try:
            if not is_sharded(cfg["shards"], cfg["executor"], self.device):
                return run(local)
            jobs = lambda rng: shard_jobs(rng, cfg["batch_tasks"], cfg["shards"], 2)  # noqa: E731
            timed = Budget.parse(budget).first_update_sets_horizon(state.progress.horizon)
            # under a time budget, the workers' start-up runs before the clock (it would fix a short horizon)
            with sharded_gradients(model, MAMLShard(self, tasks), executor=cfg["executor"], workers=cfg["workers"],
                                   warm_jobs=jobs(np.random.default_rng(0)) if timed else None) as sharded:
                return run(lambda rng: sharded(jobs(rng)))
        finally:
            model.eval()

    def vector_agent(self, model: MLPPolicy, tasks: Any, num_lanes: int) -> "MAMLVectorAgent":
        return MAMLVectorAgent(MAMLCore(model, self.config), num_lanes)


class MAMLVectorAgent:
    """``num_lanes`` MAML agents: each starts from θ and adapts after every episode."""

    def __init__(self, core: MAMLCore, num_lanes: int):
        self.core, self.num_lanes = core, int(num_lanes)
        self.model = core.model
        self.counts = OpCounts()
        layers = self.model.linear_layers()
        self._forward = step_ops(layers, 1)
        head_layers = [m for m in self.model.head.modules() if isinstance(m, nn.Linear)]
        self._grad_layers = layers if core.config["adapt"] == "all" else head_layers

    def reset(self, seeds: Any) -> None:
        seeds = [int(s) for s in np.asarray(seeds, dtype=np.uint64).ravel()]
        self.rng = np.random.default_rng(np.random.SeedSequence(seeds))
        self.counts = OpCounts()
        self.core.new_lanes()
        self.params = {k: v.detach() for k, v in self.model.named_parameters()}
        self.episode: list[list[tuple[np.ndarray, np.ndarray, float]]] = [[] for _ in range(self.num_lanes)]
        self._obs = None

    def act(self, obs: Any, active: Any) -> np.ndarray:
        active = np.asarray(active, dtype=bool)
        with torch.no_grad():
            out = self.core.forward_lanes(self.params, self.model.encode(obs))
        n = int(active.sum())
        self.counts = self.counts + OpCounts(macs=self._forward.macs * n, acs=self._forward.acs * n,
                                             mem_bytes=self._forward.mem_bytes * n, decisions=n)
        self._sampled = self.model.head.sample(out, self.rng)
        return self.model.head.to_env(self._sampled)

    def observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        x = np.asarray(obs)
        for lane in np.flatnonzero(np.asarray(active, dtype=bool)):
            self.episode[lane].append((x[lane], self._sampled[lane], float(rewards[lane])))

    def end_episode(self, mask: Any) -> None:
        lanes = [int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool)) if self.episode[int(i)]]
        if not lanes:
            return
        T = max(len(self.episode[i]) for i in lanes)
        obs = np.zeros((T, len(lanes), *np.shape(self.episode[lanes[0]][0][0])))
        act = np.zeros((T, len(lanes), *np.shape(self.episode[lanes[0]][0][1])))
        rew = np.zeros((T, len(lanes)))
        msk = np.zeros((T, len(lanes)))
        for j, lane in enumerate(lanes):
            for t, (o, a, r) in enumerate(self.episode[lane]):
                obs[t, j], act[t, j], rew[t, j], msk[t, j] = o, a, r, 1.0
            self.episode[lane] = []
        x = self.model.encode(obs.reshape(T * len(lanes), *obs.shape[2:])).reshape(T, len(lanes), -1)
        a_t = torch.as_tensor(act, dtype=torch.float32 if act.dtype.kind == "f" and self._sampled.dtype.kind == "f" else torch.int64)
        rew_t, msk_t = torch.as_tensor(rew, dtype=torch.float32), torch.as_tensor(msk, dtype=torch.float32)
        adv = linear_baseline_advantages(rew_t, x, msk_t)
        idx = torch.as_tensor(lanes)
        sub = {k: (v[idx] if k in self.core._batched else v) for k, v in self.params.items()}
        saved = set(self.core._batched)
        with torch.enable_grad():
            fast = self.core.adapt(sub, x, a_t, adv, msk_t, create_graph=False)
        for k in self.core.adapted:
            base = self.params[k] if k in saved else self.params[k].unsqueeze(0).expand(self.num_lanes, *self.params[k].shape)
            full = base.clone()
            full[idx] = fast[k].detach()
            self.params[k] = full
        self.core._batched = saved | set(self.core.adapted)
        steps = int(msk.sum()) * self.core.config["inner_steps"]
        grad_ops = step_ops(self._grad_layers, 1)
        # per step: a forward pass, and a backward pass of about twice the adapted layers' MACs
        self.counts = self.counts + OpCounts(macs=steps * (self._forward.macs + 2 * grad_ops.macs),
                                             mem_bytes=steps * (self._forward.mem_bytes + grad_ops.mem_bytes))

    def ops(self) -> OpCounts:
        return OpCounts(**self.counts.as_dict())
