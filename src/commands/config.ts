// `introllm config`: the fully resolved experiment config of a preset, a config file, a method and --set values, as
// `train` would resolve it: every key with its value, what it means, and where the value came from (the kit's
// default, the preset, a line of the config file, --method or --set). Nothing is trained or loaded.
import type { Command } from '../cli';
import { ConfigKeyRow, ConfigOverride, describeConfig, resolveConfigSources, ResolvedConfig } from '../config';
import { METHOD_NAMES, methodOverride } from '../experiments/methods';
import { parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, setLayers } from './config-flags';

/** Resolves the config of `config`'s flags (the same layers, in the same order, as `train`). */
export function resolveFromFlags(argv: string[]): { resolved: ResolvedConfig; configFile?: string; json: boolean } {
  const f = parseFlags(argv, { ...CONFIG_FLAGS, method: { type: 'string' }, json: { type: 'boolean', default: false } });
  const inputs = configInputs(f);
  const overrides: ConfigOverride[] = [];
  if (f.method !== undefined) overrides.push({ source: `--method ${f.method}`, kind: 'method', value: methodOverride(f.method as string) });
  overrides.push(...setLayers(inputs));
  const resolved = resolveConfigSources({ preset: inputs.preset, configFile: inputs.configFile, overrides });
  return { resolved, configFile: inputs.configFile, json: f.json === true };
}

/** The --json form: the resolved config (as a run's config.json holds it) and every key's value, source and meaning. */
export function configJson(resolved: ResolvedConfig, rows: ConfigKeyRow[], configFile?: string): Record<string, unknown> {
  return {
    preset: resolved.preset ?? null,
    config_file: configFile ?? null,
    config: resolved.config,
    keys: Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source.label, source_kind: r.source.kind, description: r.description }])),
  };
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && (indent + line + ' ' + word).length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** The text form: a line per key (key = value  [source]) and its description below it. */
export function configText(resolved: ResolvedConfig, rows: ConfigKeyRow[], configFile?: string): string {
  const head = [
    `# preset ${resolved.preset ?? "(none: the kit's defaults)"}${configFile ? `, config file ${configFile}` : ''}`,
    '# each value comes from the last of: default < preset < config file < --method < --set',
    '',
  ];
  const body = rows.flatMap((r) => [`${r.key} = ${JSON.stringify(r.value)}  [${r.source.label}]`, ...wrap(r.description, 118, '    ')]);
  return [...head, ...body].join('\n');
}

export const command: Command = {
  summary: "Print the fully resolved config of a preset, config file and --set values: each key's value, meaning and source.",
  usage:
    `introllm config ${configUsage()} [--method ${METHOD_NAMES.join('|')}] [--json]\n\n` +
    "  Values are layered as `train` layers them: the kit's defaults < --preset (or the config file's `preset`) < --config FILE\n" +
    '  < --method < --set. Each key is printed with its value, its source (default, preset P, FILE:LINE, --method M, --set k=v)\n' +
    '  and what it means; --json prints {preset, config_file, config, keys: {key: {value, source, source_kind, description}}}.',
  async run(argv) {
    const { resolved, configFile, json } = resolveFromFlags(argv);
    const rows = describeConfig(resolved);
    console.log(json ? JSON.stringify(configJson(resolved, rows, configFile), null, 2) : configText(resolved, rows, configFile));
    return 0;
  },
};
