import { listLabs } from '../src/lab/state.js';

/** The benches' command line: `--<name> <value>`, or undefined. */
export function benchArg(name: string): string | undefined {
  const args = process.argv.slice(2);
  return args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined;
}

/** The lab a bench runs on: `--lab <name>`, else the first lab that is up and idle. */
export function benchLab(): string | undefined {
  return benchArg('lab') ?? listLabs().find((l) => l.phase === 'ready')?.name;
}
