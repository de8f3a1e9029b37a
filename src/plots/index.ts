// The figures of the kit (src/plots): pure builders from results data (metrics.jsonl, summary.json, evaluation token
// traces, ablation tables) to plotly figure specs, the numbers behind the paper's interpretability claims, and the
// HTML/PNG writers.
export * from './types';
export * from './stats';
export * from './style';
export * from './token-class';
export * from './interpret';
export * from './english-classes';
export * from './training';
export * from './accuracy';
export * from './tau-views';
export * from './token-view';
export * from './headroom';
export * from './known-answer';
export * from './instruments';
export * from './render';
export * from './table';
export * from './context';
export * from './rows';
