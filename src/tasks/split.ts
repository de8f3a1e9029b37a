// Train/test assignment for synthetic problems: a hash of the problem's canonical form (its mathematical content,
// not its wording) decides the split, so the two splits are disjoint by construction and stay so for any seed.
import { hashString } from '../rng';
import type { Split } from './types';

/** The share of canonical forms that belong to the test split. */
export const TEST_FRACTION = 0.2;

/** Which split a canonical form belongs to. */
export function splitOf(canonical: string): Split {
  // A second hash round decorrelates the split bit from the id hash below.
  const h = hashString(`split|${canonical}`);
  return h / 4294967296 < TEST_FRACTION ? 'test' : 'train';
}

/** A stable problem id: `<task>-<split>-<16 hex digits from two hashes of the canonical form>`. */
export function problemId(task: string, split: Split, canonical: string): string {
  const hex = (h: number) => h.toString(16).padStart(8, '0');
  return `${task}-${split}-${hex(hashString(canonical))}${hex(hashString(`id2|${canonical}`))}`;
}
