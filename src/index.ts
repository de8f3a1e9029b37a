// The kit's public API: what notebooks, scripts and users import (from the built dist/, or src/ through tsx).
export * as tf from '@tensorflow/tfjs';
export { initBackend, currentBackend, loadModelOnBackend, BACKENDS, BackendName, BackendInfo, PlacedModel } from './backend';
export { KitError } from './errors';
export { Rng } from './rng';
export * from './config';

// The LM core
export { DecoderConfig, loadHfConfig, parseHfConfig, toHfConfig, expectedWeights } from './lm/config';
export { Decoder, KVCache, ForwardOutput } from './lm/model';
export { loadModel, saveModel, LoadedModel } from './lm/load';
export { loadTokenizer, writeCharTokenizer, Tokenizer, ChatMessage } from './lm/tokenizer';
export { temperatureLogSoftmax, tokenLogProbs, sampleTokens } from './lm/sampling';
export { readSafetensors, writeSafetensors } from './lm/safetensors';
export { loadCheckpoint as loadModelCheckpoint, loadModelWeights, saveModelFolder } from './lm/checkpoint';
export { convertLlama2c, readLlama2cCheckpoint, readLlama2cTokenizer, llama2cTokenizerFiles } from './lm/llama2c';

// Tasks, data and the verifier
export { getTask, taskNames, taskFromConfig } from './tasks/registry';
export { createBenchmarkTask, BenchmarkTaskOptions, DEFAULT_INSTRUCTION } from './tasks/benchmark-task';
export { EvalSet, Problem, Task, SYNTHETIC_CHARSET } from './tasks/types';
export { verifyCompletion, verifyDetailed, verifyCases, extractAnswer, isEquivalent, DetailedVerdict } from './tasks/verifier';
export { loadBenchmark, BENCHMARKS } from './tasks/benchmarks';
export { storiesTask, verifyStory, StoryVerdict, englishLexicon, storyWords, cutAtSentenceEnd, MIN_WORDS, REPEAT_NGRAM } from './tasks/stories';
export * from './eval/metrics';
export { evaluate, evaluateSets, EvalResult, TokenTrace } from './eval/evaluate';
export { pieceTraces } from './eval/piece-traces';

// Temperature policies and RL
export * from './policy';
export { rollout, Rollout, RolloutRequest, completionIds } from './rl/rollout';
export { computeAdvantages, policyLoss, aggregateLoss, createParamGroup } from './rl/grpo';
export { grpoUpdate, rolloutForward } from './rl/grpo-step';
export { phaseAt, Phase } from './rl/schedule';
export { encodePrompt, encodeExample, problemPromptIds } from './rl/sft';
export { openRun, trainStep, trainRun, evaluateRun, evaluatePolicy, evaluates, closeRun, stepProblems, scoreRollout, Run } from './rl/trainer';
export { generateText, fixedTauSweep, fmtInterval, storiesRunConfig, SweepRow, StoriesRunOptions } from './experiments/adapt';
export { methodOverride } from './experiments/methods';
export { ABLATION_GRIDS, ablationGrid, loadAblationGridFile } from './experiments/ablations';
export { SELECTION_GRIDS, selectionGrid, loadSelectionGridFile } from './experiments/selection';
export { reproduce, REPRODUCE_PRESETS, DEFAULT_METHODS, runDirOf, readEval } from './experiments/reproduce';
export { readMethodTraces, readRunMetrics, readAblationTables, readSummary } from './experiments/run-files';
export { packResults, readResultText } from './io/packed';
export {
  modelOrRandom,
  tauInputsOf,
  headVariantSummary,
  evaluateControllers,
  evaluateTraces,
  fixedTauSamples,
  RANDOM_MODEL_SHAPE,
  ControllerSpec,
  FixedTauSamples,
} from './experiments/notebook';
export { summariseMethod, summaryTable, benchmarkTable, MethodSummary } from './experiments/summary';
export { runKnownAnswer, knownAnswerTable, KnownAnswerSummary } from './experiments/known-answer';
export { runInstruments, INSTRUMENT_PARTS } from './experiments/instruments';
export { benchDecoder } from './bench/lm';
export { benchRl } from './bench/rl';
export * from './plots';
