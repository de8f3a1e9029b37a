// Converts one normalised LaTeX scalar (no top-level commas, no `=`) into mathjs expression syntax, for the verifier's
// numeric and symbolic comparison: \frac, \sqrt[n], \binom, ^{...}, \cdot/\times/\div, \pi, \infty, Greek letters,
// trig/log functions with or without parentheses, \lfloor/\lceil, |x|, subscripted symbols (C_{1} → C_1).
// Adjacent letters are separate factors (LaTeX `xy` is x·y), except a letter applied to one token, `f(x)`, which is an
// opaque symbol; every symbol is emitted in parentheses so that mathjs
// never reads `x (x+1)` as a call of a function x. Anything it does not understand throws; latexToMath returns null then.

const FUNCS: Record<string, string> = {
  sin: 'sin',
  cos: 'cos',
  tan: 'tan',
  sec: 'sec',
  csc: 'csc',
  cot: 'cot',
  arcsin: 'asin',
  arccos: 'acos',
  arctan: 'atan',
  sinh: 'sinh',
  cosh: 'cosh',
  tanh: 'tanh',
  exp: 'exp',
  ln: 'log',
  log: 'log',
};

const GREEK = new Set([
  'alpha',
  'beta',
  'gamma',
  'delta',
  'epsilon',
  'varepsilon',
  'zeta',
  'eta',
  'theta',
  'vartheta',
  'iota',
  'kappa',
  'lambda',
  'mu',
  'nu',
  'xi',
  'rho',
  'sigma',
  'tau',
  'upsilon',
  'phi',
  'varphi',
  'chi',
  'psi',
  'omega',
  'Gamma',
  'Delta',
  'Theta',
  'Lambda',
  'Xi',
  'Sigma',
  'Upsilon',
  'Phi',
  'Psi',
  'Omega',
]);

const MULT = new Set(['cdot', 'times', 'ast']);
const MAX_DEPTH = 60;

class Converter {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly depth: number,
  ) {
    if (depth > MAX_DEPTH) throw new Error('too deep');
  }

  private sub(text: string): string {
    return new Converter(text, this.depth + 1).run();
  }

  private skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  /** A braced group's content, or a single character / command token, as raw LaTeX. */
  private rawArg(): string {
    this.skipSpace();
    const ch = this.s[this.i];
    if (ch === undefined) throw new Error('missing argument');
    if (ch === '{') {
      let depth = 0;
      for (let j = this.i; j < this.s.length; j++) {
        if (this.s[j] === '\\') {
          j++;
          continue;
        }
        if (this.s[j] === '{') depth++;
        else if (this.s[j] === '}' && --depth === 0) {
          const content = this.s.slice(this.i + 1, j);
          this.i = j + 1;
          return content;
        }
      }
      throw new Error('unbalanced braces');
    }
    if (ch === '\\') {
      const m = /^\\[a-zA-Z]+/.exec(this.s.slice(this.i));
      if (!m) throw new Error('bad command');
      this.i += m[0].length;
      return m[0];
    }
    this.i++;
    return ch;
  }

  /** The raw LaTeX argument of an unparenthesised function: up to a top-level + - = , or closing bracket. */
  private rawFnArg(): string {
    this.skipSpace();
    const start = this.i;
    let depth = 0;
    while (this.i < this.s.length) {
      const ch = this.s[this.i];
      if (ch === '\\') {
        const m = /^\\[a-zA-Z]+/.exec(this.s.slice(this.i));
        if (m && depth === 0 && this.i > start && (FUNCS[m[0].slice(1)] || MULT.has(m[0].slice(1)) || m[0] === '\\div')) break;
        this.i += m ? m[0].length : 2;
        continue;
      }
      if ('({['.includes(ch)) depth++;
      else if (')}]'.includes(ch)) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && '+-=,'.includes(ch) && this.i > start) break;
      this.i++;
    }
    const arg = this.s.slice(start, this.i);
    if (arg.trim() === '') throw new Error('missing function argument');
    return arg;
  }

  run(): string {
    const out: string[] = [];
    let absOpen = false;
    while (this.i < this.s.length) {
      const rest = this.s.slice(this.i);
      const ch = this.s[this.i];
      if (/\s/.test(ch)) {
        this.i++;
        out.push(' ');
        continue;
      }
      const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+(?![a-zA-Z]))?/.exec(rest);
      if (num) {
        this.i += num[0].length;
        if (this.s[this.i] === '_') throw new Error('base subscript');
        out.push(` ${num[0]} `);
        continue;
      }
      if (/[a-zA-Z]/.test(ch)) {
        this.i++;
        const name = `${ch}${this.subscript()}`;
        // Function notation `f(x)`, `I(0)`, `P(2)`: an opaque symbol, not the product f·x (which would make I(0) = 0).
        const call = /^\(\s*([a-zA-Z0-9]+)\s*\)/.exec(this.s.slice(this.i));
        if (call) {
          this.i += call[0].length;
          out.push(` (fn_${name}_${call[1]}) `);
        } else {
          out.push(` (${name}) `);
        }
        continue;
      }
      if (ch === '\\') {
        const m = /^\\([a-zA-Z]+)/.exec(rest);
        if (!m) throw new Error(`unsupported ${rest.slice(0, 2)}`);
        this.i += m[0].length;
        out.push(` ${this.command(m[1])} `);
        continue;
      }
      if (ch === '^') {
        this.i++;
        this.skipSpace();
        this.power(out);
        continue;
      }
      if (ch === '{' || ch === '(' || ch === '[') {
        this.i++;
        out.push('(');
        continue;
      }
      if (ch === '}' || ch === ')' || ch === ']') {
        this.i++;
        out.push(')');
        continue;
      }
      if (ch === '|') {
        this.i++;
        out.push(absOpen ? ')' : ' abs(');
        absOpen = !absOpen;
        continue;
      }
      if ('+-*/!'.includes(ch)) {
        this.i++;
        out.push(ch);
        continue;
      }
      throw new Error(`unsupported character ${ch}`);
    }
    if (absOpen) throw new Error('unbalanced |');
    return out.join('');
  }

  /** The exponent after `^` (already consumed), written onto `out`; it may take the base back off `out`. */
  private power(out: string[]): void {
    // `x^{1/3}`, `x^{\frac{2}{3}}`, `x^(1/3)`: a power with an odd root is the real root, as `\sqrt[3]{x}` is.
    const root = this.oddRootExponent();
    if (root) {
      const base = popOperand(out);
      if (base === null) throw new Error('missing base');
      out.push(` (nthRoot(${base}, ${root.q}))^(${root.p}) `);
      return;
    }
    // `x^(n+1)` keeps its parenthesised exponent; otherwise one braced group or token: `x^{n+1}`, `x^2`.
    out.push(this.s[this.i] === '(' ? '^' : `^(${this.sub(this.rawArg())})`);
  }

  /**
   * An exponent p/q in lowest terms with an odd q > 1 (`{1/3}`, `{-2/3}`, `{\frac{1}{3}}`, `{\frac13}`, `(1/3)`),
   * consumed; null (and nothing consumed) for any other exponent.
   */
  private oddRootExponent(): { p: number; q: number } | null {
    const look = this.s.slice(this.i, this.i + 40);
    if ((look[0] !== '{' && look[0] !== '(') || (!look.includes('/') && !look.includes('frac'))) return null;
    const m =
      /^(?:\{\s*(-?)\s*(?:(\d+)\s*\/\s*(\d+)|\\frac\s*(?:\{\s*(\d+)\s*\}|(\d))\s*(?:\{\s*(\d+)\s*\}|(\d)))\s*\}|\(\s*(-?)\s*(\d+)\s*\/\s*(\d+)\s*\))/.exec(
        look,
      );
    if (!m) return null;
    const num = Number(m[2] ?? m[4] ?? m[5] ?? m[9]);
    const den = Number(m[3] ?? m[6] ?? m[7] ?? m[10]);
    let g = num;
    for (let b = den; b !== 0;) [g, b] = [b, g % b];
    const [p, q] = [num / g, den / g];
    if (!Number.isSafeInteger(p) || !Number.isSafeInteger(q) || q % 2 === 0 || q === 1 || q > 99) return null;
    this.i += m[0].length;
    return { p: (m[1] || m[8]) === '-' ? -p : p, q };
  }

  /** `_1`, `_{12}`, `_{p}` after a letter: returns `_1` etc. (alphanumerics only), or ''. */
  private subscript(): string {
    if (this.s[this.i] !== '_') return '';
    this.i++;
    const raw = this.rawArg().replace(/[^a-zA-Z0-9]/g, '');
    if (!raw) throw new Error('empty subscript');
    return `_${raw}`;
  }

  private command(name: string): string {
    if (name === 'frac') {
      const a = this.sub(this.rawArg());
      const b = this.sub(this.rawArg());
      return `((${a})/(${b}))`;
    }
    if (name === 'sqrt') {
      this.skipSpace();
      let index: string | null = null;
      if (this.s[this.i] === '[') {
        const close = this.s.indexOf(']', this.i);
        if (close < 0) throw new Error('unbalanced [');
        index = this.sub(this.s.slice(this.i + 1, close));
        this.i = close + 1;
      }
      const a = this.sub(this.rawArg());
      return index === null ? `sqrt(${a})` : `nthRoot(${a}, ${index})`;
    }
    if (name === 'binom') {
      const a = this.sub(this.rawArg());
      const b = this.sub(this.rawArg());
      // With letters in it, `\binom{n}{k}` is n!/(k!(n−k)!) through the gamma function, so that it can be sampled at
      // non-integer points like the rest of an expression.
      if (/[a-zA-Z]/.test(a + b)) return `(gamma((${a})+1)/(gamma((${b})+1)*gamma((${a})-(${b})+1)))`;
      return `combinations(${a}, ${b})`;
    }
    if (MULT.has(name)) return '*';
    if (name === 'div') return '/';
    if (name === 'pi') return '(pi)';
    if (name === 'infty') return '(Infinity)';
    if (name === 'lfloor') return 'floor(';
    if (name === 'lceil') return 'ceil(';
    if (name === 'rfloor' || name === 'rceil') return ')';
    if (GREEK.has(name)) return `(g_${name}${this.subscript()})`;
    const fn = FUNCS[name];
    if (fn) return this.func(name, fn);
    throw new Error(`unsupported command \\${name}`);
  }

  /** `\sin x`, `\sin(x)`, `\sin^2 x`, `\log_2 8`, `\ln 2`. */
  private func(name: string, fn: string): string {
    let base: string | null = null;
    let power: string | null = null;
    for (let k = 0; k < 2; k++) {
      this.skipSpace();
      if (this.s[this.i] === '_' && name === 'log') {
        this.i++;
        base = this.sub(this.rawArg());
      } else if (this.s[this.i] === '^') {
        this.i++;
        power = this.sub(this.rawArg());
      }
    }
    this.skipSpace();
    let arg: string;
    if (this.s[this.i] === '(' || this.s[this.i] === '{') {
      const open = this.s[this.i];
      const close = open === '(' ? ')' : '}';
      let depth = 0;
      let j = this.i;
      for (; j < this.s.length; j++) {
        if (this.s[j] === open) depth++;
        else if (this.s[j] === close && --depth === 0) break;
      }
      if (j >= this.s.length) throw new Error('unbalanced function argument');
      arg = this.sub(this.s.slice(this.i + 1, j));
      this.i = j + 1;
    } else {
      arg = this.sub(this.rawFnArg());
    }
    const call = base === null ? `${fn}(${arg})` : `log(${arg}, ${base})`;
    return power === null ? call : `(${call})^(${power})`;
  }
}

/**
 * Removes the last operand from the converter's output (a symbol, a number, a parenthesised group or a call, which
 * may span several pieces) and returns it; null when there is none.
 */
function popOperand(out: string[]): string | null {
  let k = out.length - 1;
  while (k >= 0 && out[k].trim() === '') k--;
  let depth = 0;
  for (let j = k; j >= 0; j--) {
    for (const ch of out[j]) {
      if (ch === ')') depth++;
      else if (ch === '(') depth--;
    }
    if (depth === 0) {
      const operand = out.slice(j, k + 1).join('');
      if (!/[A-Za-z0-9)]/.test(operand) || /^\s*[-+*/^!]/.test(out[j])) return null;
      out.length = j;
      return operand;
    }
    if (depth < 0) return null;
  }
  return null;
}

/** mathjs syntax for a LaTeX scalar, or null when it uses something unsupported. Inputs over 2000 chars give null. */
export function latexToMath(latex: string): string | null {
  if (latex.length > 2000) return null;
  try {
    const out = new Converter(latex, 0).run().replace(/\s+/g, ' ').trim();
    return out.length > 0 ? out : null;
  } catch {
    return null;
  }
}
