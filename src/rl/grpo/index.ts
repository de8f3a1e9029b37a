// The GRPO building blocks: group advantages, loss aggregations, the clipped policy loss shared by the token
// and temperature policies, gradient clipping and per-group Adam with exact checkpointing. The trainer composes them.
export * from './advantages';
export * from './aggregation';
export * from './loss';
export * from './optim';
