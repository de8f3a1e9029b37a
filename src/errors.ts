// User-facing errors. A KitError carries a message that names the file, line, field or tensor at fault;
// the CLI prints it without a stack trace. Anything else reaching the CLI is a bug and keeps its stack.

export class KitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KitError';
  }
}

/** Throws a KitError when `cond` is false. */
export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new KitError(typeof message === 'function' ? message() : message);
}
