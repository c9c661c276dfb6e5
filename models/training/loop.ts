// The trainer loop: micro-batches with gradient accumulation, LR schedule, gradient clipping,
// a NaN/Inf guard, evaluation every N steps, early stopping with the best weights kept, and
// checkpoints written in the background. Used by `troupe train`, the library tasks and the
// trainer actor.
//
// Bit-exact resumption: a checkpoint is taken at a step boundary and holds the parameters,
// the optimizer state (moments and step counts), the data sampler's state, the dropout RNG
// and the trainer's counters; the LR is a function of the step. With the same thread count
// the kernels are deterministic, so a resumed run repeats the straight run bit for bit.
//
// Data-parallel (options.gradientSync, see sync.ts): each rank backpropagates the sum of its
// token losses and the sync makes the gradients the group's mean over all tokens before
// clipping; token counts and the reported loss are the group's. Without a sync nothing here
// changes.
import type { CausalLM } from "../arch/mod.js";
import { type Optimizer, type Tensor, adamw, backward, clipGradNorm, cosineWithWarmup, sumSquares, tensor, workspace } from "../../kernels/mod.js";
import type { CheckpointRef } from "../checkpoint/mod.js";
import { DEFAULT_BETAS, hparamsOf, withHparams } from "./hparams.js";
import { CheckpointMismatchError, CheckpointWriteError, ModelConfigError, NonFiniteLossError, TrainingAbortedError } from "../errors.js";
import { modelsLogger } from "../log.js";
import { currentKernels, kernelChange } from "./determinism.js";
import { batchTensors, evalLoss } from "./evaluate.js";
import { type StepRecord, type TrainerOptions, resolveTrainer } from "./options.js";
import { type EvalPoint, TRAINER_STATE_VERSION, type TrainerState, checkTrainerState } from "./state.js";
import { pruneCheckpoints } from "../checkpoint/store.js";

export interface TrainResult {
  /** Optimizer steps done in total (resumed steps included). */
  readonly steps: number;
  /** Mean of the last (up to 50) training losses. */
  readonly trainLoss: number;
  /** The last evaluation's loss (null without evaluate). */
  readonly valLoss: number | null;
  readonly best: EvalPoint | null;
  /** Training tokens per second of this process (evaluation time excluded). */
  readonly tokensPerS: number;
  readonly tokens: number;
  readonly skippedSteps: number;
  readonly stoppedEarly: boolean;
  /** Step of the checkpoint this run resumed from, or null. */
  readonly resumedFrom: number | null;
  /** The last checkpoint written (null without checkpoints). */
  readonly checkpoint: CheckpointRef | null;
  readonly checkpointErrors: number;
  readonly evals: EvalPoint[];
  readonly wallMs: number;
}

const RECENT = 50;
/** Writes of the last step's checkpoint before the loop gives up with CheckpointWriteError. */
const FINAL_TRIES = 4;

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function decays(name: string, t: Tensor): boolean {
  return t.shape.length >= 2 && !name.startsWith("wpe.");
}

export async function train(options: TrainerOptions): Promise<TrainResult> {
  const o = resolveTrainer(options);
  const t0 = performance.now();
  const { model, batches } = options;
  const log = options.log ?? modelsLogger("trainer");
  const params = model.namedParameters().filter(([, t]) => t.requiresGrad);
  if (params.length === 0) throw new ModelConfigError("train.model", "the model has no trainable parameters (everything is frozen)");
  const opt: Optimizer = adamw(params, { lr: o.lr, weightDecay: o.weightDecay, betas: (options.betas ?? [0.9, 0.999]) as [number, number], decay: decays });
  const hparams = hparamsOf(o, (options.betas ?? DEFAULT_BETAS) as [number, number]);
  const schedule = o.warmupSteps === 0 && o.minLr === o.lr ? () => o.lr : cosineWithWarmup({ maxLr: o.lr, minLr: o.minLr, warmupSteps: o.warmupSteps, totalSteps: o.steps });
  const lossOf = options.loss ?? ((m: CausalLM, idx: Tensor, targets: Tensor) => m.loss(idx, targets).loss);
  const sync = options.gradientSync;
  sync?.attach(params);

  let st = {
    step: 0, tokens: 0, skipped: 0, nanStreak: 0, sinceBest: 0,
    best: null as EvalPoint | null, recent: [] as number[], evals: [] as EvalPoint[],
  };
  let resumedFrom: number | null = null;
  if (options.resume) {
    const ck = options.resume;
    const where = `${ck.ref.run}/${ck.ref.stage}/${ck.ref.kind}-${ck.ref.step}`;
    const s = checkTrainerState(ck.manifest.state, where);
    try {
      model.loadStateDict(ck.model);
      if (!ck.optim) throw new Error("the checkpoint has no optimizer state");
      opt.loadStateDict(ck.optim);
      batches.restore(s.data);
      model.dropoutRng.setState(s.dropoutRng as never);
    } catch (err) {
      throw new CheckpointMismatchError(`cannot resume from ${where}: ${(err as Error).message}`, { cause: err });
    }
    const k = currentKernels();
    const change = s.kernels ? kernelChange(s.kernels, k) : null;
    if (change && !change.bitwise) {
      log.warn({ saved: s.kernels, now: k, changes: change.changes },
        `resuming on other compute (${change.changes.join(", ")}): the continuation will not be bitwise identical to an uninterrupted run`);
    } else if (change && change.changes.length) {
      log.info({ saved: s.kernels, now: k, changes: change.changes }, `resuming with ${change.changes.join(", ")}: no BLAS, so results stay bitwise identical`);
    }
    if (s.totalSteps !== o.steps) log.warn({ saved: s.totalSteps, now: o.steps }, "resuming with another total step count: the LR schedule differs from the original run");
    st = { step: s.step, tokens: s.tokens, skipped: s.skipped, nanStreak: s.nanStreak, sinceBest: s.sinceBest, best: s.best, recent: [...s.recent], evals: [...s.evals] };
    resumedFrom = s.step;
    log.info({ step: s.step, checkpoint: where }, "resumed");
  }

  // best weights (trainable tensors) for early stopping's restore
  let bestWeights: Map<string, Float32Array> | null = null;
  const pending = new Set<Promise<void>>();
  // a run resumed at its last step has its final checkpoint already: the one it resumed from
  let lastCheckpoint: CheckpointRef | null = options.resume?.ref.kind === "step" ? options.resume.ref : null;
  let checkpointErrors = 0;
  let lastCheckpointError: unknown = null;
  const ck = options.checkpoints;

  const state = (): TrainerState => ({
    kind: "trainer", version: TRAINER_STATE_VERSION, step: st.step, totalSteps: o.steps,
    data: batches.state() as never, dropoutRng: model.dropoutRng.state() as never,
    tokens: st.tokens, skipped: st.skipped, nanStreak: st.nanStreak, best: st.best, sinceBest: st.sinceBest,
    recent: [...st.recent], evals: [...st.evals], kernels: currentKernels(),
  });
  const saveCheckpoint = (kind: "step" | "best") => {
    if (!ck) return;
    const metrics: Record<string, number> = { train_loss: mean(st.recent) };
    const last = st.evals[st.evals.length - 1];
    if (last) metrics.val_loss = last.loss;
    // encoded synchronously here; written while training goes on
    const write = ck.store.save(
      { run: ck.run, stage: ck.stage, step: st.step, kind, config: withHparams(ck.config, hparams), state: state() as never, metrics },
      { model: model.namedParameters(), optim: opt.stateDict(), files: ck.files ?? null },
    );
    const p: Promise<void> = write.then(
      async (ref) => {
        if (kind === "step" && (lastCheckpoint === null || ref.step >= lastCheckpoint.step)) lastCheckpoint = ref;
        await pruneCheckpoints(ck.store, ck.run, ck.stage, kind === "best" ? 1 : o.keep, kind);
      },
      (err: unknown) => {
        checkpointErrors++;
        lastCheckpointError = err;
        log.error({ err: (err as Error).message, step: st.step, kind }, "checkpoint write failed");
      },
    ).finally(() => pending.delete(p));
    pending.add(p);
  };
  const flush = async () => {
    while (pending.size) await Promise.all([...pending]);
  };

  const evaluate = (): number | null => {
    const e = options.evaluate;
    if (!e) return null;
    return e.fn ? e.fn(model) : evalLoss(model, e.batches!);
  };

  const ws = workspace();
  let computeMs = 0;
  let tokensHere = 0;
  let stoppedEarly = false;
  let valLoss: number | null = st.evals.length ? st.evals[st.evals.length - 1]!.loss : null;
  const evalEvery = options.evaluate?.every ?? 0;
  model.train();
  try {
    while (st.step < o.steps) {
      if (options.signal?.aborted) {
        // the last complete step is kept (guards #10: Ctrl-C saves): a checkpoint like the
        // periodic ones, from which --resume continues exactly
        if (ck && st.step > 0 && lastCheckpoint?.step !== st.step) saveCheckpoint("step");
        await flush();
        const saved = lastCheckpoint as CheckpointRef | null;
        throw new TrainingAbortedError(st.step, { cause: options.signal.reason, checkpoint: saved && saved.step === st.step ? saved : null });
      }
      const s0 = performance.now();
      const lr = schedule(st.step);
      opt.lr = lr;
      opt.zeroGrad();
      const micro = Array.from({ length: o.accumulate }, () => batches.next());
      const N = micro.reduce((a, b) => a + b.tokens, 0);
      let lossSum = 0;
      const lastMicro = micro.findLastIndex((b) => b.tokens > 0);
      for (const [i, b] of micro.entries()) {
        if (b.tokens === 0) continue;
        const { idx, targets } = batchTensors(b);
        // with a sync: the sum of token losses (the sync divides by the group's token count)
        const w = sync ? b.tokens : b.tokens / N;
        const hook = sync?.onGradReady && i === lastMicro ? sync.onGradReady : undefined;
        if (hook) sync!.beginBackward?.();
        lossSum += ws.run(() => {
          const loss = lossOf(model, idx, targets);
          const v = loss.item();
          backward(loss, { grad: tensor([w], loss.shape), ...(hook ? { onLeafGrad: hook } : {}) });
          return v * w;
        });
      }
      let stepTokens = N;
      if (sync) {
        const total = await sync.reduce({ tokens: N, lossSum });
        stepTokens = total.tokens;
        lossSum = total.tokens > 0 ? total.lossSum / total.tokens : 0;
      }
      const gradNorm = o.clipNorm !== null ? clipGradNorm(params, o.clipNorm) : Math.sqrt(params.reduce((a, [, t]) => a + (t.grad ? sumSquares(t.grad) : 0), 0));
      const finite = Number.isFinite(lossSum) && Number.isFinite(gradNorm);
      if (finite) {
        opt.step();
        st.nanStreak = 0;
      } else {
        opt.zeroGrad();
        st.skipped++;
        st.nanStreak++;
        log.warn({ step: st.step + 1, loss: lossSum, gradNorm }, "non-finite loss or gradient: update skipped");
      }
      st.step++;
      st.tokens += stepTokens;
      tokensHere += stepTokens;
      computeMs += performance.now() - s0;
      if (finite) {
        st.recent.push(lossSum);
        if (st.recent.length > RECENT) st.recent.shift();
      }
      const rec: StepRecord = { step: st.step, loss: lossSum, lr, gradNorm, skipped: !finite, tokens: stepTokens };
      options.onStep?.(rec);
      if (st.nanStreak >= o.maxNonFiniteSteps) throw new NonFiniteLossError(st.step, st.nanStreak);

      const timeUp = options.maxSeconds !== undefined && (performance.now() - t0) / 1000 >= options.maxSeconds;
      const last = st.step === o.steps || timeUp;
      if (evalEvery && (st.step % evalEvery === 0 || last)) {
        const v = evaluate()!;
        valLoss = v;
        st.evals.push({ step: st.step, loss: v });
        const minDelta = options.earlyStopping?.minDelta ?? 0;
        if (Number.isFinite(v) && (st.best === null || v < st.best.loss - minDelta)) {
          st.best = { step: st.step, loss: v };
          st.sinceBest = 0;
          if (options.earlyStopping?.restoreBest !== false) bestWeights = new Map(params.map(([n, t]) => [n, Float32Array.from(t.f32())]));
          if (ck && (ck.best ?? true)) saveCheckpoint("best");
        } else st.sinceBest++;
        if (options.earlyStopping && st.sinceBest >= options.earlyStopping.patience) stoppedEarly = true;
      }
      if (ck && ((ck.every > 0 && st.step % ck.every === 0) || last || stoppedEarly)) saveCheckpoint("step");
      options.onProgress?.({
        step: st.step, totalSteps: o.steps, loss: lossSum, trainLoss: mean(st.recent), valLoss, lr,
        tokensPerS: computeMs > 0 ? (tokensHere / computeMs) * 1000 : 0, elapsedMs: performance.now() - t0,
      });
      if (stoppedEarly) {
        log.info({ step: st.step, best: st.best }, "early stop: no improvement");
        break;
      }
      if (timeUp) {
        log.info({ step: st.step, seconds: options.maxSeconds }, "wall-clock budget spent");
        break;
      }
      // let checkpoint writes and signals run; while a write is in flight, give its I/O up to 1 ms
      await new Promise<void>((r) => (pending.size ? setTimeout(r, 1) : setImmediate(r)));
    }
  } finally {
    await flush();
  }
  // The final checkpoint is the last step's, or the run fails: an older one reported as final
  // would have the gate score the wrong weights (guards #16 item 4). A failed write of it is
  // written again from the weights, which have not changed since.
  for (let tries = 1; ck && st.step > 0 && lastCheckpoint?.step !== st.step; tries++) {
    if (tries > FINAL_TRIES) throw new CheckpointWriteError(st.step, FINAL_TRIES, { cause: lastCheckpointError });
    if (tries > 1) {
      log.warn({ step: st.step, try: tries }, "writing the final checkpoint again");
      await new Promise((r) => setTimeout(r, 100 * 2 ** (tries - 2)));
    }
    saveCheckpoint("step");
    await flush();
  }
  if (stoppedEarly && bestWeights && options.earlyStopping?.restoreBest !== false) {
    for (const [n, t] of params) t.f32().set(bestWeights.get(n)!);
  }
  return {
    steps: st.step, trainLoss: mean(st.recent), valLoss, best: st.best,
    tokensPerS: computeMs > 0 ? (tokensHere / computeMs) * 1000 : 0, tokens: st.tokens,
    skippedSteps: st.skipped, stoppedEarly, resumedFrom, checkpoint: lastCheckpoint, checkpointErrors,
    evals: st.evals, wallMs: performance.now() - t0,
  };
}
