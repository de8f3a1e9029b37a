// Train/validation/test assignment for synthetic problems: a hash of the problem's canonical form (its mathematical
// content, not its wording) decides the split, so the three splits are disjoint by construction and stay so for any
// seed. The validation split is a slice of the training distribution that training never draws (SFT and RL use
// 'train'): the place to choose hyperparameters and to measure a base model's headroom without touching 'test'.
import { hashString } from '../rng';
import type { Split } from './types';

/** The share of canonical forms that belong to the test split. */
export const TEST_FRACTION = 0.2;
/** The share of canonical forms that belong to the validation split (taken from what was 'train'; 'test' is unchanged). */
export const VALIDATION_FRACTION = 0.1;

/** Which split a canonical form belongs to. */
export function splitOf(canonical: string): Split {
  // A second hash round decorrelates the split bit from the id hash below.
  const u = hashString(`split|${canonical}`) / 4294967296;
  if (u < TEST_FRACTION) return 'test';
  return u < TEST_FRACTION + VALIDATION_FRACTION ? 'validation' : 'train';
}

/** A stable problem id: `<task>-<split>-<16 hex digits from two hashes of the canonical form>`. */
export function problemId(task: string, split: Split, canonical: string): string {
  const hex = (h: number) => h.toString(16).padStart(8, '0');
  return `${task}-${split}-${hex(hashString(canonical))}${hex(hashString(`id2|${canonical}`))}`;
}
