// The token classes of the "τ by token class" view live in src/tasks/token-class.ts (the in-range probe policy in
// src/policy uses them too, and src/policy is below src/plots); re-exported here for the figures.
export { classifyTokens, TOKEN_CLASSES, tokenClass } from '../tasks/token-class';
export type { TokenClass, TokenContext } from '../tasks/token-class';
