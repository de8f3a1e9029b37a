// Public API of the temperature policies (π_φ of Introspective LLM and the baselines): see registry.ts for the names.
export * from './types';
export { ControllerConfig, DEFAULT_CONTROLLER_CONFIG, resolveControllerConfig, TampoScope } from './config';
export { CONTROLLER_NAMES, ControllerName, categoricalTauSet, createController } from './registry';
export { HeadController, HeadInput } from './head-controller';
export { minMaxDistribution, nucleus, sparsemax, TampoController } from './tampo';
export { EadController, eadDecay, eadTau } from './ead';
export { EdtController, edtTau } from './edt';
export { FixedController } from './fixed';
export { logBetaDensity, Z_EPS } from './beta';
export { lgamma, lgammaNumber, stopGradient } from './special';
export { sampleBeta, sampleBernoulli, sampleLogGamma } from './random';
export { tokenEntropy, distributionFeatures, NUM_FEATURES } from './features';
