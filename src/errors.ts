/**
 * Every failure vipdrill reports is a VipdrillError with a stable `code`. The CLI maps codes to exit
 * statuses: 0 pass, 1 a verdict failed, 2 could not decide or run.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'PREFLIGHT_FAILED'
  | 'SUBNET_OVERLAP'
  | 'ENGINE_FAILED'
  | 'IMAGE_BUILD_FAILED'
  | 'VM_FAILED'
  | 'TIMEOUT'
  | 'LAB_NOT_FOUND'
  | 'LAB_EXISTS'
  | 'EXEC_FAILED'
  | 'FAULT_FAILED'
  | 'TIMERS_MISMATCH'
  | 'SSH_FAILED'
  | 'SSH_HOST_KEY'
  | 'REMOTE_REFUSED'
  | 'VERDICT_FAILED';

export class VipdrillError extends Error {
  override name = 'VipdrillError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** 1 when a drill's verdict failed, 2 when vipdrill could not run or decide. */
  get exitCode(): number {
    return this.code === 'VERDICT_FAILED' ? 1 : 2;
  }
}

export interface ConfigIssue {
  file: string;
  path: string;
  message: string;
}

/** A topology, profile or scenario file that does not match its schema. Nothing was created. */
export class ConfigError extends VipdrillError {
  override name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super('CONFIG_INVALID', issues.map((i) => `${i.file}: ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n'));
  }
}

export interface MissingCapability {
  name: string;
  why: string;
  fix: string;
}

/** The host lacks something an engine needs; each entry says what to run to get it. */
export class PreflightError extends VipdrillError {
  override name = 'PreflightError';
  constructor(
    message: string,
    readonly missing: MissingCapability[],
  ) {
    super(
      'PREFLIGHT_FAILED',
      [message, ...missing.map((m) => `  - ${m.name}: ${m.why}\n    fix: ${m.fix}`)].join('\n'),
    );
  }
}

export class TimeoutError extends VipdrillError {
  override name = 'TimeoutError';
  constructor(
    readonly awaited: string,
    readonly lastState: string,
    readonly deadlineMs: number,
  ) {
    super('TIMEOUT', `timed out after ${(deadlineMs / 1000).toFixed(1)} s waiting for ${awaited}; last observed: ${lastState}`);
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
