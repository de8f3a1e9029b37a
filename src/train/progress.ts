// Progress reporting: a bar with ETA on a terminal, plain lines (every `every` steps) otherwise. The ETA and its format
// are those of the long commands' live lines (src/io/progress.ts).
import { formatDuration, rateEta } from '../io/progress';

export class Progress {
  private readonly start = performance.now();
  private startStep: number;
  constructor(
    private readonly label: string,
    private readonly total: number,
    startStep: number,
    private readonly every = 1,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.startStep = startStep;
  }

  update(step: number, info: Record<string, number | string>): void {
    const done = step - this.startStep;
    const elapsed = (performance.now() - this.start) / 1000;
    const eta = rateEta(done, elapsed, this.total - step);
    const fmt = formatDuration;
    const fields = Object.entries(info)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(3)) : v}`)
      .join('  ');
    if (this.out.isTTY) {
      const width = 24;
      const filled = Math.round((step / this.total) * width);
      this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step}/${this.total} eta ${fmt(eta)}  ${fields}\x1b[K`);
      if (step === this.total) this.out.write('\n');
    } else if (step % this.every === 0 || step === this.total) {
      this.out.write(`${this.label} step ${step}/${this.total} (eta ${fmt(eta)})  ${fields}\n`);
    }
  }
}
