// The `introllm` command line: a thin dispatcher over src/commands/*, each a small module that parses its own
// flags with node:util parseArgs (unknown flags are errors) and calls library functions.
import * as fs from 'node:fs';
import { KitError } from './errors';
import { peakRssLine } from './io/rss';

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

// Commands are loaded lazily (require, not import(): the CLI runs as CommonJS through tsx) so that e.g. `verify`
// does not start a TF.js backend.
const load = (file: string) => async (): Promise<Command> => require(file).command as Command;
const COMMANDS: Record<string, () => Promise<Command>> = {
  logits: load('./commands/logits'),
  bench: load('./commands/bench'),
  sft: load('./commands/sft'),
  train: load('./commands/train'),
  config: load('./commands/config'),
  plan: load('./commands/plan'),
  reproduce: load('./commands/reproduce'),
  ablate: load('./commands/ablate'),
  select: load('./commands/select'),
  verify: load('./commands/verify'),
  eval: load('./commands/eval'),
  figures: load('./commands/figures'),
  convert: load('./commands/convert'),
  tokenize: load('./commands/tokenize'),
  headroom: load('./commands/headroom'),
  pack: load('./commands/pack'),
  tb: load('./commands/tb'),
  compare: load('./commands/compare'),
  'known-answer': load('./commands/known-answer'),
  instruments: load('./commands/instruments'),
};

export function registerCommand(name: string, load: () => Promise<Command>): void {
  COMMANDS[name] = load;
}

/** The registered command names, sorted. */
export function commandNames(): string[] {
  return Object.keys(COMMANDS).sort();
}

/** `introllm --help`: a line per registered command with its summary (each command module's `summary`). */
export async function helpText(): Promise<string> {
  const names = commandNames();
  const width = Math.max(...names.map((n) => n.length));
  const lines = await Promise.all(
    names.map(async (n) => {
      let summary: string;
      try {
        summary = (await COMMANDS[n]()).summary;
      } catch (e) {
        summary = `(its module did not load: ${(e as Error).message.split('\n')[0]})`;
      }
      return `  ${n.padEnd(width)}  ${summary}`;
    }),
  );
  return ['usage: introllm <command> [options]', '', 'commands:', ...lines, '', 'Run `introllm <command> --help` for the options of one command.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (process.env.INTROLLM_REPORT_PEAK_RSS) {
    process.on('exit', () => fs.writeSync(2, `${peakRssLine()}\n`));
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await helpText());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`introllm: unknown command '${name}'. Valid commands: ${Object.keys(COMMANDS).sort().join(', ')}`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${cmd.summary}\n\nusage: ${cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof KitError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`introllm ${name}: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}
